"""A returning customer's open case picked back up, and how a case stands
(actions/cases.py).

How is my complaint going? (actions/cases.py ActionCaseStatus, and the proof first
asked by case_status_form), against a real Redis: a case's status is told to its verified
customer, or in the conversation that opened it, and to nobody else."""

import uuid

from rasa_sdk.executor import CollectingDispatcher

from actions.cases import ActionCaseStatus, ActionRecogniseCustomer, ActionResumeCase
from actions.complaint import ActionAcknowledgeComplaint
from actions.complaint_resolve import ActionResolveComplaint
from actions.details_form import ValidateCaseStatusForm, ValidateComplaintDetailsForm
from actions.store import get_redis
from contract import memory
from contract.identity import mask_email
from tests.actions.helpers import (
    earlier_case,
    entity,
    render,
    responses,
    run,
    signed,
    signed_in,
    slots_set,
    told,
    tracker,
    user_event,
)
from tests.shop import new_customer

FORM = ValidateCaseStatusForm()


async def complained(domain, owner, order, complaint="complain_damaged", **changes) -> dict:
    """The owner complained about `order` earlier, signed in: a stored case, then changed."""
    trk = tracker(
        f"earlier-{uuid.uuid4().hex[:8]}",
        "it arrived broken",
        complaint,
        [entity("order_id", order.order_id)],
        slots={"order_id": order.order_id},
        metadata=signed(owner.id),
    )
    _, events = await run(ActionAcknowledgeComplaint(), trk, domain)
    case = await memory.load_case(get_redis(), slots_set(events)["case_ref"])
    case = case.changed(order_id=order.order_id, **changes)  # resolving the complaint adds the order
    return await memory.save_case(get_redis(), case.customer_id, case)


async def ask(
    sender,
    domain,
    text="any update on my complaint?",
    entities=(),
    slots=None,
    metadata=None,
    language="en",
    history=None,
):
    trk = tracker(
        sender,
        text,
        "ask_case_status",
        list(entities),
        slots=slots,
        metadata=metadata,
        language=language,
        history=history,
    )
    return await run(ActionCaseStatus(), trk, domain)


async def test_a_stranger_is_told_nothing_about_any_case_and_asked_for_proof(redis_url, domain, sender):
    minh = new_customer(redis_url)
    case = await complained(domain, minh.customer, minh.order)
    dispatcher, events = await ask(
        sender,
        domain,
        f"any news on the case about order {minh.order.order_id}?",
        [entity("order_id", minh.order.order_id)],
    )
    assert responses(dispatcher) == ["utter_case_status_check"]
    assert slots_set(events) == {"status_check": "asked"}
    assert case.ref not in told(domain, dispatcher)
    # The form then wants the order and, once found, its email or phone.
    form_slots = {"order_id": minh.order.order_id, "status_check": "asked"}
    assert await FORM.required_slots(
        [], CollectingDispatcher(), tracker(sender, slots=form_slots), domain
    ) == ["order_id", "order_contact"]
    # Without proof (given up, or the lock) the answer says nothing of the case.
    dispatcher, events = await ask(
        sender, domain, "I don't have it", slots={**form_slots, "order_contact": "none"}
    )
    assert responses(dispatcher) == ["utter_case_status_unproved"]
    assert dispatcher.messages[0]["buttons"][0]["payload"] == "/request_human"
    assert case.ref not in told(domain, dispatcher) and slots_set(events) == {"status_check": None}


async def test_the_email_on_the_order_proves_it_and_the_status_follows(redis_url, domain, sender):
    minh = new_customer(redis_url)
    case = await complained(
        domain, minh.customer, minh.order, status="remedy_in_progress", applied_remedy="refund"
    )
    slots = {"order_id": minh.order.order_id, "status_check": "asked", "requested_slot": "order_contact"}
    proof = tracker(
        sender, minh.customer.email, "inform", [entity("email", minh.customer.email)], slots=slots
    )
    proved = await FORM.validate_order_contact(minh.customer.email, CollectingDispatcher(), proof, domain)
    assert proved["order_contact"] == "verified"
    assert (
        await FORM.required_slots(
            [], CollectingDispatcher(), tracker(sender, slots={**slots, **proved}), domain
        )
        == []
    )
    dispatcher, events = await ask(sender, domain, minh.customer.email, slots={**slots, **proved})
    assert responses(dispatcher) == ["utter_case_status_remedy"]
    said = told(domain, dispatcher)
    assert case.ref in said and minh.order.order_id in said and "refund is on its way" in said
    assert minh.customer.email not in said and minh.customer.phone not in said


