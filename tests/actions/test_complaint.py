"""The complaint's steps (actions/complaint.py): acknowledge, resolve (the order look-up,
the lost parcel behind "delivered"), what happened, a detail noted; against a real Redis
and the real domain and playbook.

Each test has a customer and orders of its own (tests/shop.py), signed in on the shop's
site (the hub passes the verified shop id in the metadata), so the order is theirs."""

import json
import uuid

import pytest

from actions.complaint import ActionAcknowledgeComplaint
from actions.complaint_resolve import ActionResolveComplaint
from actions.complaint_turns import ActionAskWhatHappened, ActionNoteDetail
from actions.remedies import ActionApplyRemedy
from actions.store import get_redis
from contract import keys, memory, tasks
from tests.actions.helpers import (
    _resolved,
    acknowledge,
    answering_an_offer,
    entity,
    glasses,
    payloads,
    render,
    responses,
    run,
    signed_in,
    slots_set,
    tracker,
)
from tests.shop import new_customer


async def test_acknowledge_apologises_in_proportion_and_opens_a_case(redis_url, domain, sender):
    lan = new_customer(redis_url, tier="gold", orders=(("in_transit", 1_250_000),))
    order_id = lan.order.order_id
    dispatcher, events = await acknowledge(
        sender,
        domain,
        f"my order #{order_id} was meant to arrive on Monday, second time this happens",
        "complain_delivery",
        [entity("order_id", order_id)],
        slots={"order_id": order_id},
        metadata=signed_in(lan),
    )
    slots = slots_set(events)
    # late delivery (1) + repeat contact (1) + gold customer (1) = medium
    assert slots["severity"] == "medium"
    assert "repeat_contact" in slots["severity_reasons"] and "gold_customer" in slots["severity_reasons"]
    assert responses(dispatcher) == ["utter_apology_medium", "utter_repeat_contact", "utter_known_details"]
    assert "I'm really sorry your order hasn't reached you." in render(domain, dispatcher.messages[0], slots)
    case = json.loads(await get_redis().get(keys.case(slots["case_ref"])))
    assert case["status"] == "open" and case["complaint_type"] == "complain_delivery"
    assert await get_redis().ttl(keys.case(slots["case_ref"])) > 0


async def test_an_angry_customer_gets_a_stronger_apology(redis_url, domain, sender):
    calm, _ = await acknowledge(sender, domain, "the glass set arrived broken", "complain_damaged")
    angry, _ = await acknowledge(
        sender + "x", domain, "the glass set arrived broken, this is ridiculous!!!", "complain_damaged"
    )
    assert responses(calm) == ["utter_apology_medium"]
    assert responses(angry) == ["utter_apology_high"]


async def test_vietnamese_apology_renders_in_vietnamese(redis_url, domain, sender):
    dispatcher, events = await acknowledge(
        sender, domain, "hang giao toi bi vo het roi", "complain_damaged", language="vi"
    )
    text = render(domain, dispatcher.messages[0], {**slots_set(events), "language": "vi"})
    assert text.startswith("Em") and "hư hỏng" in text


async def test_resolve_looks_the_order_up_and_offers_two_remedies_and_a_person(redis_url, domain, sender):
    minh = glasses(redis_url)
    dispatcher, slots = await _resolved(sender, domain, minh, "complain_damaged")
    assert responses(dispatcher) == ["utter_order_found", "utter_offer_remedies"]
    found = render(domain, dispatcher.messages[0], slots)
    assert minh.order.order_id in found and minh.order.items["en"] in found and "delivered" in found
    assert slots["offered_remedies"] == ["replacement", "refund"]
    buttons = dispatcher.messages[1]["buttons"]
    assert [b["payload"] for b in buttons] == [
        '/choose_remedy{"remedy": "replacement"}',
        '/choose_remedy{"remedy": "refund"}',
        "/request_human",
    ]
    offer = render(domain, dispatcher.messages[1], slots)
    assert "send a replacement today" in offer and ", or refund the full amount" in offer


async def test_a_critical_case_goes_straight_to_a_person(redis_url, domain, sender):
    hoa = new_customer(redis_url, tier="silver", orders=(("delivered", 1_890_000),))
    order_id = hoa.order.order_id
    _, ack = await acknowledge(
        sender,
        domain,
        "the robot vacuum caught fire in my flat",
        "complain_defect",
        slots={"order_id": order_id},
        metadata=signed_in(hoa),
    )
    assert slots_set(ack)["severity"] == "critical"
    slots = {**slots_set(ack), "order_id": order_id}
    dispatcher, events = await run(
        ActionResolveComplaint(), tracker(sender, "", "inform", slots=slots, metadata=signed_in(hoa)), domain
    )
    assert responses(dispatcher) == ["utter_handoff"]
    packet = payloads(dispatcher)[0]["handoff"]
    assert packet["reason"] == "critical_severity"
    assert packet["order"]["order_id"] == order_id


