"""Customer memory across conversations and channels, and the handoff packet."""

import json

from actions import keys, memory
from actions.complaint import ActionAcknowledgeComplaint, ActionResolveComplaint
from actions.customer import ActionRecogniseCustomer, ActionResumeCase
from actions.handoff import ActionHandoff, ActionNluFallback
from actions.store import get_redis
from tests.actions.helpers import (
    entity, payloads, render, responses, run, slots_set, tracker, user_event,
)


async def test_identities_join_one_customer_across_channels(redis_url, sender):
    redis = get_redis()
    first = await memory.resolve_customer(redis, memory.identities(sender, {"email": "a@example.com"}))
    await memory.save_case(redis, first, {"conversation_id": sender, "status": "open"})
    other = await memory.resolve_customer(redis, memory.identities("fb:" + sender, {}))
    assert other != first
    await memory.save_case(redis, other, {"conversation_id": "fb:" + sender, "status": "open"})
    # The Messenger customer gives the same email: both conversations are one customer now.
    joined = await memory.resolve_customer(
        redis, memory.identities("fb:" + sender, {"email": "A@example.com"}))
    assert joined == first
    assert len(await memory.cases_of(redis, joined)) == 2
    assert await redis.get(keys.identity("sender", "fb:" + sender)) == first
    assert 0 < await redis.ttl(keys.identity("email", "a@example.com")) <= keys.MEMORY_TTL


async def _complaint_then_offer(sender, domain, email):
    trk = tracker(sender, f"my order 1048213 is late, {email}", "complain_delivery",
                  [entity("order_id", "1048213"), entity("email", email)],
                  slots={"order_id": "1048213", "email": email})
    _, ack = await run(ActionAcknowledgeComplaint(), trk, domain)
    slots = {**slots_set(ack), "order_id": "1048213", "email": email}
    _, resolved = await run(ActionResolveComplaint(), tracker(sender, "", "inform", slots=slots), domain)
    return {**slots, **slots_set(resolved)}


async def test_a_returning_customer_is_greeted_with_their_open_case_and_not_asked_again(redis_url, domain, sender):
    email = f"{sender}@example.com"
    await _complaint_then_offer(sender, domain, email)

    # Next day, on another channel: only the email is given.
    later = "fb:" + sender
    trk = tracker(later, f"hi, it's about the parcel again, {email}", "greet",
                  [entity("email", email)], slots={"email": email})
    dispatcher, events = await run(ActionRecogniseCustomer(), trk, domain)
    assert responses(dispatcher) == ["utter_welcome_back"]
    text = render(domain, dispatcher.messages[0], {"language": "en"})
    assert "order 1048213" in text and "open case SR-" in text
    open_case = slots_set(events)["open_case"]

    dispatcher, events = await run(ActionResumeCase(), tracker(
        later, "yes", "affirm", slots={"email": email, "open_case": open_case}), domain)
    restored = slots_set(events)
    assert restored["order_id"] == "1048213" and restored["complaint_type"] == "complain_delivery"
    assert "order 1048213" in render(domain, dispatcher.messages[0], {"language": "en"})

    # Complaining again: the order number is not asked for, and it counts as a repeat.
    trk = tracker(later, "still not here", "complain_delivery", slots={"email": email})
    dispatcher, events = await run(ActionAcknowledgeComplaint(), trk, domain)
    slots = slots_set(events)
    assert slots["order_id"] == "1048213" and "repeat contact" in slots["severity_reasons"]
    assert "utter_known_details" in responses(dispatcher)


async def test_a_new_customer_is_simply_greeted(redis_url, domain, sender):
    dispatcher, events = await run(ActionRecogniseCustomer(), tracker(sender, "hello", "greet"), domain)
    assert responses(dispatcher) == ["utter_greet"] and events == []


async def test_handoff_packet_holds_the_full_context(redis_url, domain, sender):
    email = f"{sender}@example.com"
    slots = await _complaint_then_offer(sender, domain, email)
    slots["remedy_answers"] = [{"remedy": "reship_express", "answer": "declined"}]
    history = [user_event("my order 1048213 is late", "complain_delivery"),
               {"event": "bot", "text": "I'm sorry about a late order."}]
    trk = tracker(sender, "just put me through to a real person please", "request_human",
                  slots={**slots, "order": {"order_id": "1048213", "status": "in_transit",
                                            "items": {"en": "2 items", "vi": "2 món"}}},
                  history=history)
    dispatcher, events = await run(ActionHandoff(), trk, domain)
    assert responses(dispatcher) == ["utter_handoff"]
    assert slots["case_ref"] in render(domain, dispatcher.messages[0], slots)
    packet = payloads(dispatcher)[0]["handoff"]
    assert packet["reason"] == "customer_asked"
    assert packet["conversation_id"] == sender and packet["language"] == "en"
    assert packet["intents"] == ["complain_delivery", "request_human"]
    assert packet["details"] == {"order_id": "1048213", "email": email}
    assert packet["severity"]["level"] == slots["severity"] and packet["severity"]["reasons"]
    assert packet["remedies"] == [{"remedy": "reship_express", "answer": "declined"},
                                  {"remedy": "refund_shipping", "answer": "no answer yet"}]
    assert "Order 1048213" in packet["summary"]["en"] and "asked for a person" in packet["summary"]["en"]
    assert [line["from"] for line in packet["transcript"]] == ["customer", "bot", "customer"]
    case = json.loads(await get_redis().get(keys.case(slots["case_ref"])))
    assert case["status"] == "handed_off" and case["handoff"]["reason"] == "customer_asked"
    assert {"event": "active_loop", "name": None} in [
        {k: e.get(k) for k in ("event", "name")} for e in events]


async def test_vietnamese_handoff_summarises_in_both_languages(redis_url, domain, sender):
    trk = tracker(sender, "cho toi gap nhan vien", "request_human", language="vi",
                  slots={"complaint_type": "complain_damaged", "severity": "medium"})
    dispatcher, _ = await run(ActionHandoff(), trk, domain)
    packet = payloads(dispatcher)[0]["handoff"]
    assert set(packet["summary"]) == {"en", "vi"}
    assert packet["summary"]["vi"].startswith("Khách hàng liên hệ về món hàng bị hư hỏng")
    assert render(domain, dispatcher.messages[0], {"language": "vi", "case_ref": "x"}).startswith("Dạ vâng")


async def test_two_misunderstandings_in_a_row_bring_a_person(redis_url, domain, sender):
    dispatcher, _ = await run(ActionNluFallback(), tracker(sender, "blorp", "nlu_fallback"), domain)
    assert responses(dispatcher) == ["utter_rephrase"]
    history = [user_event("blorp", "nlu_fallback"), {"event": "bot", "text": "Sorry?"}]
    dispatcher, _ = await run(ActionNluFallback(), tracker(sender, "zzzt", "nlu_fallback", history=history), domain)
    assert responses(dispatcher) == ["utter_handoff_not_understood"]
    assert payloads(dispatcher)[0]["handoff"]["reason"] == "not_understood"
