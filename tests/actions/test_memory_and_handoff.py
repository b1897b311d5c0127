"""Customer memory across conversations and channels, and the handoff packet."""

import json

from contract import keys
from actions.complaint import ActionAcknowledgeComplaint, ActionResolveComplaint
from actions.cases import ActionRecogniseCustomer, ActionResumeCase
from actions.fallbacks import ActionNluFallback
from actions.handoff import ActionHandoff
from contract import memory
from contract.case import Case
from contract.handoff import read_packet
from actions.store import get_redis
from actions.details_form import ValidateComplaintDetailsForm
from contract.identity import mask_email
from tests.actions.helpers import (
    entity, payloads, render, responses, run, slots_set, tracker, user_event,
)
from tests.shop import new_customer


async def test_verifying_merges_the_guest_record_and_keeps_every_ttl(redis_url, sender):
    redis = get_redis()
    guest = await memory.guest(redis, sender)
    assert await memory.guest(redis, sender) == guest  # one record per conversation
    await memory.save_case(redis, guest, Case(conversation_id=sender, status="open"))
    shop_id = f"T-{sender}"
    known = await memory.link_verified(redis, [("shop", shop_id)], {"email": f"{sender}@example.test"})
    await memory.save_case(redis, known, Case(conversation_id="earlier", status="open"))
    # The conversation proves who it is: its guest case joins the customer's record.
    joined = await memory.link_verified(redis, [("shop", shop_id), ("email", f"{sender}@EXAMPLE.test")],
                                        {"email": f"{sender}@example.test"}, sender_id=sender)
    assert joined == known != guest
    assert len(await memory.cases_of(redis, joined)) == 2
    assert await redis.get(keys.identity("sender", sender)) == joined
    assert not await redis.exists(keys.customer(guest), keys.customer_cases(guest))
    for key in (keys.identity("sender", sender), keys.identity("email", f"{sender}@example.test"),
                keys.customer(joined), keys.customer_cases(joined), keys.customer_identities(joined)):
        assert 0 < await redis.ttl(key) <= memory.retention(), key


async def _complaint_then_offer(sender, domain, customer, metadata):
    order_id = customer.order.order_id
    trk = tracker(sender, f"my order {order_id} is late", "complain_delivery",
                  [entity("order_id", order_id)], slots={"order_id": order_id}, metadata=metadata)
    _, ack = await run(ActionAcknowledgeComplaint(), trk, domain)
    slots = {**slots_set(ack), "order_id": order_id}
    _, resolved = await run(ActionResolveComplaint(), tracker(
        sender, "", "inform", slots=slots, metadata=metadata), domain)
    return {**slots, **slots_set(resolved)}


def signed(customer):
    return {"channel": "web", "identity": {"channel_id": "w", "shop_customer": customer.customer.id}}


async def test_a_returning_verified_customer_is_greeted_with_their_open_case_and_not_asked_again(
        redis_url, domain, sender):
    lan = new_customer(redis_url, name="Lan", orders=(("in_transit", 1_250_000),))
    order_id = lan.order.order_id
    # First contact: a guest who proves the order is theirs with its email.
    trk = tracker(sender, f"my order {order_id} is late", "complain_delivery",
                  [entity("order_id", order_id)], slots={"order_id": order_id})
    _, ack = await run(ActionAcknowledgeComplaint(), trk, domain)
    slots = {**slots_set(ack), "order_id": order_id}
    from rasa_sdk.executor import CollectingDispatcher
    proved = await ValidateComplaintDetailsForm().validate_order_contact(
        lan.customer.email, CollectingDispatcher(), tracker(
            sender, lan.customer.email, "inform", [entity("email", lan.customer.email)], slots=slots), domain)
    await run(ActionResolveComplaint(), tracker(sender, "", "inform", slots={**slots, **proved}), domain)

    # Next day, signed in on the shop's site.
    later = "w-" + sender
    trk = tracker(later, "/greet", "greet", metadata=signed(lan))
    dispatcher, events = await run(ActionRecogniseCustomer(), trk, domain)
    assert responses(dispatcher) == ["utter_welcome_back"]
    text = render(domain, dispatcher.messages[0], {"language": "en"})
    assert f"order {order_id}" in text and "open case SR-" in text and "Lan" in text
    open_case = slots_set(events)["open_case"]

    dispatcher, events = await run(ActionResumeCase(), tracker(
        later, "yes", "affirm", slots={"open_case": open_case}, metadata=signed(lan)), domain)
    restored = slots_set(events)
    assert restored["order_id"] == order_id and restored["complaint_type"] == "complain_delivery"
    resumed = render(domain, dispatcher.messages[0], {"language": "en"})
    assert f"order {order_id}" in resumed and mask_email(lan.customer.email) in resumed
    assert lan.customer.email not in resumed

    # Complaining again: nothing is asked again, and it counts as a repeat contact.
    trk = tracker(later, "still not here", "complain_delivery", slots={"order_id": order_id},
                  metadata=signed(lan))
    dispatcher, events = await run(ActionAcknowledgeComplaint(), trk, domain)
    slots = slots_set(events)
    assert slots["email"] == lan.customer.email and "repeat_contact" in slots["severity_reasons"]
    assert "utter_known_details" in responses(dispatcher)


