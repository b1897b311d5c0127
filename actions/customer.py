"""Recognising a returning customer, picking their open case back up, and telling them
how a case stands.

Only a verified customer is recognised (contract/identity.py), and only once, at the
start of a conversation: a stranger who types someone's order number or email is never
greeted as them, and a detail given mid-conversation never restarts it. A case's status
is told only to its verified customer, or in the conversation that opened it; anyone
else proves it is theirs first (case_status_form: the order and its email or phone)."""

from typing import Dict, List, Optional, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import memory
from actions.common import (
    PLAYBOOK,
    CustomerMemory,
    describe_details,
    known,
    language,
    load_customer,
    person_button,
    recalled_details,
    text,
)
from actions.orders import Order, order_store
from actions.store import get_redis

ASKED = "asked"  # slot status_check: proof was asked for before telling a case's status

CASE_STATUS = {
    "open": ("still open", "đang mở"),
    "handed_off": ("with a colleague", "đang được nhân viên xử lý"),
    "remedy_in_progress": ("{remedy} in progress", "đang thực hiện: {remedy}"),
    "agent_handled": ("dealt with by our team", "đã được nhân viên xử lý"),
    memory.CLOSED: ("closed", "đã đóng"),
}
# Which reply tells a case of each status (utter_case_status_<kind>).
STATUS_REPLY = {
    "open": "open",
    "handed_off": "handed_off",
    "remedy_in_progress": "remedy",
    "agent_handled": "done",
    memory.CLOSED: "done",
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


def _asked_about(tracker: Tracker) -> Tuple[Optional[str], Optional[str]]:
    """The case reference and order number the customer named since asking for the
    status (the question itself included)."""
    ref = order_id = None
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        parse = event.get("parse_data") or {}
        for found in parse.get("entities") or []:
            if found.get("entity") == "case_ref" and ref is None:
                ref = str(found.get("value"))
            if found.get("entity") == "order_id" and order_id is None:
                order_id = str(found.get("value"))
        if (parse.get("intent") or {}).get("name") == "ask_case_status":
            break
    return ref, order_id


def pick_case(cases: List[Dict], ref: Optional[str], order_id: Optional[str]) -> Optional[Dict]:
    """The case the customer most likely means: the one named, then the one about the
    order named, then the newest still open, then the newest."""
    for wanted in (
        lambda c: ref and c.get("ref") == ref,
        lambda c: order_id and str(c.get("order_id")) == order_id,
        lambda c: STATUS_REPLY.get(c.get("status") or "open") in ("open", "handed_off", "remedy"),
    ):
        found = next((c for c in cases if wanted(c)), None)
        if found:
            return found
    return cases[0] if cases else None


async def their_order(customer: CustomerMemory, order_id: Optional[str]) -> Optional[Order]:
    """A verified customer's order: the one they named if it is theirs, else their latest."""
    store = order_store()
    if order_id:
        order = await store.get_order(order_id)
        return order if customer.owns(order) else None
    latest = await store.recent_orders_for(email=customer.profile.get("email", ""), limit=1)
    return latest[0] if latest else None


class ActionCaseStatus(Action):
    """How is my complaint going? Told to the case's verified customer; anyone else is
    asked once to prove it is theirs (case_status_form), and without proof nothing about
    any case is said, not even whether one exists."""

    def name(self) -> Text:
        return "action_case_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        lang = language(tracker)
        customer = await load_customer(tracker)
        done = [SlotSet("status_check", None)]
        order_id: Optional[str] = None
        if customer.verified:
            ref, order_id = _asked_about(tracker)
            order_id = tracker.get_slot("verified_order") or order_id
            case = pick_case(customer.cases, ref, order_id)
            if case is not None and order_id and not ref and str(case.get("order_id")) != order_id:
                case = None  # asked about an order no case is about: how that order stands
        else:
            # This conversation's own case is the customer's, whoever they are.
            case = await memory.load_case(get_redis(), tracker.get_slot("case_ref") or "")
        if case is not None:
            self._tell(dispatcher, case, lang)
            return done
        if customer.verified:
            order = await their_order(customer, order_id)
            if order is None:
                dispatcher.utter_message(response="utter_case_status_none", buttons=[person_button(lang)])
            else:
                # No complaint yet: what they most likely want is how the order stands.
                dispatcher.utter_message(
                    response="utter_case_status_order",
                    buttons=[person_button(lang)],
                    order_id=order.order_id,
                    items=text(order.items, lang),
                    status=text(PLAYBOOK.order_status.get(order.status), lang),
                    carrier=order.carrier,
                    last_scan=text(order.last_scan, lang),
                )
            return done
        if tracker.get_slot("status_check") != ASKED:
            dispatcher.utter_message(response="utter_case_status_check")
            return [SlotSet("status_check", ASKED)]
        dispatcher.utter_message(response="utter_case_status_unproved", buttons=[person_button(lang)])
        return done

    @staticmethod
    def _tell(dispatcher: CollectingDispatcher, case: Dict, lang: str) -> None:
        kind = STATUS_REPLY.get(case.get("status") or "open", "open")
        remedy = PLAYBOOK.remedies.get(case.get("applied_remedy") or "")
        if kind == "remedy" and remedy is None:
            kind = "open"
        note = str(case.get("agent_note") or "").strip()
        dispatcher.utter_message(
            response=f"utter_case_status_{kind}",
            buttons=[person_button(lang)],
            done=text(remedy.done, lang) if remedy else "",
            note_part=f": {note}" if note else "",
            **describe_case(case, lang),
        )
