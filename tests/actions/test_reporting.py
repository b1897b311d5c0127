"""The action server's report events (actions/reporting.py, contract/events.py), written as the recovery flow
happens: the complaint, remedies offered / declined / accepted, the bot's resolution and
the CSAT answer. Real Redis, the real domain and the tests' playbook."""

import time

from actions.csat import ActionRecordCsat
from actions.remedies import ActionApplyRemedy, ActionOfferAlternatives
from tests.actions.helpers import _resolved, entity, glasses, recorded, run, signed_in, slots_set, tracker
from tests.shop import new_customer


def kinds(found):
    return [(e["kind"], e.get("score") or e.get("remedy") or e.get("type") or e.get("by")) for e in found]


async def test_a_complaint_the_bot_resolves_and_its_rating(redis_url, domain, sender):
    since = time.time() - 1
    minh = glasses(redis_url)
    _, slots = await _resolved(sender, domain, minh, "complain_damaged", language="vi")
    _, applied = await run(
        ActionApplyRemedy(),
        tracker(sender, "yes please", "affirm", slots=slots, metadata=signed_in(minh), language="vi"),
        domain,
    )
    slots = {**slots, **slots_set(applied)}
    await run(
        ActionRecordCsat(),
        tracker(
            sender,
            "/rate",
            "rate",
            [entity("rating", "4")],
            slots=slots,
            metadata=signed_in(minh),
            language="vi",
        ),
        domain,
    )
    found = await recorded(sender, since)
    assert kinds(found) == [
        ("complaint", "complain_damaged"),
        ("remedy", "replacement"),
        ("remedy", "refund"),
        ("remedy", "refund"),
        ("remedy", "replacement"),
        ("resolved", "bot"),
        ("task_made", "replacement"),
        ("csat", 4),
    ]
    # "yes" takes the first offer: the other one counts as declined.
    assert [e["outcome"] for e in found if e["kind"] == "remedy"] == [
        "offered",
        "offered",
        "declined",
        "accepted",
    ]
    complaint, csat = found[0], found[-1]
    assert complaint["channel"] == "web" and complaint["language"] == "vi" and complaint["since_last"] is None
    assert csat == {
        **csat,
        "score": 4,
        "complaint_type": "complain_damaged",
        "remedy": "replacement",
        "channel": "web",
        "language": "vi",
    }
    assert found[5]["duration"] >= 0 and found[5]["complaint_type"] == "complain_damaged"


async def test_declined_remedies_are_counted_once(redis_url, domain, sender):
    since = time.time() - 1
    lan = new_customer(redis_url, tier="gold", orders=(("in_transit", 1_250_000),))
    _, slots = await _resolved(sender, domain, lan, "complain_delivery", text="my order is late")
    _, answered = await run(
        ActionOfferAlternatives(), tracker(sender, "no", "deny", slots=slots, metadata=signed_in(lan)), domain
    )
    slots = {**slots, **slots_set(answered)}
    found = [e for e in await recorded(sender, since) if e["kind"] == "remedy"]
    declined = sorted(e["remedy"] for e in found if e["outcome"] == "declined")
    assert declined == sorted(slots["offered_remedies"][:2])
    offered = [e["remedy"] for e in found if e["outcome"] == "offered"]
    assert len(offered) == len(set(offered)) == len(slots["offered_remedies"])


async def test_a_remedy_asked_for_beyond_the_bots_limit_is_counted_for_the_owner(redis_url, domain, sender):
    since = time.time() - 1
    # 1,250,000 VND: a full refund is above the bot's limit.
    lan = new_customer(redis_url, tier="gold", orders=(("in_transit", 1_250_000),))
    _, slots = await _resolved(sender, domain, lan, "complain_delivery", text="my order is late")
    await run(
        ActionOfferAlternatives(),
        tracker(
            sender,
            "neither, I just want my money back",
            "deny",
            [entity("remedy", "refund")],
            slots=slots,
            metadata=signed_in(lan),
        ),
        domain,
    )
    found = [(e["remedy"], e["outcome"]) for e in await recorded(sender, since) if e["kind"] == "remedy"]
    assert ("refund", "needs_approval") in found
