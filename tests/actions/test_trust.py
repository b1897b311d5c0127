"""Who may be recalled (contract/identity.py), row by row of the trust table, against a
real Redis: what the bot says (nothing stored is shown to someone who has not proved who
they are) and what is linked in Redis (only verified evidence links anything)."""

import time
import uuid

import pytest

from actions import memory as actions_memory
from contract import keys
from actions.complaint import ActionAcknowledgeComplaint, ActionNoteDetail, ActionResolveComplaint
from actions.cases import ActionRecogniseCustomer
from actions.details_form import ValidateComplaintDetailsForm
from actions.handoff import ActionHandoff
from actions.store import get_redis
from contract import memory
from contract.identity import mask_email, mask_phone
from tests.actions.helpers import (
    entity, payloads, render, responses, run, slots_set, tracker, user_event,
)
from tests.shop import new_customer

FORM = ValidateComplaintDetailsForm()


def said(domain, dispatcher, slots) -> str:
    return " ".join(render(domain, m, {**slots, **m}) for m in dispatcher.messages if m.get("response"))


def signed(customer_id: str) -> dict:
    return {"channel": "web", "identity": {"channel_id": "w-session", "shop_customer": customer_id}}


async def earlier_case(redis_url, domain, owner, order):
    """The owner complained before, signed in on the shop's site: a stored case."""
    sender = f"owner-{uuid.uuid4().hex[:8]}"
    trk = tracker(sender, "my parcel is late", "complain_delivery", [entity("order_id", order.order_id)],
                  slots={"order_id": order.order_id}, metadata=signed(owner.id))
    _, events = await run(ActionAcknowledgeComplaint(), trk, domain)
    return slots_set(events)["case_ref"]


async def test_a_stranger_citing_an_order_is_told_nothing_stored_and_linked_to_nobody(redis_url, domain, sender):
    lan = new_customer(redis_url, tier="gold", orders=(("in_transit", 1_250_000),))
    await earlier_case(redis_url, domain, lan.customer, lan.order)
    redis = get_redis()
    before = await redis.get(keys.identity("shop", lan.customer.id))

    trk = tracker(sender, f"parcel {lan.order.order_id} never arrived", "complain_delivery",
                  [entity("order_id", lan.order.order_id)], slots={"order_id": lan.order.order_id})
    dispatcher, events = await run(ActionAcknowledgeComplaint(), trk, domain)
    slots = {**slots_set(events), "order_id": lan.order.order_id}
    text = said(domain, dispatcher, slots)
    # No recall, no "again", no gold-customer treatment: the stranger is nobody we know.
    assert responses(dispatcher) == ["utter_apology_low"]
    assert lan.customer.phone not in text and lan.customer.email not in text and "again" not in text
    assert "gold_customer" not in slots["severity_reasons"]
    assert "repeat_contact" not in slots["severity_reasons"]
    # Linked to a guest record of its own, never to the order's customer.
    guest = await redis.get(keys.identity("sender", sender))
    assert guest and guest != before
    assert not await memory.is_verified(redis, guest)
    assert await redis.get(keys.identity("shop", lan.customer.id)) == before
    assert await redis.get(keys.identity("order", lan.order.order_id)) is None

    # The details form asks for proof before anything about the order is used.
    from rasa_sdk.executor import CollectingDispatcher
    needed = await FORM.required_slots([], CollectingDispatcher(), tracker(
        sender, slots={**slots, "complaint_type": "complain_delivery"}), domain)
    assert needed == ["order_id", "order_contact"]
    ask = render(domain, {"response": "utter_ask_order_contact"}, slots)
    assert lan.order.order_id in ask and "privacy" in ask and lan.order.items["en"] not in ask


