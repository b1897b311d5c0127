"""Remedies (actions/remedies.py): the first offer, the alternatives after a no (never a
bare no), what the customer's answer means, and carrying out the one they take; against a
real Redis and the real domain and playbook."""

import json
import time
import uuid

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.complaint_resolve import ActionResolveComplaint
from actions.csat import ActionRecordCsat
from actions.orders import order_store
from actions.remedies import ActionApplyRemedy, ActionOfferAlternatives
from actions.store import get_redis
from contract import keys, memory
from nlu.details import extract_details
from tests.actions.helpers import (
    _resolved,
    entity,
    glasses,
    payloads,
    prove,
    render,
    responses,
    run,
    signed_in,
    slots_set,
    tracker,
)
from tests.shop import new_customer


async def test_accepting_an_offer_applies_it_and_closes_with_reference_thanks_and_csat(
    redis_url, domain, sender
):
    minh = glasses(redis_url)
    _, slots = await _resolved(sender, domain, minh, "complain_damaged")
    dispatcher, events = await run(
        ActionApplyRemedy(),
        tracker(sender, "yes please", "affirm", slots=slots, metadata=signed_in(minh)),
        domain,
    )
    # A replacement is the team's task (the playbook's default): promised, never "Done:".
    assert responses(dispatcher) == ["utter_remedy_promised", "utter_thanks_close", "utter_ask_csat"]
    promised = render(domain, dispatcher.messages[0], slots)
    assert promised == (
        "I've asked our team to send a replacement today; I'll message you here when it's on its "
        f"way. Your case reference is {slots['case_ref']}."
    )
    case = json.loads(await get_redis().get(keys.case(slots["case_ref"])))
    assert case["status"] == "remedy_in_progress" and case["applied_remedy"] == "replacement"
    assert case["tasks"] == [f"{slots['case_ref']}-replacement"]

    assert slots_set(events)["csat_asked"] is True
    slots = {**slots, **slots_set(events)}
    dispatcher, answered = await run(
        ActionRecordCsat(),
        tracker(sender, "/rate", "rate", [entity("rating", "5")], slots=slots, metadata=signed_in(minh)),
        domain,
    )
    assert responses(dispatcher) == ["utter_csat_thanks"]
    case = json.loads(await get_redis().get(keys.case(slots["case_ref"])))
    assert case["csat"] == 5
    assert slots_set(answered) == {"csat_asked": False}


