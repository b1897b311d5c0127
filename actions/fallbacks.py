"""When the classifier gives up or puts a message outside the shop: a complaint whose
type is unclear gets "which of these?" (actions/triage.py), never "please rephrase" to an
angry customer; an angry message with nothing in it to go on ("😡😡😡") gets an apology
and "what happened?"; a person asked for is honoured at once; a question the shop's help
pages answer is answered from them (actions/page_answers.py), and one they don't answer well
gets "I'm not sure" and a person; not understood twice, a person takes over."""

from typing import List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import page_answers, readings
from actions.base import PlaybookAction
from actions.handoff import apologise_before_handoff, hand_off
from actions.playbook import shop_playbook
from actions.severity import anger_signs
from actions.tracker import ASKED, language, previous_intent
from actions.triage import ask_which, read, which_to_ask


class ActionNluFallback(PlaybookAction):
    """The classifier gave up. If the ranking still says "complaint", or the customer is
    clearly angry, ask once which complaint it is (never "please rephrase" to an angry
    customer); otherwise ask to rephrase. Not understood after that question, or twice
    in a row, and a person takes over."""

    def name(self) -> Text:
        return "action_nlu_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        # complaint_check is always set here: "asked" with the question, else cleared
        # (the rules read it).
        cleared = [SlotSet("complaint_check", None)]
        said = tracker.latest_message.get("text") or ""
        if readings.asks_for_person(said):
            apologise_before_handoff(dispatcher, tracker)
            return cleared + await hand_off(dispatcher, tracker, "customer_asked")
        if previous_intent(tracker) == "nlu_fallback" or tracker.get_slot("complaint_check") == ASKED:
            return cleared + await hand_off(dispatcher, tracker, "not_understood")
        knobs = shop_playbook().understanding
        if anger_signs(said) and not read(tracker.latest_message).is_complaint(knobs):
            # Angry, and nothing in it to go on: sorry, and what happened? (never "which of
            # these?" about two guesses, never "please rephrase").
            dispatcher.utter_message(response="utter_clarify")
            return cleared
        if await page_answers.answer_general_question(dispatcher, tracker):
            return cleared
        types = which_to_ask(tracker.latest_message, knobs)
        if types:
            return ask_which(dispatcher, types, language(tracker))
        if readings.is_question(said):
            found = page_answers.find_answer(tracker)
            if found.sure:
                await page_answers.answer_from_pages(dispatcher, tracker, found)
                return cleared
        dispatcher.utter_message(response="utter_rephrase")
        return cleared


class ActionOutOfScope(PlaybookAction):
    """Out of the shop's scope, as the classifier has it; but when the complaint types
    together outweigh that (or the customer is angry), it is a complaint whose type is
    unclear: a general apology and "which of these?" rather than "I can't help"."""

    def name(self) -> Text:
        return "action_out_of_scope"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        cleared: List[EventType] = [SlotSet("complaint_check", None)]  # the rules read it
        said = tracker.latest_message.get("text") or ""
        types = which_to_ask(tracker.latest_message, shop_playbook().understanding)
        if types and readings.asks_for_person(said):
            # A complaint that asks for a person: honoured at once, after the apology.
            apologise_before_handoff(dispatcher, tracker)
            return cleared + await hand_off(dispatcher, tracker, "customer_asked")
        if await page_answers.answer_general_question(dispatcher, tracker):
            return cleared
        if types:
            return ask_which(dispatcher, types, language(tracker))
        found = page_answers.find_answer(tracker)
        asking = tracker.active_loop_name and tracker.get_slot("requested_slot")
        # While a form waits for a detail, "why do you need that?" is about its question
        # (answered with why, then the question); "do you sell gift cards?" is about the shop.
        why = bool(asking) and readings.about_the_asking(said)
        about_the_shop = found.shared > 0 and readings.is_question(said) and not why
        if found.sure or about_the_shop:
            # A question about the shop: its help pages answer it, or "I'm not sure" and a
            # person (action_aside then asks again what was open; the form asks its own).
            await page_answers.answer_from_pages(dispatcher, tracker, found)
            return cleared
        # While a form waits for a detail, not "I can't help with that": "why do you need
        # that?" gets why, anything else "sorry, I didn't follow"; the form's question
        # comes straight after.
        if asking:
            dispatcher.utter_message(response="utter_why_we_ask" if why else "utter_not_followed")
        else:
            dispatcher.utter_message(response="utter_out_of_scope")
        return cleared