async def test_a_stranger_with_another_customers_email_is_not_taken_for_them(redis_url, domain, sender):
    minh = new_customer(redis_url, name="Minh")
    await earlier_case(redis_url, domain, minh.customer, minh.order)
    redis = get_redis()
    email = minh.customer.email
    trk = tracker(sender, f"I can't log in, my email is {email}", "complain_account",
                  [entity("email", email)], slots={"email": email})
    dispatcher, events = await run(ActionAcknowledgeComplaint(), trk, domain)
    text = said(domain, dispatcher, slots_set(events))
    assert "utter_known_details" not in responses(dispatcher)
    assert minh.customer.phone not in text and mask_phone(minh.customer.phone) not in text
    assert not await memory.is_verified(redis, await redis.get(keys.identity("sender", sender)))

    # Asked for the order number, the stranger gives only the email: no order is looked up.
    from rasa_sdk.executor import CollectingDispatcher
    out = CollectingDispatcher()
    result = await FORM.validate_order_id(email, out, tracker(
        sender, email, "inform", [entity("email", email)], slots={"email": email}), domain)
    assert responses(out) == ["utter_order_id_number_needed"] and result["order_id"] is None
    assert minh.order.order_id not in said(domain, out, {})


async def prove(sender, domain, order, given, attempts=0, entities=()):
    from rasa_sdk.executor import CollectingDispatcher
    out = CollectingDispatcher()
    slots = {"order_id": order.order_id, "order_contact": given, "complaint_type": "complain_delivery",
             "detail_attempts": attempts}
    result = await FORM.validate_order_contact(given, out, tracker(
        sender, given, "inform", list(entities), slots=slots), domain)
    return out, result


async def test_the_order_and_its_email_verify_the_customer_and_unlock_the_order(redis_url, domain, sender):
    lan = new_customer(redis_url, tier="gold", orders=(("in_transit", 1_250_000),))
    await earlier_case(redis_url, domain, lan.customer, lan.order)
    redis = get_redis()
    out, result = await prove(sender, domain, lan.order, lan.customer.email.upper(),
                              entities=[entity("email", lan.customer.email.upper())])
    assert responses(out) == ["utter_order_contact_verified"]
    assert result["order_contact"] == "verified" and result["verified_order"] == lan.order.order_id
    # This conversation is now the verified customer's, with their earlier case.
    linked = await redis.get(keys.identity("sender", sender))
    assert linked == await redis.get(keys.identity("shop", lan.customer.id))
    assert await memory.is_verified(redis, linked)
    assert len(await memory.cases_of(redis, linked)) == 1
    assert 0 < await redis.ttl(keys.customer_cases(linked)) <= memory.retention()

    slots = {"order_id": lan.order.order_id, "complaint_type": "complain_delivery",
             "severity": "medium", "verified_order": lan.order.order_id}
    dispatcher, events = await run(ActionResolveComplaint(), tracker(sender, "", "inform", slots=slots), domain)
    assert responses(dispatcher)[0] == "utter_order_found"
    assert lan.order.items["en"] in render(domain, dispatcher.messages[0], slots)


async def test_a_phone_in_another_format_also_proves_it(redis_url, domain, sender):
    thu = new_customer(redis_url, phone="0912" + uuid.uuid4().int.__str__()[:6])
    international = "+84 " + thu.customer.phone[1:4] + " " + thu.customer.phone[4:]
    out, result = await prove(sender, domain, thu.order, international,
                              entities=[entity("phone", international)])
    assert result["order_contact"] == "verified"


