"""What a customer says beside the complaint, and the repairs of a conversation (issue 26):

- a question about the shop, answered from its help pages (actions/knowledge.py), quoted
  with the page's title, or "I'm not sure" and a person; in the middle of a complaint,
  answered, and the complaint carries on where it was;
- "are you a bot?": a straight answer, with a person one tap away;
- thanks (or a greeting) while a question is open: a brief answer and the open question
  again, once: never "anything else?" and the question in one turn;
- taking back a request for a person ("never mind, you can help me"): the hub takes the
  conversation out of the queue (bot/core/conversations.py withdraw) and sends
  /cancel_handoff; the bot carries on where the complaint was;
- and the readings other actions make of the customer's words: a question, a request for
  a person inside a complaint, a correction, a wait, a question about being a bot.

The words are matched folded (no diacritics, lower case), in both languages.
"""

import re
from typing import Any, Dict, List, Optional, Sequence, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import PlaybookAction
from actions.cases import case_in_hand, update_case
from actions.customer import load_customer
from actions.knowledge import Found, knowledge, mask_spans
from actions.playbook import shop_playbook
from actions.replies import join_options, offer_buttons, person_button, text, yes_no_buttons
from actions.reporting import record_question
from actions.severity import anger_signs
from actions.tracker import (
    ASKED,
    REASKED,
    channel_of,
    known,
    language,
    latest_intent,
    offer_awaits_answer,
    user_events,
)
from actions.triage import read
from contract.case import HANDED_OFF, OPEN
from contract.text import fold

# --- reading the customer's words -------------------------------------------------------------


def _folded(text: str) -> str:
    return " ".join(re.findall(r"[^\W_]+|\?", fold(text)))


def _any(patterns: Sequence[str], text: str) -> bool:
    folded = _folded(text)
    return any(re.search(rf"(?<![^\W_]){p}(?![^\W_])", folded) for p in patterns)


QUESTION_OPENERS = (
    "how", "what", "whats", "when", "where", "wheres", "which", "who", "why", "is", "are", "do",
    "does", "did", "can", "could", "will", "would", "should", "may", "any", "lam sao", "cach nao",
)  # fmt: skip
QUESTION_WORDS = (
    r"\?", "bao lau", "bao nhieu", "may ngay", "may gio", "the nao", "nhu the nao", "ra sao",
    "lam sao", "duoc khong", "dc ko", "duoc ko", "dc khong", "o dau", "khi nao", "bang cach nao",
    "khong", "ko", "k", "hok", "hong", "nao", "gi", "chua", "ha", "a",
)  # fmt: skip


def is_question(text: str) -> bool:
    """Asked as a question: a "?", a question word first (how, what, can I, do you...), or
    a Vietnamese question word (bao lâu, thế nào, được không, ở đâu, ... không at the end)."""
    folded = _folded(text)
    if "?" in folded or any(re.match(rf"{w}\b", folded) for w in QUESTION_OPENERS):
        return True
    words = folded.split()
    tail = " ".join(words[-3:])
    return any(re.search(rf"(?<![^\W_]){w}(?![^\W_])", tail) for w in QUESTION_WORDS[:15]) or (
        bool(words) and words[-1] in ("khong", "ko", "k", "hok", "hong", "chua")
    )


# Words that tell of something gone wrong (a complaint), not a question about how things work.
PROBLEM_WORDS = (
    "still", "yet", "hasn t", "hasnt", "haven t", "havent", "didn t", "didnt", "never", "late",
    "broken", "broke", "damaged", "smashed", "wrong", "missing", "lost", "stopped", "not working",
    "doesn t work", "doesnt work", "twice", "where is my", "where s my", "wheres my", "disaster",
    "chua nhan", "chua toi", "chua ve", "chua thay", "van chua", "van khong", "tre", "hong roi",
    "bi vo", "vo roi", "sai", "nham", "thieu", "bi mat", "mat hang", "loi roi", "bi tru",
    "dau roi", "sao chua", "hai lan",
)  # fmt: skip


def tells_a_problem(text: str) -> bool:
    return _any(PROBLEM_WORDS, text)


