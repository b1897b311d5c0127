"""Understanding (issue #10, items 5-7): "which of these?" when two complaint types are
close (actions/triage.py), and one gentle check when an item named is not on the order.
(The fallbacks: test_fallbacks.py; the lost parcel: test_complaint.py.)

Rankings are written out as the NLU gives them (intent_ranking); the thresholds are the
tests' playbook's (`understanding`), never numbers of the shop owner's file."""

from actions.complaint import ActionAcknowledgeComplaint
from actions.complaint_resolve import ActionResolveComplaint
from actions.complaint_turns import ActionNoteDetail
from actions.playbook import shop_playbook
from actions.triage import read
from tests.actions.helpers import (
    KNOBS,
    apart_pair,
    close_pair,
    entity,
    ranked_tracker,
    ranking,
    render,
    responses,
    run,
    signed_in,
    slots_set,
    tracker,
    user_event,
)
from tests.shop import new_customer

PLAYBOOK = shop_playbook()  # the tests' own (tests/conftest.py PLAYBOOK_PATH)


def test_complaint_is_the_sum_of_the_complaint_confidences():
    reading = read(
        {
            "intent": {"name": "nlu_fallback", "confidence": 0.4},
            "intent_ranking": ranking(
                ("nlu_fallback", 0.4),
                ("complain_wrong_item", 0.3),
                ("out_of_scope", 0.25),
                ("complain_damaged", 0.28),
            ),
        }
    )
    assert round(reading.complaint, 2) == 0.58
    assert reading.top_two() == ["complain_wrong_item", "complain_damaged"]


def test_a_general_complaint_counts_as_a_complaint_but_is_no_type_to_ask_about():
    reading = read(
        {
            "intent_ranking": ranking(
                ("complain_general", 0.5), ("complain_delivery", 0.2), ("greet", 0.2), ("complain_wait", 0.1)
            )
        }
    )
    assert round(reading.complaint, 2) == 0.8
    assert reading.top_two() == ["complain_delivery", "complain_wait"]


def test_close_types_are_unsure_and_apart_ones_are_not():
    assert read({"intent_ranking": close_pair()}).unsure_which(KNOBS)
    assert not read({"intent_ranking": apart_pair()}).unsure_which(KNOBS)
    # Close, but not clearly a complaint: complaint-vs-not comes first.
    low = KNOBS.complaint_at_least / 2.2
    assert not read(
        {
            "intent_ranking": ranking(
                ("out_of_scope", 0.5), ("complain_damaged", low), ("complain_defect", low)
            )
        }
    ).unsure_which(KNOBS)


async def test_close_types_get_a_general_apology_and_one_question_with_both_as_buttons(
    redis_url, domain, sender
):
    dispatcher, events = await run(
        ActionAcknowledgeComplaint(),
        ranked_tracker(
            sender, "the kettle came cracked and won't switch on", "complain_damaged", close_pair()
        ),
        domain,
    )
    assert responses(dispatcher) == ["utter_which_complaint"]
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == [
        "/complain_damaged",
        "/complain_defect",
        "/deny",
    ]
    assert [b["title"] for b in dispatcher.messages[0]["buttons"]][:2] == [
        PLAYBOOK.complaints["complain_damaged"].label["en"],
        PLAYBOOK.complaints["complain_defect"].label["en"],
    ]
    # No case, no apology for a type yet; the types kept to ask again if need be.
    assert slots_set(events) == {
        "complaint_check": "asked",
        "complaint_choices": ["complain_damaged", "complain_defect"],
    }
    assert render(domain, dispatcher.messages[0], {"language": "en"}).startswith("I'm sorry something")


async def test_the_question_is_asked_in_vietnamese(redis_url, domain, sender):
    dispatcher, _ = await run(
        ActionAcknowledgeComplaint(),
        ranked_tracker(sender, "am bi nut va ko bat duoc", "complain_damaged", close_pair(), language="vi"),
        domain,
    )
    assert [b["title"] for b in dispatcher.messages[0]["buttons"]] == [
        PLAYBOOK.complaints["complain_damaged"].label["vi"],
        PLAYBOOK.complaints["complain_defect"].label["vi"],
        PLAYBOOK.labels["something_else"]["vi"],
    ]
    assert render(domain, dispatcher.messages[0], {"language": "vi"}).startswith("Em rất tiếc")