async def test_two_wrong_answers_and_the_bot_carries_on_without_the_order(redis_url, domain, sender):
    lan = new_customer(redis_url)
    out, result = await prove(sender, domain, lan.order, "someone@example.com",
                              entities=[entity("email", "someone@example.com")])
    assert responses(out) == ["utter_order_contact_mismatch"]
    assert result == {"order_contact": None, "detail_attempts": 1}
    mismatch = render(domain, out.messages[0], {})
    assert lan.customer.email not in mismatch and mask_email(lan.customer.email) not in mismatch
    out, result = await prove(sender, domain, lan.order, "0900000000", attempts=1,
                              entities=[entity("phone", "0900000000")])
    assert responses(out) == ["utter_order_contact_given_up"]
    assert result == {"order_contact": "none", "detail_attempts": 0}
    assert not await memory.is_verified(get_redis(), await memory.guest(get_redis(), sender))

    # Carrying on: nothing about the order is shown or used; the agent gets it, marked claimed.
    slots = {"order_id": lan.order.order_id, "complaint_type": "complain_damaged", "severity": "medium",
             "order_contact": "none"}
    dispatcher, _ = await run(ActionResolveComplaint(), tracker(sender, "", "inform", slots=slots), domain)
    assert "utter_order_found" not in responses(dispatcher)
    packet = payloads(dispatcher)[0]["handoff"]  # no remedy fits a damaged item without its order
    assert packet["order"] is None and packet["claimed_order"]["order_id"] == lan.order.order_id
    assert packet["details_trust"] == {"order_id": "claimed"}
    assert packet["customer"]["verified"] is False and packet["customer"]["email"] == ""


@pytest.mark.parametrize("reply", ["any update?", "why do you need that", "co gi moi chua", "the order number is {order}"])
async def test_a_reply_with_no_contact_in_it_is_asked_for_again_and_counts_against_nothing(
        redis_url, domain, sender, reply):
    lan = new_customer(redis_url)
    reply = reply.format(order=lan.order.order_id)
    out, result = await prove(sender, domain, lan.order, reply)
    # Never "the email or phone you gave doesn't match": none was given.
    assert responses(out) == ["utter_order_contact_not_seen"]
    assert result == {"order_contact": None, "detail_attempts": 1}
    assert await get_redis().get(keys.order_proof_failures(lan.order.order_id)) is None
    assert lan.customer.email not in render(domain, out.messages[0], {})
    # The second such reply carries on without the order, as "I don't have it" does, but
    # says why (not "no problem", which answered nothing the customer said).
    out, result = await prove(sender, domain, lan.order, reply, attempts=1)
    assert responses(out) == ["utter_order_contact_not_given"]
    assert result == {"order_contact": "none", "detail_attempts": 0}
    assert await get_redis().get(keys.order_proof_failures(lan.order.order_id)) is None


async def test_a_contact_without_entities_is_still_checked(redis_url, domain, sender):
    lan = new_customer(redis_url)
    out, result = await prove(sender, domain, lan.order, "it's 0999 111 222")
    assert responses(out) == ["utter_order_contact_mismatch"]
    assert await get_redis().get(keys.order_proof_failures(lan.order.order_id)) == "1"


async def opening(sender, domain, order_id, text, contact_entity):
    """The form's first look at a complaint that named the order and a contact at once."""
    from rasa_sdk.executor import CollectingDispatcher
    out = CollectingDispatcher()
    trk = tracker(sender, text, "complain_delivery", [entity("order_id", order_id), contact_entity],
                  slots={"order_id": order_id, "complaint_type": "complain_delivery"})
    return out, await FORM.validate_order_id(order_id, out, trk, domain)


async def test_wrong_answers_for_one_order_across_conversations_lock_it_for_the_day(redis_url, domain, sender):
    from actions.details_form import MAX_PROOF_FAILURES
    lan = new_customer(redis_url)
    # Each new chat gets its two tries, but they all count against the order.
    for n in range(MAX_PROOF_FAILURES):
        out, _ = await prove(f"guess-{n}-{uuid.uuid4().hex[:6]}", domain, lan.order, f"09000000{n:02d}",
                             attempts=n % 2, entities=[entity("phone", f"09000000{n:02d}")])
        assert "utter_order_contact_verified" not in responses(out)
    # Now even the right answer is not checked, so the lock tells nothing about it.
    out, result = await prove(sender, domain, lan.order, lan.customer.phone,
                              entities=[entity("phone", lan.customer.phone)])
    assert responses(out) == ["utter_order_contact_locked"]
    assert result == {"order_contact": "none", "detail_attempts": 0}
    assert not await memory.is_verified(get_redis(), await memory.guest(get_redis(), sender))
    assert lan.customer.phone not in render(domain, out.messages[0], {})
    ttl = await get_redis().ttl(keys.order_proof_failures(lan.order.order_id))
    assert 0 < ttl <= keys.ORDER_PROOF_WINDOW
    # Another order is not locked by it.
    other = new_customer(redis_url)
    out, result = await prove(sender, domain, other.order, other.customer.email,
                              entities=[entity("email", other.customer.email)])
    assert result["order_contact"] == "verified"