BOT_QUESTION = (
    r"are you (a |an )?(bot|robot|machine|ai|human|real|person|real person)",
    r"(is|am) (this|i) (talking|chatting|speaking) (to|with) (a |an )?(bot|robot|machine|ai|human|real|person)",
    r"is this (a |an )?(bot|robot|chatbot|machine|ai|automated|real person|human)",
    r"(real|actual) (person|human)", r"(a )?(bot|robot|machine) or (a )?(human|person|real)",
    r"(human|person) or (a )?(bot|robot|machine)", r"chat ?bot",
    r"nguoi that", r"(nguoi|nguoi that) hay (la )?(may|bot|robot)", r"(may|bot|robot) hay (la )?nguoi",
    r"(ban|em|shop|ad|day) la (may|bot|robot|ai|chatbot|tro ly ao)", r"tra loi tu dong",
    r"(co phai|phai) (la )?(nguoi|may|bot|robot)", r"dang (noi chuyen|chat|nhan tin) voi (may|bot|robot|nguoi)",
)  # fmt: skip


def asks_if_bot(text: str) -> bool:
    """Whether the message asks if the customer is talking to a machine or a person."""
    return _any(BOT_QUESTION, text)


_PEOPLE = r"(real )?(person|human|someone|somebody|manager|supervisor|agent|operator|boss|staff member)"
PERSON_REQUEST = (
    rf"(talk|speak|chat) (to|with) (a |an |the |your |some )?{_PEOPLE}",
    rf"(get|give|put) me (through )?(to )?(a |an |the |your )?{_PEOPLE}",
    rf"(i )?(want|need|demand) (a |an |the |your |to (talk|speak) (to|with) (a |the |your )?)?{_PEOPLE}",
    r"put me through", r"let me (talk|speak) to",
    r"(cho|muon|can|xin) (em |minh |toi |tui |tao |t )?(gap|noi chuyen voi|lam viec voi) "
    r"(truc tiep )?(quan ly|nhan vien|nguoi|sep|cap tren|nv|ql|ban quan ly)",
    r"gap (quan ly|sep|cap tren|ql|nguoi that)", r"chuyen (cho |sang |qua )?(nhan vien|nguoi that|nv|quan ly)",
)  # fmt: skip


def asks_for_person(text: str) -> bool:
    """Whether the message asks for a person or a manager ("... cho gặp quản lý"), even
    inside a complaint; a person only mentioned ("the manager was rude") is not asked for."""
    return _any(PERSON_REQUEST, text)


WAIT_WORDS = (
    r"wait(ed|ing)?", "too long", "so long", "forever", "ages", "still not", "still hasn t",
    "still hasnt", "still haven t", "taking long", "delayed", "late", "hasn t arrived", "hasnt arrived",
    "doi lau", "cho lau", "lau qua", "lau vay", "lau the", "doi mai", "cho mai", "mai chua",
    "doi hoai", "cho hoai", "tre qua", "cham qua", "giao cham", "giao tre", "chua giao", "chua toi",
    "chua nhan duoc", "doi", "cho doi",
)  # fmt: skip


def mentions_wait(text: str) -> bool:
    """Whether the message gives a wait as its reason ("... vì đợi lâu quá rồi")."""
    return _any(WAIT_WORDS, text)


CORRECTION = (
    r"^(no|nope|nah|actually|sorry|oops|wait|khong|ko|k|hok|khong khong)\b",
    r"(it s|its|it is|that s|thats) not", r"(isn t|isnt|wasn t|wasnt) (late|broken|damaged|wrong)",
    r"not (late|broken|damaged|the wrong)", r"i (meant|mean)", "my mistake", "correction",
    r"(khong|ko|k|hok) phai", "nham", r"y (minh|em|toi|tui) la", "sai roi",
)  # fmt: skip


def corrects(text: str) -> bool:
    """Whether the message corrects what was said before ("no, it's not late, ...")."""
    return _any(CORRECTION, text)


# --- the help pages -----------------------------------------------------------------------------


def general_question(tracker: Tracker) -> bool:
    """A question about how things are done at the shop, not a problem told as a question:
    asked as a question, with no detail in it, not angry, no problem words, no person
    asked for ("how long does a refund take?", not "where is my refund??")."""
    said = tracker.latest_message.get("text") or ""
    details = [
        e
        for e in tracker.latest_message.get("entities") or []
        if e.get("entity") in ("order_id", "email", "phone")
    ]
    return (
        is_question(said)
        and not details
        and not anger_signs(said)
        and not tells_a_problem(said)
        and not asks_for_person(said)
        and not asks_if_bot(said)
    )


def find_answer(tracker: Tracker) -> Found:
    """The help pages' best section for the latest message, in the customer's language."""
    lang = language(tracker)
    said = tracker.latest_message.get("text") or ""
    masked = mask_spans(said, tracker.latest_message.get("entities") or [], lang)
    return knowledge().find(said, lang, masked)


