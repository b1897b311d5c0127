"""4. and 5., around the complaint: action_ask_what_happened (a complaint that does not
say what went wrong yet) and action_note_detail (a detail given outside any question).
The complaint's other steps: actions/complaint.py.
"""

from typing import List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import page_answers
from actions.base import PlaybookAction
from actions.replies import person_button
from actions.severity import anger_signs
from actions.tracker import ASKED, language, last_response, latest_entity
from actions.triage import ask_which

# The bot's replies that already asked what went wrong: a detail given in answer to one
# is noted, and the question is not asked again in the same words.
ASKED_WHAT_HAPPENED = frozenset(
    {
        "utter_greet",
        "utter_clarify",
        "utter_general_complaint",
        "utter_ask_what_went_wrong",
        "utter_rephrase",
        "utter_detail_what_happened",
    }
)


class ActionAskWhatHappened(PlaybookAction):
    """A complaint that does not say what went wrong yet ("I'd like to make a
    complaint"), or a remedy asked for first ("I want a refund"): say sorry (or yes),
    ask what happened, and keep the wanted remedy to offer first. The answer is a
    complaint like any other."""

    def name(self) -> Text:
        return "action_ask_what_happened"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        buttons = [person_button(language(tracker))]
        wanted = latest_entity(tracker, "remedy")
        if wanted:
            dispatcher.utter_message(response="utter_remedy_needs_reason", buttons=buttons)
            return [SlotSet("wanted_remedy", wanted)]
        dispatcher.utter_message(response="utter_general_complaint", buttons=buttons)
        return []


class ActionNoteDetail(PlaybookAction):
    """A detail (an order number, an email, a phone) given outside any question: taken
    as part of the complaint in hand, never as the start of another conversation. Also a
    remedy asked for instead of answering "which of these?"."""

    def name(self) -> Text:
        return "action_note_detail"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        choices = tracker.get_slot("complaint_choices") or []
        if tracker.get_slot("complaint_check") == ASKED and choices:
            # A detail or a wish came instead of the answer to "which of these?": noted (a
            # detail's slot is set, a remedy is kept to offer first), and the same question
            # again, so the complaint is never asked twice.
            wanted = latest_entity(tracker, "remedy")
            if wanted:
                events = ask_which(dispatcher, choices, language(tracker), response="utter_wish_noted_which")
                return events + [SlotSet("wanted_remedy", wanted)]
            return ask_which(dispatcher, choices, language(tracker), response="utter_detail_noted_which")
        if await page_answers.answer_general_question(dispatcher, tracker):
            # "what's your phone number?" names a detail, so it reads as one being given,
            # but it is a question the help pages answer.
            return [SlotSet("complaint_check", None)]
        in_hand = tracker.get_slot("case_ref") and tracker.get_slot("complaint_type")
        if in_hand:
            dispatcher.utter_message(response="utter_detail_noted")
        elif anger_signs(tracker.latest_message.get("text") or ""):
            # "order 2207718 is a disaster": sorry, and what happened? (never a thank-you).
            dispatcher.utter_message(response="utter_clarify")
        elif last_response(tracker) in ASKED_WHAT_HAPPENED:
            # "Hi! Tell me what went wrong", then only an email: not "Thanks. What went
            # wrong?" as if it hadn't been asked.
            dispatcher.utter_message(response="utter_detail_noted_what_happened")
        else:
            dispatcher.utter_message(response="utter_detail_what_happened")
        return [SlotSet("complaint_check", None)]  # the rules read it