async def test_a_contact_given_with_the_order_number_is_checked_at_once(redis_url, domain, sender):
    lan = new_customer(redis_url)
    order_id = lan.order.order_id
    out, result = await opening(sender, domain, order_id, f"order {order_id} is late, I'm {lan.customer.email}",
                                entity("email", lan.customer.email))
    assert responses(out) == ["utter_order_contact_verified"]  # never asked for what was just given
    assert result["order_id"] == order_id and result["verified_order"] == order_id
    assert await memory.is_verified(get_redis(), await memory.guest(get_redis(), sender))

    stranger = f"stranger-{uuid.uuid4().hex[:8]}"
    out, result = await opening(stranger, domain, order_id, f"don {order_id} chua toi, sdt 0900000001",
                                entity("phone", "0900000001"))
    # Said to be wrong, once; that explanation asks again, so the form's own question is skipped.
    assert responses(out) == ["utter_order_contact_mismatch"]
    assert result == {"order_id": order_id, "order_contact": None, "detail_attempts": 1}
    assert "verified_order" not in result
    assert not await memory.is_verified(get_redis(), await memory.guest(get_redis(), stranger))


async def test_a_contact_given_earlier_in_this_complaint_is_checked_when_the_form_starts(redis_url, domain, sender):
    minh = new_customer(redis_url)
    order_id, phone = minh.order.order_id, minh.customer.phone
    from rasa_sdk.executor import CollectingDispatcher

    def started(who, history):
        # "hang cua don N bi vo" -> which of these? -> "sdt ..." -> the button: the form starts.
        return tracker(who, "/complain_damaged", "complain_damaged", history=history,
                       slots={"order_id": order_id, "complaint_type": "complain_damaged"}, language="vi")
    complaint = user_event(f"hang cua don {order_id} bi vo", "complain_damaged", [entity("order_id", order_id)])
    detail = user_event(f"sdt {phone}", "inform", [entity("phone", phone)])
    out = CollectingDispatcher()
    result = await FORM.validate_order_id(order_id, out, started(sender, [complaint, detail]), domain)
    assert responses(out) == ["utter_order_contact_verified"] and result["verified_order"] == order_id

    # A contact from an earlier complaint, already resolved, is not this one's: asked as usual.
    other = f"other-{uuid.uuid4().hex[:8]}"
    resolved = {"event": "action", "name": "action_resolve_complaint"}
    out = CollectingDispatcher()
    result = await FORM.validate_order_id(order_id, out, started(other, [detail, resolved, complaint]), domain)
    assert out.messages == [] and result == {"order_id": order_id, "detail_attempts": 0, "order_contact": None}