async def answer_from_pages(
    dispatcher: CollectingDispatcher, tracker: Tracker, found: Found, say_not_sure: bool = True
) -> bool:
    """Quote the section with its page's title (True), or say the bot isn't sure and offer
    a person (`say_not_sure`; False either way). Every question is reported, answered or
    not, for the owner's report (which lists the ones without a good answer)."""
    lang = language(tracker)
    said = tracker.latest_message.get("text") or ""
    masked = mask_spans(said, tracker.latest_message.get("entities") or [], lang)
    section = found.section
    await record_question(
        tracker,
        question=masked[:300],
        answered=found.sure,
        page=section.page if section else None,
        section=section.heading if section else None,
        score=round(found.score, 3),
        language=lang,
        channel=channel_of(tracker),
    )
    if found.sure and section is not None:
        dispatcher.utter_message(response="utter_knowledge_answer", page=section.title, answer=section.text)
        return True
    if say_not_sure:
        dispatcher.utter_message(response="utter_knowledge_not_sure", buttons=[person_button(lang)])
    return False


# --- the open question, once more --------------------------------------------------------------


def open_offers(tracker: Tracker) -> List[str]:
    """The remedies offered and not answered yet."""
    answered = {a["remedy"] for a in tracker.get_slot("remedy_answers") or []}
    return [rid for rid in tracker.get_slot("offered_remedies") or [] if rid not in answered]