async def test_a_complaint_that_names_no_problem_gets_a_general_apology_and_the_question(
    redis_url, domain, sender
):
    dispatcher, events = await run(
        ActionAskWhatHappened(),
        tracker(sender, "toi muon khieu nai", "complain_general", language="vi"),
        domain,
    )
    assert responses(dispatcher) == ["utter_general_complaint"]
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == ["/request_human"]
    assert render(domain, dispatcher.messages[0], {"language": "vi"}).startswith("Em rất tiếc")
    assert events == []  # nothing opened yet: the answer is the complaint


async def test_a_remedy_asked_for_first_is_offered_first_once_the_problem_is_told(redis_url, domain, sender):
    # "I want a refund" as the first message.
    dispatcher, events = await run(
        ActionAskWhatHappened(),
        tracker(sender, "I want a refund", "choose_remedy", [entity("remedy", "refund")]),
        domain,
    )
    assert responses(dispatcher) == ["utter_remedy_needs_reason"]
    assert slots_set(events) == {"wanted_remedy": "refund"}
    # Then "it arrived broken": a damaged complaint offers the replacement first, unless
    # the customer already said what they want.
    minh = glasses(redis_url)
    _, plain = await _resolved(sender + "p", domain, minh, "complain_damaged")
    assert plain["offered_remedies"] == ["replacement", "refund"]
    order_id = minh.order.order_id
    _, ack = await acknowledge(
        sender,
        domain,
        "it arrived broken",
        "complain_damaged",
        slots={"order_id": order_id, "wanted_remedy": "refund"},
        metadata=signed_in(minh),
    )
    slots = {**slots_set(ack), "order_id": order_id, "wanted_remedy": "refund"}
    _, resolved = await run(
        ActionResolveComplaint(), tracker(sender, "", "inform", slots=slots, metadata=signed_in(minh)), domain
    )
    assert slots_set(resolved)["offered_remedies"] == ["refund", "replacement"]


@pytest.mark.parametrize(
    "language, text, last_action",
    [
        ("vi", "hoan tien", "action_resolve_complaint"),
        ("en", "what about a refund?", "action_offer_alternatives"),
    ],
)
async def test_a_remedy_word_read_as_a_complaint_answers_the_open_offer(
    redis_url, domain, sender, language, text, last_action
):
    minh = glasses(redis_url)
    _, slots = await _resolved(sender, domain, minh, "complain_damaged", language=language)
    ranking = [("complain_refund", 0.6), ("choose_remedy", 0.35)]
    trk = answering_an_offer(
        sender, text, "complain_refund", ranking, slots, signed_in(minh), language, last_action
    )
    dispatcher, events = await run(ActionAcknowledgeComplaint(), trk, domain)
    # No new apology, no new case: the rules hand the message to action_apply_remedy.
    assert dispatcher.messages == [] and slots_set(events) == {"complaint_check": "remedy"}
    dispatcher, events = await run(ActionApplyRemedy(), trk, domain)
    assert responses(dispatcher)[0] == "utter_remedy_done"
    assert slots_set(events)["applied_remedy"] == "refund" and slots_set(events)["complaint_check"] is None


async def test_a_new_complaint_while_an_offer_is_open_is_still_a_complaint(redis_url, domain, sender):
    minh = glasses(redis_url)
    _, slots = await _resolved(sender, domain, minh, "complain_damaged")
    # The classifier has no doubt it is a complaint about a refund: a new complaint.
    sure = answering_an_offer(
        sender,
        "and my refund for last month never came",
        "complain_refund",
        [("complain_refund", 0.97), ("choose_remedy", 0.02)],
        slots,
        signed_in(minh),
    )
    dispatcher, events = await run(ActionAcknowledgeComplaint(), sure, domain)
    assert (
        responses(dispatcher)[0].startswith("utter_apology_") and slots_set(events)["complaint_check"] is None
    )
    # No offer open (the last turn asked for something else): a complaint too.
    asked = answering_an_offer(
        sender,
        "hoan tien",
        "complain_refund",
        [("complain_refund", 0.6), ("choose_remedy", 0.35)],
        slots,
        signed_in(minh),
        "vi",
        last_action="action_recognise_customer",
    )
    dispatcher, events = await run(ActionAcknowledgeComplaint(), asked, domain)
    assert responses(dispatcher)[0].startswith("utter_apology_")