async def test_a_shop_signed_customer_is_recalled_masked_and_never_asked_again(redis_url, domain, sender):
    lan = new_customer(redis_url, tier="gold", orders=(("in_transit", 1_250_000),))
    trk = tracker(sender, "I was charged twice", "complain_billing", metadata=signed(lan.customer.id))
    dispatcher, events = await run(ActionAcknowledgeComplaint(), trk, domain)
    slots = slots_set(events)
    assert "utter_known_details" in responses(dispatcher)
    text = said(domain, dispatcher, slots)
    assert mask_email(lan.customer.email) in text and mask_phone(lan.customer.phone) in text
    assert lan.customer.email not in text and lan.customer.phone not in text
    assert slots["email"] == lan.customer.email and "gold_customer" in slots["severity_reasons"]
    # Their own order needs no proof.
    from rasa_sdk.executor import CollectingDispatcher
    needed = await FORM.required_slots([], CollectingDispatcher(), tracker(
        sender, slots={"order_id": lan.order.order_id, "complaint_type": "complain_delivery"},
        metadata=signed(lan.customer.id)), domain)
    assert needed == ["order_id"]
    # Linked by the shop id; the widget session itself is not (a signed-out visitor is a guest).
    customer_id = await get_redis().get(keys.identity("shop", lan.customer.id))
    assert await memory.is_verified(get_redis(), customer_id)
    assert await get_redis().get(keys.identity("sender", sender)) != customer_id


async def test_a_forged_or_missing_signature_is_a_guest(redis_url, domain, sender):
    lan = new_customer(redis_url)
    await earlier_case(redis_url, domain, lan.customer, lan.order)
    # The hub passes shop_customer only when the signature checked out; without it:
    trk = tracker(sender, "hello", "greet", metadata={"channel": "web", "identity": {"channel_id": "x"}})
    dispatcher, events = await run(ActionRecogniseCustomer(), trk, domain)
    assert responses(dispatcher) == ["utter_greet"] and events == []


async def test_a_verified_customer_is_welcomed_back_once_at_the_start(redis_url, domain, sender):
    lan = new_customer(redis_url, name="Lan")
    ref = await earlier_case(redis_url, domain, lan.customer, lan.order)
    trk = tracker(sender, "/greet", "greet", metadata=signed(lan.customer.id))
    dispatcher, events = await run(ActionRecogniseCustomer(), trk, domain)
    assert responses(dispatcher) == ["utter_welcome_back"] and slots_set(events)["open_case"] == ref
    assert "Welcome back, Lan" in render(domain, dispatcher.messages[0], {})
    # Later in the same conversation, a greeting is only a greeting.
    history = [user_event("/greet", "greet"), {"event": "bot", "text": "Welcome back"}]
    dispatcher, _ = await run(ActionRecogniseCustomer(), tracker(
        sender, "hi again", "greet", history=history, metadata=signed(lan.customer.id)), domain)
    assert responses(dispatcher) == ["utter_greet"]


async def test_a_messenger_psid_keeps_its_own_history_and_shows_nothing_stored(redis_url, domain):
    psid = f"fb-{uuid.uuid4().hex[:10]}"
    meta = {"channel": "messenger", "identity": {"channel_id": psid[3:], "psid": psid[3:]}}
    first = tracker(psid, "my parcel is late", "complain_delivery", metadata=meta)
    await run(ActionAcknowledgeComplaint(), first, domain)
    # The same PSID writes again another day: a repeat contact, yet nothing is recalled.
    again = tracker(psid, "where is my parcel", "complain_delivery", metadata=meta,
                    history=[user_event("my parcel is late", "complain_delivery"),
                             {"event": "session_started", "timestamp": time.time()}])
    dispatcher, events = await run(ActionAcknowledgeComplaint(), again, domain)
    assert "repeat_contact" in slots_set(events)["severity_reasons"]
    assert "utter_known_details" not in responses(dispatcher)
    # Another PSID is somebody else.
    other = tracker(f"fb-{uuid.uuid4().hex[:10]}", "my parcel is late", "complain_delivery", metadata=meta)
    _, events = await run(ActionAcknowledgeComplaint(), other, domain)
    assert "repeat_contact" not in slots_set(events)["severity_reasons"]


