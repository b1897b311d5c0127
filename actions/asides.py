"""What a customer says beside the complaint, and the repairs of a conversation (issue 26):

- a question about the shop, answered from its help pages (actions/page_answers.py), quoted
  with the page's title, or "I'm not sure" and a person; in the middle of a complaint,
  answered, and the complaint carries on where it was;
- "are you a bot?": a straight answer, with a person one tap away;
- thanks (or a greeting) while a question is open: a brief answer and the open question
  again, once: never "anything else?" and the question in one turn;
- taking back a request for a person ("never mind, you can help me"): the hub takes the
  conversation out of the queue (bot/core/conversations.py withdraw) and sends
  /cancel_handoff; the bot carries on where the complaint was;
- the readings other actions make of the customer's words: actions/readings.py.
"""

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import PlaybookAction
from actions.cases import case_in_hand, update_case
from actions.customer import load_customer
from actions.knowledge import knowledge
from actions.playbook import shop_playbook
from actions.readings import asks_for_person, tells_a_problem
from actions.replies import join_options, offer_buttons, person_button, text, yes_no_buttons
from actions.tracker import (
    ANSWERED_ASIDE,
    ASKED,
    REASKED,
    known,
    language,
    latest_intent,
    offer_awaits_answer,
    user_events,
)
from actions.triage import read
from contract.case import HANDED_OFF, OPEN

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
        if intent == "out_of_scope" or tracker.get_slot("complaint_check") == ANSWERED_ASIDE:
            # After action_out_of_scope or action_acknowledge_complaint answered a question
            # (or said it can't help): only the open question again (data/rules/asides.yml).
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