async def test_apart_types_go_straight_to_the_apology(redis_url, domain, sender):
    dispatcher, events = await run(
        ActionAcknowledgeComplaint(),
        ranked_tracker(sender, "the kettle came cracked", "complain_damaged", apart_pair()),
        domain,
    )
    assert responses(dispatcher) == ["utter_apology_medium"]
    assert slots_set(events)["complaint_type"] == "complain_damaged"


async def test_the_answer_carries_on_as_that_complaint_with_the_first_message_s_tone(
    redis_url, domain, sender
):
    angry = "this is ridiculous!!! the kettle is cracked and dead"
    history = [user_event(angry, "complain_damaged"), {"event": "bot", "text": "Which of these?"}]
    dispatcher, events = await run(
        ActionAcknowledgeComplaint(),
        ranked_tracker(
            sender,
            "/complain_defect",
            "complain_defect",
            ranking(("complain_defect", 1.0)),
            history=history,
            slots={"complaint_check": "asked"},
        ),
        domain,
    )
    slots = slots_set(events)
    assert slots["complaint_type"] == "complain_defect" and slots["complaint_check"] is None
    # defect (base 1) + angry words and '!!!' in the first message (2): medium, as if it
    # had been recognised at once; the button alone would have been low.
    assert responses(dispatcher) == ["utter_apology_medium"]
    assert "your product isn't working as it should" in render(domain, dispatcher.messages[0], slots)
    calm_history = [user_event("the kettle is cracked", "complain_damaged"), history[1]]
    calm, _ = await run(
        ActionAcknowledgeComplaint(),
        ranked_tracker(
            sender + "c",
            "/complain_defect",
            "complain_defect",
            ranking(("complain_defect", 1.0)),
            history=calm_history,
            slots={"complaint_check": "asked"},
        ),
        domain,
    )
    assert responses(calm) == ["utter_apology_low"]


async def test_already_asked_it_never_asks_again(redis_url, domain, sender):
    history = [user_event("hmm", "complain_damaged"), {"event": "bot", "text": "Which of these?"}]
    dispatcher, _ = await run(
        ActionAcknowledgeComplaint(),
        ranked_tracker(
            sender,
            "it is cracked and it won't start",
            "complain_damaged",
            close_pair(),
            history=history,
            slots={"complaint_check": "asked"},
        ),
        domain,
    )
    assert responses(dispatcher) == ["utter_apology_medium"]


async def test_a_detail_instead_of_the_answer_is_noted_and_the_same_question_asked_again(
    redis_url, domain, sender
):
    asked = {"complaint_check": "asked", "complaint_choices": ["complain_damaged", "complain_delivery"]}
    for lang, said, opening in (
        ("en", "my number is 0900000001", "so that I get it right"),
        ("vi", "sdt 0900000001", "Cảm ơn anh/chị, em đã ghi nhận"),
    ):
        dispatcher, events = await run(
            ActionNoteDetail(),
            tracker(sender, said, "inform", [entity("phone", "0900000001")], slots=asked, language=lang),
            domain,
        )
        # Never "what went wrong?": the customer said that already.
        assert responses(dispatcher) == ["utter_detail_noted_which"]
        assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == [
            "/complain_damaged",
            "/complain_delivery",
            "/deny",
        ]
        assert slots_set(events) == asked
        assert opening in render(domain, dispatcher.messages[0], {"language": lang})

    # The answer that follows keeps the tone of the complaint, not of the detail.
    history = [
        user_event("this is ridiculous!!! the glasses came smashed", "complain_damaged"),
        {"event": "bot", "text": "Which of these?"},
        user_event("my number is 0900000001", "inform", [entity("phone", "0900000001")]),
        {"event": "bot", "text": "Noted. Which of these?"},
    ]
    dispatcher, _ = await run(
        ActionAcknowledgeComplaint(),
        ranked_tracker(
            sender,
            "/complain_damaged",
            "complain_damaged",
            ranking(("complain_damaged", 1.0)),
            history=history,
            slots=asked,
        ),
        domain,
    )
    assert responses(dispatcher)[0] == "utter_apology_high"  # damaged (2) + anger (2)

    # Outside the question, a detail is noted as before.
    dispatcher, _ = await run(ActionNoteDetail(), tracker(sender, "0900000001", "inform"), domain)
    assert responses(dispatcher) == ["utter_detail_what_happened"]