async def test_an_earlier_case_about_something_else_is_no_repeat_contact(redis_url, domain, sender):
    async def complaint(customer, text, complaint_type, order):
        """A complaint acknowledged and resolved about `order` (the case keeps the order)."""
        dispatcher, events = await acknowledge(
            f"c-{uuid.uuid4().hex[:8]}",
            domain,
            text,
            complaint_type,
            slots={"order_id": order.order_id},
            metadata=signed_in(customer),
        )
        case = await memory.load_case(get_redis(), slots_set(events)["case_ref"])
        await memory.save_case(get_redis(), case.customer_id, case.changed(order_id=order.order_id))
        return dispatcher, slots_set(events)["severity_reasons"]

    def two_orders():
        return new_customer(redis_url, orders=(("in_transit", 400_000), ("delivered", 300_000)))

    # Another problem about another order: apologised for once, not "again".
    lan = two_orders()
    await complaint(lan, "my parcel is late", "complain_delivery", lan.orders[0])
    dispatcher, reasons = await complaint(
        lan, "the glasses arrived broken", "complain_damaged", lan.orders[1]
    )
    assert "repeat_contact" not in reasons and "utter_repeat_contact" not in responses(dispatcher)
    # The same order again (another type), or the same type again (another order): repeats.
    minh = two_orders()
    await complaint(minh, "my parcel is late", "complain_delivery", minh.orders[0])
    assert (
        "repeat_contact" in (await complaint(minh, "it came broken", "complain_damaged", minh.orders[0]))[1]
    )
    thu = two_orders()
    await complaint(thu, "my parcel is late", "complain_delivery", thu.orders[0])
    assert (
        "repeat_contact"
        in (await complaint(thu, "the other one is late too", "complain_delivery", thu.orders[1]))[1]
    )


@pytest.mark.parametrize(
    "text, intent, language",
    [
        ("what about a refund?", "complain_refund", "en"),  # read as a refund complaint, a choice close
        ("cho em tra tien lai di", "choose_remedy", "vi"),
    ],
)
async def test_a_remedy_asked_for_instead_of_answering_which_of_these_is_kept_and_the_question_comes_again(
    redis_url, domain, sender, text, intent, language
):
    from actions.complaint_turns import ActionNoteDetail

    slots = {"complaint_check": "asked", "complaint_choices": ["complain_defect", "complain_delivery"]}
    trk = answering_an_offer(
        sender,
        text,
        intent,
        [(intent, 0.6), ("choose_remedy" if intent != "choose_remedy" else "complain_refund", 0.35)],
        slots,
        None,
        language,
        last_action="action_acknowledge_complaint",
    )
    action = ActionAcknowledgeComplaint() if intent.startswith("complain_") else ActionNoteDetail()
    dispatcher, events = await run(action, trk, domain)
    assert responses(dispatcher) == ["utter_wish_noted_which"]
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == [
        "/complain_defect",
        "/complain_delivery",
        "/deny",
    ]
    assert slots_set(events) == {
        "complaint_check": "asked",
        "wanted_remedy": "refund",
        "complaint_choices": ["complain_defect", "complain_delivery"],
    }
    # One of the types offered, even with a remedy word in it, is the answer.
    answer = answering_an_offer(
        sender,
        "it stopped working, I want a refund",
        "complain_defect",
        [("complain_defect", 0.6), ("choose_remedy", 0.35)],
        slots,
        None,
        language,
        last_action="action_acknowledge_complaint",
    )
    dispatcher, events = await run(ActionAcknowledgeComplaint(), answer, domain)
    assert (
        responses(dispatcher)[0].startswith("utter_apology_") and slots_set(events)["complaint_check"] is None
    )


async def _resolve(sender, domain, customer, complaint, language="en"):
    meta = signed_in(customer)
    order_id = customer.order.order_id
    _, ack = await run(
        ActionAcknowledgeComplaint(),
        tracker(
            sender,
            "tracking says delivered but nothing arrived",
            complaint,
            slots={"order_id": order_id},
            language=language,
            metadata=meta,
        ),
        domain,
    )
    slots = {**slots_set(ack), "order_id": order_id}
    dispatcher, events = await run(
        ActionResolveComplaint(),
        tracker(sender, "", "inform", slots=slots, language=language, metadata=meta),
        domain,
    )
    return dispatcher, {**slots, **slots_set(events)}


