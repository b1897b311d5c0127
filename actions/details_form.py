"""validate_complaint_details_form: ask only for what is missing, explain what looks wrong.

The playbook says which details each complaint needs. Anything already known (given
in the first message, earlier in the conversation, or recalled from an earlier one)
is a filled slot, so the form never asks for it. An order number that looks wrong
gets a helpful answer; after two misses the form carries on without it, so the
customer is never stuck in a loop.
"""

import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.common import NO_VALUE, PLAYBOOK, known, latest_entity
from actions.orders import order_store
from actions.playbook import DETAILS

MAX_ATTEMPTS = 2
ORDER_DIGITS = (6, 10)
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ValidateComplaintDetailsForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_complaint_details_form"

    async def required_slots(
        self,
        domain_slots: List[Text],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[Text]:
        if tracker.get_slot("severity") == "critical":
            return []  # a person takes over at once; nothing more to ask
        rules = PLAYBOOK.complaints.get(tracker.get_slot("complaint_type") or "")
        needed = rules.details if rules else ["order_id"]
        return [slot for slot in DETAILS if slot in needed]

    def _give_up_or_retry(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, slot: str
    ) -> Dict[Text, Any]:
        attempts = int(tracker.get_slot("detail_attempts") or 0) + 1
        if attempts >= MAX_ATTEMPTS:
            dispatcher.utter_message(response="utter_detail_given_up")
            return {slot: NO_VALUE, "detail_attempts": 0}
        return {slot: None, "detail_attempts": attempts}

    async def validate_order_id(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if value == NO_VALUE:
            dispatcher.utter_message(response="utter_detail_given_up")
            return {"order_id": NO_VALUE, "detail_attempts": 0}
        given = str(value).strip()
        digits = latest_entity(tracker, "order_id") if given in (tracker.latest_message.get("text") or "") else None
        digits = digits or self._digits(given)
        store = order_store()

        if digits is None:
            # No number: the email or phone on the account works too.
            email = latest_entity(tracker, "email") or tracker.get_slot("email")
            phone = latest_entity(tracker, "phone") or tracker.get_slot("phone")
            order = await store.latest_order_for(email=email if known(email) else "",
                                                 phone=phone if known(phone) else "")
            if order is not None and (latest_entity(tracker, "email") or latest_entity(tracker, "phone")):
                dispatcher.utter_message(response="utter_found_order_by_contact", order_id=order.order_id)
                return {"order_id": order.order_id, "detail_attempts": 0}
            dispatcher.utter_message(response="utter_order_id_bad_format", given=given[:40], digits=0)
            return self._give_up_or_retry(dispatcher, tracker, "order_id")

        low, high = ORDER_DIGITS
        if not low <= len(digits) <= high:
            dispatcher.utter_message(response="utter_order_id_bad_format", given=given[:40],
                                     digits=len(digits))
            return self._give_up_or_retry(dispatcher, tracker, "order_id")
        if await store.get_order(digits) is None:
            dispatcher.utter_message(response="utter_order_not_found", order_id=digits)
            return self._give_up_or_retry(dispatcher, tracker, "order_id")
        return {"order_id": digits, "detail_attempts": 0}

    @staticmethod
    def _digits(text: str) -> Optional[str]:
        numbers = re.findall(r"\d+", text.replace(" ", ""))
        return max(numbers, key=len) if numbers else None

    async def validate_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if value == NO_VALUE:
            dispatcher.utter_message(response="utter_detail_given_up")
            return {"email": NO_VALUE, "detail_attempts": 0}
        candidate = latest_entity(tracker, "email") or str(value).strip()
        if EMAIL_RE.match(candidate):
            return {"email": candidate.lower(), "detail_attempts": 0}
        dispatcher.utter_message(response="utter_email_invalid", given=str(value)[:40])
        return self._give_up_or_retry(dispatcher, tracker, "email")