async def test_a_new_customer_is_simply_greeted(redis_url, domain, sender):
    dispatcher, events = await run(ActionRecogniseCustomer(), tracker(sender, "hello", "greet"), domain)
    assert responses(dispatcher) == ["utter_greet"] and events == []


async def test_handoff_packet_holds_the_full_context(redis_url, domain, sender):
    lan = new_customer(redis_url, tier="gold", orders=(("in_transit", 1_250_000),))
    order_id, email = lan.order.order_id, lan.customer.email
    slots = await _complaint_then_offer(sender, domain, lan, signed(lan))
    first, second = slots["offered_remedies"]
    slots["remedy_answers"] = [{"remedy": first, "answer": "declined"}]
    history = [user_event(f"my order {order_id} is late", "complain_delivery"),
               {"event": "bot", "text": "I'm sorry about a late order."}]
    trk = tracker(sender, "just put me through to a real person please", "request_human",
                  slots=slots, history=history, metadata=signed(lan))
    dispatcher, events = await run(ActionHandoff(), trk, domain)
    assert responses(dispatcher) == ["utter_handoff"]
    assert slots["case_ref"] in render(domain, dispatcher.messages[0], slots)
    packet = payloads(dispatcher)[0]["handoff"]
    assert read_packet(packet) is not None  # the contract's type, as the hub reads it
    assert packet["reason"] == "customer_asked" and packet["language"] == "en"
    # The hub's fields are the hub's to fill; the transcript stays with the hub.
    assert packet["conversation_id"] == "" and packet["channel"] == "" and "transcript" not in packet
    assert packet["intents"] == ["complain_delivery", "request_human"]
    assert packet["details"] == {"order_id": order_id, "email": email, "phone": lan.customer.phone}
    assert set(packet["details_trust"].values()) == {"verified"}
    assert packet["severity"]["level"] == slots["severity"]
    assert set(packet["severity"]["reasons"]) >= {"base", "gold_customer"}  # codes, not words
    assert packet["repeat_contact"] is bool(slots.get("repeat_contact"))
    assert packet["remedies"] == [{"remedy": first, "answer": "declined"},
                                  {"remedy": second, "answer": "no answer yet"}]
    assert f"Order {order_id}" in packet["summary"]["en"] and "asked for a person" in packet["summary"]["en"]
    assert "gold customer" in packet["summary"]["en"] and "khách hạng vàng" in packet["summary"]["vi"]
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
    # About the customer, in the third person, in both languages.
    assert packet["summary"]["en"].startswith("The customer got in touch about an item that arrived damaged")
    assert not any(word in packet["summary"][lang].lower().split()
                   for lang, word in (("en", "your"), ("en", "you"), ("vi", "anh/chị")))
    assert render(domain, dispatcher.messages[0], {"language": "vi", "case_ref": "x"}).startswith("Dạ vâng")


async def test_two_misunderstandings_in_a_row_bring_a_person(redis_url, domain, sender):
    dispatcher, _ = await run(ActionNluFallback(), tracker(sender, "blorp", "nlu_fallback"), domain)
    assert responses(dispatcher) == ["utter_rephrase"]
    history = [user_event("blorp", "nlu_fallback"), {"event": "bot", "text": "Sorry?"}]
    dispatcher, _ = await run(ActionNluFallback(), tracker(sender, "zzzt", "nlu_fallback", history=history), domain)
    assert responses(dispatcher) == ["utter_handoff_not_understood"]
    assert payloads(dispatcher)[0]["handoff"]["reason"] == "not_understood"


def test_the_agent_sees_what_was_asked_for_beyond_the_offers_as_well():
    from actions.handoff import remedies_and_answers
    trk = tracker("s", "hoan tien", "complain_refund", slots={
        "offered_remedies": ["priority_callback"],
        "remedy_answers": [{"remedy": "priority_callback", "answer": "declined"},
                           {"remedy": "refund", "answer": "requested; needs approval"}]})
    assert remedies_and_answers(trk) == [
        {"remedy": "priority_callback", "answer": "declined"},
        {"remedy": "refund", "answer": "requested; needs approval"}]
    trk = tracker("s", "", "inform", slots={"offered_remedies": ["refund"], "remedy_answers": []})
    assert remedies_and_answers(trk) == [{"remedy": "refund", "answer": "no answer yet"}]
