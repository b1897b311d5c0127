"""The CSAT answer (actions/csat.py): a score nobody asked for is neither the case's nor
the owner's. (A score asked for: tests/actions/test_remedies.py, test_reporting.py.)"""

import time

from actions.csat import ActionRecordCsat
from tests.actions.helpers import entity, recorded, run, tracker


async def test_a_score_nobody_asked_for_is_no_csat(redis_url, domain, sender):
    since = time.time() - 1
    # "great service" or a bare "2" as a first message: thanked, asked what they need.
    dispatcher, events_set = await run(ActionRecordCsat(), tracker(sender, "great service", "rate"), domain)
    assert [m["response"] for m in dispatcher.messages] == ["utter_rating_unasked"]
    variants = domain["responses"]["utter_rating_unasked"]
    assert all([b["payload"] for b in v["buttons"]] == ["/request_human"] for v in variants)
    dispatcher, _ = await run(
        ActionRecordCsat(), tracker(sender, "2", "rate", [entity("rating", "2")]), domain
    )
    assert [m["response"] for m in dispatcher.messages] == ["utter_rating_unasked"]  # not "sorry"
    assert events_set == [] and await recorded(sender, since) == []  # nothing in the owner's CSAT