def reask(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
    """After an aside, the question that was open, asked once more (the details form asks
    its own question itself: nothing here). The one event says what was asked again
    (`reasked`: the rules send the customer's answer where it would have gone); the slots
    that say a question is open (complaint_check, item_check) are left as they are."""
    lang = language(tracker)
    if tracker.active_loop_name:
        return [SlotSet(REASKED, None)]
    choices = tracker.get_slot("complaint_choices") or []
    if tracker.get_slot("complaint_check") == ASKED and choices:
        complaints = shop_playbook().complaints
        buttons = [
            {"title": text(complaints[name].label, lang), "payload": f"/{name}"}
            for name in choices
            if complaints.get(name) and complaints[name].label
        ] + [{"title": text(shop_playbook().labels["something_else"], lang), "payload": "/deny"}]
        dispatcher.utter_message(response="utter_which_again", buttons=buttons)
        return [SlotSet(REASKED, "which")]
    if tracker.get_slot("item_check") == ASKED and known(tracker.get_slot("order_id")):
        dispatcher.utter_message(
            response="utter_item_check_again",
            order_id=tracker.get_slot("order_id"),
            buttons=yes_no_buttons(lang, no="another_order"),
        )
        return [SlotSet(REASKED, "item")]
    offers = [
        shop_playbook().remedies[rid] for rid in open_offers(tracker) if rid in shop_playbook().remedies
    ]
    if offers and offer_awaits_answer(tracker):
        dispatcher.utter_message(
            response="utter_offer_again" if len(offers) > 1 else "utter_offer_again_one",
            buttons=offer_buttons(offers, lang),
            options=join_options([text(r.offer, lang) for r in offers], lang),
        )
        return [SlotSet(REASKED, "offer")]
    return [SlotSet(REASKED, None)]


def question_open(tracker: Tracker) -> bool:
    """Whether the bot's last turn asked something the customer has not answered."""
    return bool(
        tracker.active_loop_name
        or (tracker.get_slot("complaint_check") == ASKED and tracker.get_slot("complaint_choices"))
        or tracker.get_slot("item_check") == ASKED
        or (open_offers(tracker) and offer_awaits_answer(tracker))
    )


# --- the actions ---------------------------------------------------------------------------------


class ActionAside(PlaybookAction):
    """ "Are you a bot?", thanks or a greeting: answered briefly, and any open question
    asked again once. Builds the help pages' index when the action server starts (the
    first action made that needs it), so the first question does not wait for it."""

    def __init__(self) -> None:
        super().__init__()
        knowledge()

    def name(self) -> Text:
        return "action_aside"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        intent = latest_intent(tracker)
        lang = language(tracker)
        pending = question_open(tracker)
        if intent == "out_of_scope":
            # After action_out_of_scope answered a question (or said it can't help): only
            # the open question again (data/rules/asides.yml).
            return reask(dispatcher, tracker)
        if intent == "ask_bot":
            dispatcher.utter_message(response="utter_i_am_a_bot", buttons=[person_button(lang)])
            if told_complaint(tracker) is not None:
                # "my parcel is late. am I talking to a bot?": the answer, then the complaint.
                return [SlotSet(REASKED, "complaint")]
        elif intent == "greet":
            dispatcher.utter_message(response="utter_greet_brief")
        elif pending:
            dispatcher.utter_message(response="utter_welcome_brief")
        else:
            dispatcher.utter_message(response="utter_you_are_welcome")
        return reask(dispatcher, tracker)


class ActionCancelHandoff(PlaybookAction):
    """The customer took back their request for a person while still in the queue (the
    hub has taken the conversation out of it and sends /cancel_handoff): say so, and
    carry on where the complaint was: its details form, the offer still open, or the
    complaint the request itself told ("my refund is late, I want to talk to someone")."""

    def name(self) -> Text:
        return "action_cancel_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        dispatcher.utter_message(response="utter_handoff_cancelled")
        if tracker.get_slot("case_ref"):
            case = await case_in_hand(tracker)
            if case.status == HANDED_OFF:
                await update_case(tracker, await load_customer(tracker), status=OPEN, handoff=None)
        if tracker.get_slot("complaint_type") and not tracker.get_slot("applied_remedy"):
            if tracker.get_slot("offered_remedies"):
                events = reask_after_handoff(dispatcher, tracker)
                if events:
                    return events
            return [SlotSet(REASKED, "form")]  # the details form carries on (or completes)
        if asked_complaint(tracker) is not None:
            return [SlotSet(REASKED, "complaint")]  # acknowledged now (action_acknowledge_complaint)
        dispatcher.utter_message(response="utter_what_can_i_do")
        return [SlotSet(REASKED, None)]


def reask_after_handoff(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
    """The offers still open when the customer asked for a person, offered again."""
    lang = language(tracker)
    offers = [
        shop_playbook().remedies[rid] for rid in open_offers(tracker) if rid in shop_playbook().remedies
    ]
    if not offers:
        return []
    dispatcher.utter_message(
        response="utter_offer_again" if len(offers) > 1 else "utter_offer_again_one",
        buttons=offer_buttons(offers, lang),
        options=join_options([text(r.offer, lang) for r in offers], lang),
    )
    return [SlotSet(REASKED, "offer")]


# The least a complaint type must weigh in the message that asked for a person, for the
# bot to take that message as the complaint once the request is taken back.
TOLD_AT_LEAST = 0.15
# The complaint types a request for a person sounds like by its words alone.
ASKING_SOUNDS_LIKE = ("complain_staff", "complain_wait")
# "Are you a bot?" that also tells a problem: its likeliest complaint type at least this,
# and problem words or the complaint types together at least TOLD_AT_LEAST.
TOLD_BESIDE_AT_LEAST = 0.05


def told_complaint(tracker: Tracker) -> Optional[Dict[str, Any]]:
    """The complaint a message read as something else also tells ("my parcel is late. am
    I talking to a bot?"), when no complaint is in hand: {"intent", "text"}; else None."""
    if (
        tracker.get_slot("complaint_type")
        and tracker.get_slot("case_ref")
        and not tracker.get_slot("applied_remedy")
    ):
        return None
    said = tracker.latest_message.get("text") or ""
    reading = read(tracker.latest_message)
    if reading.types and reading.types[0][1] >= TOLD_BESIDE_AT_LEAST:
        if tells_a_problem(said) or reading.complaint >= TOLD_AT_LEAST:
            return {"intent": reading.types[0][0], "text": said}
    return None


def asked_complaint(tracker: Tracker) -> Optional[Dict[str, Any]]:
    """The message that asked for a person, when it also told a complaint ("my refund is
    late, I want to talk to someone"): {"intent", "text"}; else None."""
    for event in reversed(user_events(tracker)):
        parse = event.get("parse_data") or {}
        if (parse.get("intent") or {}).get("name") == "cancel_handoff":
            continue
        said = event.get("text") or ""
        types = read(parse).types
        if asks_for_person(said):
            # Asking for a person names staff and waiting ("cho gặp nhân viên"): what the
            # message complains of is the other type it reads as, if any.
            types = [(name, p) for name, p in types if name not in ASKING_SOUNDS_LIKE]
        if types and types[0][1] >= TOLD_AT_LEAST:
            return {"intent": types[0][0], "text": said}
        return None
    return None