async def test_two_strangers_citing_the_same_order_share_nothing(redis_url, domain):
    thu = new_customer(redis_url)
    first, second = (f"s-{uuid.uuid4().hex[:10]}" for _ in range(2))
    wrong = f"{uuid.uuid4().hex[:6]}@example.test"
    trk = tracker(first, f"order {thu.order.order_id} arrived broken, {wrong}", "complain_damaged",
                  [entity("order_id", thu.order.order_id), entity("email", wrong)],
                  slots={"order_id": thu.order.order_id, "email": wrong})
    await run(ActionAcknowledgeComplaint(), trk, domain)
    trk = tracker(second, f"order {thu.order.order_id} arrived broken", "complain_damaged",
                  [entity("order_id", thu.order.order_id)], slots={"order_id": thu.order.order_id})
    dispatcher, events = await run(ActionAcknowledgeComplaint(), trk, domain)
    slots = slots_set(events)
    text = said(domain, dispatcher, slots)
    assert wrong not in text and "again" not in text and "email" not in slots
    assert "repeat_contact" not in slots["severity_reasons"]
    redis = get_redis()
    assert await redis.get(keys.identity("email", wrong)) is None
    assert await redis.get(keys.identity("sender", first)) != await redis.get(keys.identity("sender", second))


async def test_a_detail_mid_complaint_is_noted_never_a_new_conversation(redis_url, domain, sender):
    dispatcher, _ = await run(ActionNoteDetail(), tracker(
        sender, "1234567", "inform", slots={"case_ref": "SR-AAAAAA", "complaint_type": "complain_delivery"}), domain)
    assert responses(dispatcher) == ["utter_detail_noted"]
    dispatcher, _ = await run(ActionNoteDetail(), tracker(sender, "1234567", "inform"), domain)
    assert responses(dispatcher) == ["utter_detail_what_happened"]


async def test_handoff_marks_each_detail_verified_or_claimed(redis_url, domain, sender):
    lan = new_customer(redis_url, tier="vip")
    slots = {"order_id": lan.order.order_id, "email": lan.customer.email, "phone": "0900000001",
             "complaint_type": "complain_damaged", "severity": "high"}
    dispatcher, _ = await run(ActionHandoff(), tracker(
        sender, "a person please", "request_human", slots=slots, metadata=signed(lan.customer.id)), domain)
    packet = payloads(dispatcher)[0]["handoff"]
    assert packet["customer"]["verified"] is True and packet["customer"]["verified_by"] == "shop_signature"
    assert packet["customer"]["email"] == lan.customer.email and packet["customer"]["tier"] == "vip"
    assert packet["details_trust"] == {"order_id": "verified", "email": "verified", "phone": "claimed"}


async def test_forgetting_a_customer_deletes_memory_identities_and_cases(redis_url, domain, sender):
    lan = new_customer(redis_url)
    ref = await earlier_case(redis_url, domain, lan.customer, lan.order)
    await prove(sender, domain, lan.order, lan.customer.email, entities=[entity("email", lan.customer.email)])
    redis = get_redis()
    customer_id = await redis.get(keys.identity("shop", lan.customer.id))
    erased = await actions_memory.forget(redis, lan.customer.phone)
    assert erased["customer_id"] == customer_id and erased["cases"] == 1
    assert sender in erased["conversations"]
    for key in (keys.identity("shop", lan.customer.id), keys.identity("email", lan.customer.email),
                keys.identity("sender", sender), keys.case(ref), keys.customer(customer_id),
                keys.customer_cases(customer_id), keys.customer_identities(customer_id)):
        assert not await redis.exists(key), key
    assert (await actions_memory.forget(redis, lan.order.order_id))["customer_id"] is None


@pytest.mark.parametrize("query", ["email", "order", "id"])
async def test_a_customer_can_be_forgotten_by_any_of_their_identities(redis_url, domain, query):
    lan = new_customer(redis_url)
    await earlier_case(redis_url, domain, lan.customer, lan.order)
    value = {"email": lan.customer.email, "order": lan.order.order_id, "id": lan.customer.id}[query]
    assert (await actions_memory.forget(get_redis(), value))["cases"] == 1