async def test_a_signed_in_customer_is_told_at_once_about_the_case_they_name(redis_url, domain, sender):
    lan = new_customer(redis_url, orders=(("delivered", 480_000), ("in_transit", 300_000)))
    older = await complained(domain, lan.customer, lan.orders[0], status="handed_off")
    newer = await complained(domain, lan.customer, lan.orders[1], "complain_delivery")
    me = signed(lan.customer.id)
    # By its reference, even when it is not the newest.
    dispatcher, _ = await ask(
        sender, domain, f"status of {older.ref}?", [entity("case_ref", older.ref)], metadata=me
    )
    assert responses(dispatcher) == ["utter_case_status_handed_off"] and older.ref in told(domain, dispatcher)
    # By the order it is about, named while the form was not even needed.
    dispatcher, _ = await ask(
        sender + "b",
        domain,
        f"any news about order {lan.orders[0].order_id}",
        [entity("order_id", lan.orders[0].order_id)],
        metadata=me,
    )
    assert older.ref in told(domain, dispatcher)
    # Nothing named: the newest case still open.
    dispatcher, _ = await ask(sender + "c", domain, metadata=me)
    assert responses(dispatcher) == ["utter_case_status_open"] and newer.ref in told(domain, dispatcher)


async def test_a_case_an_agent_dealt_with_says_so_with_their_note_in_vietnamese(redis_url, domain, sender):
    lan = new_customer(redis_url)
    case = await complained(
        domain, lan.customer, lan.order, status="agent_handled", agent="Hoa", agent_note="đã gửi lại hàng mới"
    )
    dispatcher, _ = await ask(
        sender, domain, "khieu nai cua em sao roi", metadata=signed(lan.customer.id), language="vi"
    )
    assert responses(dispatcher) == ["utter_case_status_done"]
    said = told(domain, dispatcher, "vi")
    assert case.ref in said and "đã gửi lại hàng mới" in said and said.startswith("Em đã tìm thấy hồ sơ")


async def test_a_verified_customer_without_orders_or_cases_is_asked_what_happened(redis_url, domain, sender):
    thu = new_customer(redis_url, orders=())
    dispatcher, events = await ask(sender, domain, metadata=signed(thu.customer.id))
    assert responses(dispatcher) == ["utter_case_status_none"] and slots_set(events) == {"status_check": None}


async def test_a_verified_customer_without_cases_is_told_how_their_latest_order_stands(
    redis_url, domain, sender
):
    thu = new_customer(redis_url, orders=(("in_transit", 480_000), ("delivered", 300_000)))
    dispatcher, events = await ask(
        sender, domain, "any update on my order?", metadata=signed(thu.customer.id)
    )
    assert responses(dispatcher) == ["utter_case_status_order"] and slots_set(events) == {
        "status_check": None
    }
    said = told(domain, dispatcher)
    assert thu.orders[0].order_id in said and "in transit" in said and thu.orders[0].items["en"] in said
    assert thu.orders[1].order_id not in said


async def test_an_order_named_that_no_case_is_about_gets_its_own_status(redis_url, domain, sender):
    thu = new_customer(redis_url, orders=(("in_transit", 480_000), ("delivered", 300_000)))
    case = await complained(domain, thu.customer, thu.orders[0])
    asked = thu.orders[1].order_id
    dispatcher, _ = await ask(
        sender,
        domain,
        f"don {asked} sao roi",
        [entity("order_id", asked)],
        metadata=signed(thu.customer.id),
        language="vi",
    )
    said = told(domain, dispatcher, "vi")
    assert responses(dispatcher) == ["utter_case_status_order"]
    assert asked in said and "đã giao" in said and case.ref not in said
    # Someone else's order, named by a verified customer: nothing about it.
    other = new_customer(redis_url)
    dispatcher, _ = await ask(
        sender,
        domain,
        f"order {other.order.order_id}?",
        [entity("order_id", other.order.order_id)],
        metadata=signed(thu.customer.id),
    )
    assert responses(dispatcher) == ["utter_case_status_none"]
    assert other.order.items["en"] not in told(domain, dispatcher)


