"""The customer's satisfaction score (CSAT), asked once when a case is closed: kept on
the case and counted in the owner's report. A score nobody asked for is neither."""

from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.cases import update_case
from actions.customer import load_customer
from actions.reporting import report
from actions.tracker import channel_of, language, latest_entity

LOW = 2  # this score or less: sorry, rather than thanks


class ActionRecordCsat(Action):
    def name(self) -> Text:
        return "action_record_csat"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        if not tracker.get_slot("csat_asked"):
            # Nobody asked: not a satisfaction score for the owner's report or the case.
            dispatcher.utter_message(response="utter_rating_unasked")
            return []
        rating = latest_entity(tracker, "rating")
        if rating is None:
            digits = [c for c in tracker.latest_message.get("text") or "" if c in "12345"]
            rating = digits[0] if digits else None
        customer = await load_customer(tracker)
        if tracker.get_slot("case_ref"):
            await update_case(
                tracker,
                customer,
                csat=int(rating) if rating else None,
                csat_text=tracker.latest_message.get("text"),
            )
        if rating is not None and 1 <= int(rating) <= 5:
            await report(
                tracker,
                "csat",
                score=int(rating),
                channel=channel_of(tracker),
                language=language(tracker),
                remedy=tracker.get_slot("applied_remedy") or "none",
            )
        low = rating is not None and int(rating) <= LOW
        dispatcher.utter_message(response="utter_csat_sorry" if low else "utter_csat_thanks")
        return [SlotSet("csat_asked", False)]  # answered: a later score is not another one
