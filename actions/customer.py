"""Recognising a returning customer and picking their open case back up.

Only a verified customer is recognised (contract/identity.py), and only once, at the
start of a conversation: a stranger who types someone's order number or email is never
greeted as them, and a detail given mid-conversation never restarts it."""

from typing import Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import (
    PLAYBOOK,
    describe_details,
    known,
    language,
    load_customer,
    recalled_details,
    text,
)

CASE_STATUS = {
    "open": ("still open", "đang mở"),
    "handed_off": ("with a colleague", "đang được nhân viên xử lý"),
    "remedy_in_progress": ("{remedy} in progress", "đang thực hiện: {remedy}"),
}


def describe_case(case: Dict, lang: str) -> Dict[str, str]:
    vi = lang == "vi"
    rules = PLAYBOOK.complaints.get(case.get("complaint_type") or "")
    about = (
        text(rules.apologise_for, lang)
        if rules and rules.apologise_for
        else ("việc hủy đơn" if vi else "cancelling an order")
    )
    if known(case.get("order_id")):
        about += f" (đơn {case['order_id']})" if vi else f" (order {case['order_id']})"
    remedy = PLAYBOOK.remedies.get(case.get("applied_remedy") or "")
    status = CASE_STATUS.get(case.get("status") or "open", CASE_STATUS["open"])[1 if vi else 0]
    status = status.format(remedy=text(remedy.label, lang).lower() if remedy else "")
    return {"case_ref": case["ref"], "case_about": about, "case_status": status}


def first_turn(tracker: Tracker) -> bool:
    """True on the conversation's first customer message (of this session)."""
    turns = 0
    for event in reversed(tracker.events):
        if event.get("event") == "session_started":
            break
        turns += event.get("event") == "user"
    return turns <= 1


class ActionRecogniseCustomer(Action):
    """Greets, and if we know this customer's open case, asks if it is about that."""

    def name(self) -> Text:
        return "action_recognise_customer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        lang = language(tracker)
        customer = await load_customer(tracker)
        open_cases = customer.open_cases(tracker.sender_id) if first_turn(tracker) else []
        if not customer.verified or not open_cases:
            dispatcher.utter_message(
                response="utter_greet"
                if tracker.latest_message["intent"]["name"] == "greet"
                else "utter_how_can_help"
            )
            return []
        case = open_cases[0]
        name = customer.profile.get("name", "")
        dispatcher.utter_message(
            response="utter_welcome_back",
            name_part=f", {name}" if name else "",
            buttons=[
                {"title": text(PLAYBOOK.labels["yes_that_one"], lang), "payload": "/affirm"},
                {"title": text(PLAYBOOK.labels["something_else"], lang), "payload": "/deny"},
            ],
            **describe_case(case, lang),
        )
        return [SlotSet("open_case", case["ref"])]


class ActionResumeCase(Action):
    """The customer confirmed it is about their open case: restore what we know."""

    def name(self) -> Text:
        return "action_resume_case"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        lang = language(tracker)
        customer = await load_customer(tracker)
        ref: Optional[str] = tracker.get_slot("open_case")
        case = next((c for c in customer.cases if c.get("ref") == ref), None) if customer.verified else None
        if case is None:
            dispatcher.utter_message(response="utter_how_can_help")
            return []
        restored = recalled_details(tracker, customer, open_cases=[case])
        dispatcher.utter_message(
            response="utter_resume_case",
            details=describe_details(
                {**restored, **{k: v for k, v in (case.get("details") or {}).items() if k not in restored}},
                lang,
            )
            or case["ref"],
        )
        return [SlotSet(name, value) for name, value in restored.items()] + [
            SlotSet("case_ref", case["ref"]),
            SlotSet("complaint_type", case.get("complaint_type")),
            SlotSet("repeat_contact", True),
        ]