async def test_delivered_but_not_received_is_a_lost_parcel_with_a_trace_and_resend_or_refund(
    redis_url, domain, sender
):
    thu = new_customer(redis_url, orders=(("delivered", 480_000),))
    dispatcher, slots = await _resolve(sender, domain, thu, "complain_delivery")
    assert responses(dispatcher) == ["utter_delivered_not_received", "utter_offer_remedies"]
    said = render(domain, dispatcher.messages[0], slots)
    assert (
        "marked as delivered by FastShip" in said
        and "asked our team to have FastShip trace the parcel" in said
    )
    assert thu.order.items["en"] in said
    assert slots["offered_remedies"] == ["reship_express", "refund"]  # not a generic voucher
    case = json.loads(await get_redis().get(keys.case(slots["case_ref"])))
    assert case["carrier_trace"] == "FastShip"
    # What the bot said it has asked for is a task for the team, due as the playbook says.
    trace = await tasks.get(get_redis(), f"{slots['case_ref']}-carrier_trace")
    assert case["tasks"] == [trace.id] and trace.status == "open" and trace.carrier == "FastShip"
    assert trace.order_id == thu.order.order_id and trace.customer.email == thu.customer.email
    assert trace.due_at - trace.created_at == pytest.approx(24 * 3600)
    assert trace.done_text == {}  # nothing to tell the customer when it is done


async def test_delivered_but_not_received_in_vietnamese(redis_url, domain, sender):
    thu = new_customer(redis_url, orders=(("delivered", 480_000),))
    dispatcher, slots = await _resolve(sender, domain, thu, "complain_delivery", language="vi")
    said = render(domain, dispatcher.messages[0], {**slots, "language": "vi"})
    assert "báo là đã giao" in said and "truy vết" in said


async def test_a_late_parcel_in_transit_is_not_a_lost_one(redis_url, domain, sender):
    thu = new_customer(redis_url, orders=(("in_transit", 480_000),))
    dispatcher, _ = await _resolve(sender, domain, thu, "complain_delivery")
    assert responses(dispatcher)[0] == "utter_order_found"


async def test_a_damaged_delivered_parcel_is_not_a_lost_one(redis_url, domain, sender):
    thu = new_customer(redis_url, orders=(("delivered", 480_000),))
    dispatcher, _ = await _resolve(sender, domain, thu, "complain_damaged")
    assert responses(dispatcher)[0] == "utter_order_found"


async def test_a_detail_mid_complaint_is_noted_never_a_new_conversation(redis_url, domain, sender):
    dispatcher, _ = await run(
        ActionNoteDetail(),
        tracker(
            sender,
            "1234567",
            "inform",
            slots={"case_ref": "SR-AAAAAA", "complaint_type": "complain_delivery"},
        ),
        domain,
    )
    assert responses(dispatcher) == ["utter_detail_noted"]
    dispatcher, _ = await run(ActionNoteDetail(), tracker(sender, "1234567", "inform"), domain)
    assert responses(dispatcher) == ["utter_detail_what_happened"]


async def test_a_detail_after_being_asked_what_went_wrong_is_noted_and_not_asked_the_same_way(
    redis_url, domain, sender
):
    """ "Hi! Tell me what went wrong", then only an email: the bot notes it and asks on
    with examples, never the same "what went wrong?" as if it hadn't asked."""
    greeted = {"event": "bot", "text": "Hi!", "metadata": {"utter_action": "utter_greet"}}
    mail = "lan@example.com"
    asked = tracker(sender, mail, "inform", [{"entity": "email", "value": mail}], history=[greeted])
    dispatcher, _ = await run(ActionNoteDetail(), asked, domain)
    assert responses(dispatcher) == ["utter_detail_noted_what_happened"]
    assert "noted" in render(domain, dispatcher.messages[0], {})


async def test_a_question_that_names_a_detail_is_answered_not_taken_as_one(redis_url, domain, sender):
    """ "what's your phone number?" is read as a detail given (inform: it names one), but
    no detail is in it: the help pages answer it, not "Thanks. What went wrong?"."""
    asked = tracker(sender, "what time can I phone the team?", "inform")  # the test pages'
    dispatcher, events = await run(ActionNoteDetail(), asked, domain)
    assert responses(dispatcher) == ["utter_knowledge_answer"]
    assert "08:00 to 22:00" in dispatcher.messages[0]["answer"]
    # A phone number given is still a detail noted.
    given = tracker(sender + "g", "0912 345 678", "inform", [{"entity": "phone", "value": "0912 345 678"}])
    dispatcher, _ = await run(ActionNoteDetail(), given, domain)
    assert responses(dispatcher) == ["utter_detail_what_happened"]