async def test_declining_brings_concrete_alternatives_never_a_bare_no(redis_url, domain, sender):
    # 1,250,000 VND: a full refund is above the bot's limit.
    lan = new_customer(redis_url, tier="gold", orders=(("in_transit", 1_250_000),))
    _, slots = await _resolved(sender, domain, lan, "complain_delivery", text="my order is late, second time")
    assert slots["offered_remedies"] == ["reship_express", "refund_shipping"]
    dispatcher, events = await run(
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
    assert 'I can\'t grant "Full refund" on my own' in render(domain, dispatcher.messages[0], slots)
    alternatives = dispatcher.messages[1]["buttons"]
    assert 2 <= len(alternatives) <= 3 and alternatives[-1]["payload"] == "/request_human"
    one_left = len(alternatives) == 2
    assert responses(dispatcher) == [
        "utter_needs_colleague",
        "utter_alternative_single" if one_left else "utter_alternatives",
    ]
    answers = slots_set(events)["remedy_answers"]
    assert {"remedy": "reship_express", "answer": "declined"} in answers
    assert {"remedy": "refund", "answer": "requested; needs approval"} in answers


async def test_asking_for_an_allowed_remedy_offers_it(redis_url, domain, sender):
    # 480,000 VND is within the refund limit: the wanted refund is offered first.
    minh = glasses(redis_url)
    _, slots = await _resolved(sender, domain, minh, "complain_damaged", language="vi", text="hang bi vo")
    slots["offered_remedies"] = ["replacement"]
    dispatcher, events = await run(
        ActionOfferAlternatives(),
        tracker(
            sender,
            "ko can doi, tra tien lai cho toi",
            "deny",
            [entity("remedy", "refund")],
            slots=slots,
            language="vi",
            metadata=signed_in(minh),
        ),
        domain,
    )
    assert responses(dispatcher) == ["utter_alternatives"]
    assert dispatcher.messages[0]["buttons"][0]["payload"] == '/choose_remedy{"remedy": "refund"}'
    assert render(domain, dispatcher.messages[0], {**slots, "language": "vi"}).startswith("Dạ em hiểu")


async def test_declining_everything_hands_off(redis_url, domain, sender):
    lan = new_customer(redis_url, tier="gold", orders=(("delivered", 320_000),))
    _, slots = await _resolved(sender, domain, lan, "complain_wrong_item")
    slots["offered_remedies"] = ["exchange", "refund", "voucher_15"]
    dispatcher, _ = await run(
        ActionOfferAlternatives(), tracker(sender, "no", "deny", slots=slots, metadata=signed_in(lan)), domain
    )
    assert responses(dispatcher) == ["utter_handoff_no_options"]
    assert payloads(dispatcher)[0]["handoff"]["reason"] == "alternatives_declined"


async def test_a_cancellation_of_an_unshipped_order_cancels_it(redis_url, domain, sender):
    hoa = new_customer(redis_url, tier="silver", orders=(("processing", 650_000),))
    _, slots = await _resolved(sender, domain, hoa, "cancel_order")
    assert slots["offered_remedies"] == ["cancel"]
    dispatcher, _ = await run(
        ActionApplyRemedy(), tracker(sender, "yes", "affirm", slots=slots, metadata=signed_in(hoa)), domain
    )
    # `api` in the tests' playbook: the demo shop's order system cancels and refunds, then "Done:".
    assert responses(dispatcher)[0] == "utter_remedy_done"
    assert render(domain, dispatcher.messages[0], slots).startswith("Done: The order is cancelled")
    assert (await order_store().get_order(hoa.order.order_id)).status == "cancelled"
    refunds = await get_redis().hvals(keys.shop_refunds(hoa.order.order_id))
    assert refunds == [str(hoa.order.value)]


async def test_asking_in_words_for_the_family_of_the_offered_exchange_applies_the_exchange(
    redis_url, domain, sender
):
    # "doi hang" reads as the replacement family; a wrong-size complaint was offered the
    # shop's exchange, which is in that family: the exchange is what the customer gets.
    minh = glasses(redis_url)
    _, slots = await _resolved(
        sender, domain, minh, "complain_wrong_item", language="vi", text="giao nham size roi"
    )
    assert slots["offered_remedies"][0] == "exchange"
    dispatcher, events = await run(
        ActionApplyRemedy(),
        tracker(
            sender,
            "doi hang giup minh",
            "choose_remedy",
            [entity("remedy", "replacement")],
            slots=slots,
            language="vi",
            metadata=signed_in(minh),
        ),
        domain,
    )
    assert responses(dispatcher) == ["utter_remedy_promised", "utter_thanks_close", "utter_ask_csat"]
    assert slots_set(events)["applied_remedy"] == "exchange"


async def test_turning_the_offer_down_while_naming_its_family_asks_for_the_other_remedy(
    redis_url, domain, sender
):
    # Offered the shipping fee back (a refund-family remedy), "neither, I just want my
    # money back" means the full refund: never the declined shipping refund.
    lan = new_customer(redis_url, tier="gold", orders=(("in_transit", 1_250_000),))
    _, slots = await _resolved(sender, domain, lan, "complain_delivery")
    assert "refund_shipping" in slots["offered_remedies"]
    said = "neither, I just want my money back"
    found = extract_details(said)
    assert [e["value"] for e in found] == ["refund"]
    dispatcher, events = await run(
        ActionApplyRemedy(),
        tracker(sender, said, "choose_remedy", found, slots=slots, metadata=signed_in(lan)),
        domain,
    )
    assert "applied_remedy" not in slots_set(events)
    assert "utter_remedy_done" not in responses(dispatcher)
    assert "approv" in render(
        domain, dispatcher.messages[0], slots
    )  # a full refund this size needs a colleague


async def test_turning_down_one_offer_to_take_the_other_applies_the_one_named(redis_url, domain, sender):
    # Offered a replacement or a refund: "ko can doi, hoan tien" is the offered refund.
    minh = glasses(redis_url)
    _, slots = await _resolved(sender, domain, minh, "complain_damaged", language="vi")
    assert slots["offered_remedies"] == ["replacement", "refund"]
    said = "ko can doi, hoan tien cho minh"
    dispatcher, events = await run(
        ActionApplyRemedy(),
        tracker(
            sender,
            said,
            "choose_remedy",
            extract_details(said),
            slots=slots,
            language="vi",
            metadata=signed_in(minh),
        ),
        domain,
    )
    assert slots_set(events)["applied_remedy"] == "refund"


@pytest.mark.parametrize("intent", ["choose_remedy", "deny"])
async def test_refusing_one_offer_by_name_keeps_the_other_and_grants_nothing(
    redis_url, domain, sender, intent
):
    # Offered a replacement or a refund, "no, not a refund" is a no to the refund only:
    # nothing is carried out, the refund counts as declined, the replacement is offered again.
    minh = glasses(redis_url)
    _, slots = await _resolved(sender, domain, minh, "complain_damaged")
    assert slots["offered_remedies"] == ["replacement", "refund"]
    said = "no, not a refund"
    action = ActionApplyRemedy() if intent == "choose_remedy" else ActionOfferAlternatives()
    dispatcher, events = await run(
        action,
        tracker(sender, said, intent, extract_details(said), slots=slots, metadata=signed_in(minh)),
        domain,
    )
    set_now = slots_set(events)
    assert "applied_remedy" not in set_now and "utter_remedy_done" not in responses(dispatcher)
    assert set_now["remedy_answers"] == [{"remedy": "refund", "answer": "declined"}]
    offered = [b["payload"] for b in dispatcher.messages[0]["buttons"]]
    assert offered[0] == '/choose_remedy{"remedy": "replacement"}'
    assert '/choose_remedy{"remedy": "refund"}' not in offered
    # With one option left the question is yes or no, not "which would you prefer?".
    assert len(offered) == 2 and responses(dispatcher) == ["utter_alternative_single"]
    assert render(domain, dispatcher.messages[0], slots).endswith("Shall I go ahead?")


async def test_wanting_one_remedy_while_refusing_another_grants_the_one_wanted(redis_url, domain, sender):
    minh = glasses(redis_url)
    _, slots = await _resolved(sender, domain, minh, "complain_damaged", language="vi")
    said = "khong muon hoan tien ma muon doi hang"
    dispatcher, events = await run(
        ActionApplyRemedy(),
        tracker(
            sender,
            said,
            "choose_remedy",
            extract_details(said),
            slots=slots,
            language="vi",
            metadata=signed_in(minh),
        ),
        domain,
    )
    assert slots_set(events)["applied_remedy"] == "replacement"


async def test_a_voucher_into_the_shop_account_is_offered_only_to_a_verified_customer(
    redis_url, domain, sender
):
    # A late parcel whose owner never proved it ("I don't have it"): the bot knows no
    # account to put a voucher in, so a person takes over instead of a promise.
    slots = {"complaint_type": "complain_delivery", "order_id": "none", "order": None}
    dispatcher, events = await run(ActionResolveComplaint(), tracker(sender, "", "deny", slots=slots), domain)
    assert responses(dispatcher) == ["utter_handoff_not_proved"]
    assert payloads(dispatcher)[0]["handoff"]["reason"] == "order_not_proved"
    assert "offered_remedies" not in slots_set(events)
    # The same complaint from a signed-in customer: the voucher is theirs to have.
    hoa = new_customer(redis_url)
    dispatcher, events = await run(
        ActionResolveComplaint(),
        tracker(sender + "v", "", "deny", slots=slots, metadata=signed_in(hoa)),
        domain,
    )
    assert slots_set(events)["offered_remedies"] == ["voucher_15"]


async def test_paying_into_the_account_or_cancelling_needs_a_proof_younger_than_the_idle_time(
    redis_url, domain, monkeypatch
):
    from actions.detail_questions import ActionAskOrderContact
    from actions.details_form import ValidateComplaintDetailsForm

    sender = f"w{uuid.uuid4().hex[:12]}"
    thu = new_customer(redis_url, orders=(("in_transit", 480_000), ("processing", 650_000)))
    late, unshipped = thu.orders
    start, idle = time.time(), memory.idle_seconds()

    def at(seconds):
        monkeypatch.setattr("actions.customer.clock", lambda: start + seconds)

    async def offered(order, complaint):
        slots = {"complaint_type": complaint, "order_id": order.order_id, "severity": "low"}
        dispatcher, events = await run(
            ActionResolveComplaint(), tracker(sender, "", "inform", slots=slots), domain
        )
        return responses(dispatcher), slots_set(events).get("offered_remedies")

    at(0)
    await prove(sender, domain, late, thu.customer.email, entities=[entity("email", thu.customer.email)])
    at(60)
    said, offers = await offered(late, "complain_delivery")
    assert "utter_order_found" in said and offers == ["refund_shipping", "voucher_15"]
    at(idle - 60)  # a message keeps the session going ...
    assert (await offered(late, "complain_delivery"))[1] == ["refund_shipping", "voucher_15"]
    at(idle + 60)  # ... but the proof is older than the idle time now: no voucher
    said, offers = await offered(late, "complain_delivery")
    assert "utter_order_found" in said and offers == ["refund_shipping"]

    # Nor a cancellation: the form asks for the proof again, saying why.
    form = ValidateComplaintDetailsForm()
    slots = {"complaint_type": "cancel_order", "order_id": unshipped.order_id}
    assert await form.required_slots([], CollectingDispatcher(), tracker(sender, slots=slots), domain) == [
        "order_id",
        "order_contact",
    ]
    asked = CollectingDispatcher()
    await ActionAskOrderContact().run(asked, tracker(sender, slots=slots), domain)
    assert responses(asked) == ["utter_ask_order_contact_again"]
    assert "cancel" not in ((await offered(unshipped, "cancel_order"))[1] or [])
    email = thu.customer.email
    out = CollectingDispatcher()
    result = await form.validate_order_contact(
        email,
        out,
        tracker(sender, email, "inform", [entity("email", email)], slots={**slots, "order_contact": email}),
        domain,
    )
    assert responses(out) == ["utter_order_contact_verified"] and result["order_contact"] == "verified"
    assert (await offered(unshipped, "cancel_order"))[1] == ["cancel"]


def test_the_remedy_the_customer_names_is_the_one_meant_within_its_family():
    """The NLU's word for "đổi hàng" is the family it shares with a replacement: the
    customer who asked to exchange is told about the exchange, not "Send a replacement"."""
    from actions.playbook import shop_playbook
    from actions.remedies import meant

    family = shop_playbook().find("replacement")
    assert [r.id for r in family][:2] == ["replacement", "exchange"]
    for said in ("doi hang duoc ko shop", "đổi hàng được không ạ", "can I exchange it?"):
        assert meant(family, [], said=said).id == "exchange", said
    assert meant(family, [], said="I'd like a replacement").id == "replacement"
    assert meant(family, []).id == "replacement"  # nothing named: the playbook's order


async def test_nothing_to_offer_hands_off_without_saying_nothing_worked(redis_url, domain, sender):
    """A damaged item reported on an order still on its way: nothing the bot may offer.
    Not "I couldn't find something that works for you": nothing was offered."""
    lan = new_customer(redis_url, tier="gold", orders=(("in_transit", 320_000),))
    dispatcher, _ = await _resolved(sender, domain, lan, "complain_damaged")
    assert "utter_handoff_no_remedy" in responses(dispatcher)
    assert payloads(dispatcher)[-1]["handoff"]["reason"] == "no_remedy"
    [handoff] = [m for m in dispatcher.messages if m.get("response") == "utter_handoff_no_remedy"]
    assert "needs a colleague's decision" in render(domain, handoff, {"case_ref": "SR-ABCDEF"})
