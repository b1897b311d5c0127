"""When the classifier gives up or puts a message outside the shop: a complaint whose
type is unclear gets "which of these?" (actions/triage.py), never "please rephrase" to an
angry customer; not understood twice, a person takes over."""

from typing import List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import PlaybookAction
from actions.handoff import hand_off
from actions.playbook import shop_playbook
from actions.tracker import ASKED, language, previous_intent
from actions.triage import ask_which, which_to_ask


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
        if previous_intent(tracker) == "nlu_fallback" or tracker.get_slot("complaint_check") == ASKED:
            return cleared + await hand_off(dispatcher, tracker, "not_understood")
        types = which_to_ask(tracker.latest_message, shop_playbook().understanding)
        if types:
            return ask_which(dispatcher, types, language(tracker))
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
        types = which_to_ask(tracker.latest_message, shop_playbook().understanding)
        if types:
            return ask_which(dispatcher, types, language(tracker))
        # While a form waits for a detail ("why do you need that?"), not "I can't help
        # with that": the form's question, which says why it asks, comes straight after.
        asking = tracker.active_loop_name and tracker.get_slot("requested_slot")
        dispatcher.utter_message(response="utter_not_followed" if asking else "utter_out_of_scope")
        return [SlotSet("complaint_check", None)]  # the rules read it