async def test_the_conversation_that_opened_a_case_is_told_without_proof(redis_url, domain, sender):
    # A guest complained in this very conversation: that case is theirs to ask about.
    _, events = await run(
        ActionAcknowledgeComplaint(), tracker(sender, "my parcel is late", "complain_delivery"), domain
    )
    ref = slots_set(events)["case_ref"]
    history = [user_event("my parcel is late", "complain_delivery")]
    dispatcher, _ = await ask(
        sender, domain, slots={"case_ref": ref, "complaint_type": "complain_delivery"}, history=history
    )
    assert responses(dispatcher) == ["utter_case_status_open"] and ref in told(domain, dispatcher)


async def test_a_returning_verified_customer_is_greeted_with_their_open_case_and_not_asked_again(
    redis_url, domain, sender
):
    lan = new_customer(redis_url, name="Lan", orders=(("in_transit", 1_250_000),))
    order_id = lan.order.order_id
    # First contact: a guest who proves the order is theirs with its email.
    trk = tracker(
        sender,
        f"my order {order_id} is late",
        "complain_delivery",
        [entity("order_id", order_id)],
        slots={"order_id": order_id},
    )
    _, ack = await run(ActionAcknowledgeComplaint(), trk, domain)
    slots = {**slots_set(ack), "order_id": order_id}
    from rasa_sdk.executor import CollectingDispatcher

    proved = await ValidateComplaintDetailsForm().validate_order_contact(
        lan.customer.email,
        CollectingDispatcher(),
        tracker(sender, lan.customer.email, "inform", [entity("email", lan.customer.email)], slots=slots),
        domain,
    )
    await run(ActionResolveComplaint(), tracker(sender, "", "inform", slots={**slots, **proved}), domain)

    # Next day, signed in on the shop's site.
    later = "w-" + sender
    trk = tracker(later, "/greet", "greet", metadata=signed_in(lan))
    dispatcher, events = await run(ActionRecogniseCustomer(), trk, domain)
    assert responses(dispatcher) == ["utter_welcome_back"]
    text = render(domain, dispatcher.messages[0], {"language": "en"})
    assert f"order {order_id}" in text and "open case SR-" in text and "Lan" in text
    open_case = slots_set(events)["open_case"]

    dispatcher, events = await run(
        ActionResumeCase(),
        tracker(later, "yes", "affirm", slots={"open_case": open_case}, metadata=signed_in(lan)),
        domain,
    )
    restored = slots_set(events)
    assert restored["order_id"] == order_id and restored["complaint_type"] == "complain_delivery"
    resumed = render(domain, dispatcher.messages[0], {"language": "en"})
    assert f"order {order_id}" in resumed and mask_email(lan.customer.email) in resumed
    assert lan.customer.email not in resumed

    # Complaining again: nothing is asked again, and it counts as a repeat contact.
    trk = tracker(
        later, "still not here", "complain_delivery", slots={"order_id": order_id}, metadata=signed_in(lan)
    )
    dispatcher, events = await run(ActionAcknowledgeComplaint(), trk, domain)
    slots = slots_set(events)
    assert slots["email"] == lan.customer.email and "repeat_contact" in slots["severity_reasons"]
    assert "utter_known_details" in responses(dispatcher)


async def test_a_new_customer_is_simply_greeted(redis_url, domain, sender):
    dispatcher, events = await run(ActionRecogniseCustomer(), tracker(sender, "hello", "greet"), domain)
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
    dispatcher, _ = await run(
        ActionRecogniseCustomer(),
        tracker(sender, "hi again", "greet", history=history, metadata=signed(lan.customer.id)),
        domain,
    )
    assert responses(dispatcher) == ["utter_greet"]