async def test_a_cancellation_is_never_asked_which_complaint_it_is(redis_url, domain, sender):
    ranks = ranking(("cancel_order", 0.4), ("complain_damaged", 0.35), ("complain_defect", 0.25))
    dispatcher, _ = await run(
        ActionAcknowledgeComplaint(),
        ranked_tracker(sender, "cancel it, it's probably broken anyway", "cancel_order", ranks),
        domain,
    )
    assert responses(dispatcher) == ["utter_cancel_intro"]


async def _resolve_named(sender, domain, customer, said, slots=None, intent="inform", history=None):
    meta = signed_in(customer)
    order_id = customer.order.order_id
    history = history or [
        user_event(said, "complain_delivery"),
        {"event": "action", "name": "action_acknowledge_complaint"},
    ]
    _, ack = await run(
        ActionAcknowledgeComplaint(),
        tracker(sender, said, "complain_delivery", slots={"order_id": order_id}, metadata=meta),
        domain,
    )
    all_slots = {**slots_set(ack), "order_id": order_id, **(slots or {})}
    dispatcher, events = await run(
        ActionResolveComplaint(),
        tracker(sender, "", intent, slots=all_slots, metadata=meta, history=history),
        domain,
    )
    return dispatcher, {**all_slots, **slots_set(events)}


async def test_an_item_named_that_is_not_on_the_order_gets_one_gentle_check(redis_url, domain, sender):
    thu = new_customer(redis_url, orders=(("delivered", 480_000),))  # items: "test item <tag>"
    dispatcher, slots = await _resolve_named(sender, domain, thu, "my kettle never arrived")
    assert responses(dispatcher) == ["utter_item_check"]
    said = render(domain, dispatcher.messages[0], slots)
    assert "you mentioned kettle" in said and thu.order.items["en"] in said and said.endswith("?")
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == ["/affirm", "/deny"]
    assert slots["item_check"] == "asked"
    assert not slots["offered_remedies"]  # nothing offered for what may be the wrong order
    # Once per complaint: resolving it again (e.g. after the form) does not ask again.
    again, _ = await run(
        ActionResolveComplaint(),
        tracker(
            sender,
            "",
            "inform",
            slots={**slots, "item_check": None},
            metadata=signed_in(thu),
            history=[
                user_event("my kettle never arrived", "complain_delivery"),
                {"event": "action", "name": "action_acknowledge_complaint"},
            ],
        ),
        domain,
    )
    assert responses(again)[0] == "utter_delivered_not_received"


async def test_an_item_on_the_order_or_none_named_is_not_checked(redis_url, domain, sender):
    thu = new_customer(redis_url, orders=(("delivered", 480_000),))
    dispatcher, _ = await _resolve_named(sender, domain, thu, "my parcel never arrived")
    assert responses(dispatcher)[0] == "utter_delivered_not_received"


async def test_yes_that_order_carries_on_and_is_never_checked_again(redis_url, domain, sender):
    thu = new_customer(redis_url, orders=(("delivered", 480_000),))
    history = [
        user_event("my kettle never arrived", "complain_delivery"),
        {"event": "action", "name": "action_acknowledge_complaint"},
    ]
    dispatcher, slots = await _resolve_named(
        sender,
        domain,
        thu,
        "my kettle never arrived",
        intent="affirm",
        slots={"item_check": "asked"},
        history=history,
    )
    assert responses(dispatcher) == ["utter_delivered_not_received", "utter_offer_remedies"]
    assert slots["item_check"] is None


async def test_another_order_forgets_this_one_for_the_form_to_ask(redis_url, domain, sender):
    thu = new_customer(redis_url, orders=(("delivered", 480_000),))
    dispatcher, slots = await _resolve_named(
        sender,
        domain,
        thu,
        "my kettle never arrived",
        intent="deny",
        slots={"item_check": "asked", "order_contact": "verified"},
    )
    assert responses(dispatcher) == []  # the details form asks for the order next
    assert slots["order_id"] is None and slots["order"] is None and slots["order_contact"] is None
    assert slots["item_check"] is None
