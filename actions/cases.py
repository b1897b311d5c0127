"""Cases: the one in hand (contract/case.py), a returning customer's open case picked
back up, and how a case stands.

Only a verified customer is recognised (contract/identity.py), and only once, at the
start of a conversation: a stranger who types someone's order number or email is never
greeted as them, and a detail given mid-conversation never restarts it. A case's status
is told only to its verified customer, or in the conversation that opened it; anyone
else proves it is theirs first (case_status_form: the order and its email or phone)."""

from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import PlaybookAction
from actions.customer import CustomerMemory, load_customer, recalled_details
from actions.orders import Order, OrdersUnavailable, order_store
from actions.playbook import shop_playbook
from actions.replies import describe_details, person_button, text, yes_no_buttons
from actions.store import get_redis
from actions.tracker import ASKED, first_turn, known, language, latest_intent
from contract import memory, tasks
from contract.case import AGENT_HANDLED, CLOSED, HANDED_OFF, OPEN, REMEDY_IN_PROGRESS, Case

# --- the case in hand -----------------------------------------------------------------


async def case_in_hand(tracker: Tracker) -> Case:
    """This conversation's case (slot case_ref), or a new one about its complaint."""
    found = await memory.load_case(get_redis(), tracker.get_slot("case_ref") or "")
    return found or Case.new(tracker.sender_id, tracker.get_slot("complaint_type"))


async def update_case(tracker: Tracker, customer: CustomerMemory, **changes: Any) -> Case:
    """The case in hand with `changes`, saved as the customer's."""
    case = (await case_in_hand(tracker)).changed(**changes)
    return await memory.save_case(get_redis(), customer.customer_id, case)


# --- how a case stands ------------------------------------------------------------------

CASE_STATUS = {
    OPEN: ("still open", "đang mở"),
    HANDED_OFF: ("with a colleague", "đang được nhân viên xử lý"),
    REMEDY_IN_PROGRESS: ("{remedy} in progress", "đang thực hiện: {remedy}"),
    AGENT_HANDLED: ("dealt with by our team", "đã được nhân viên xử lý"),
    CLOSED: ("closed", "đã đóng"),
}
# Which reply tells a case of each status (utter_case_status_<kind>).
STATUS_REPLY = {
    OPEN: "open",
    HANDED_OFF: "handed_off",
    REMEDY_IN_PROGRESS: "remedy",
    AGENT_HANDLED: "done",
    CLOSED: "done",
}


def describe_case(case: Case, lang: str) -> Dict[str, str]:
    vi = lang == "vi"
    book = shop_playbook()
    rules = book.complaints.get(case.complaint_type or "")
    about = (
        text(rules.apologise_for, lang)
        if rules and rules.apologise_for
        else ("việc hủy đơn" if vi else "cancelling an order")
    )
    if known(case.order_id):
        about += f" (đơn {case.order_id})" if vi else f" (order {case.order_id})"
    remedy = book.remedies.get(case.applied_remedy or "")
    status = CASE_STATUS.get(case.status, CASE_STATUS[OPEN])[1 if vi else 0]
    status = status.format(remedy=text(remedy.label, lang).lower() if remedy else "")
    return {"case_ref": case.ref, "case_about": about, "case_status": status}


async def remedy_task(case: Case) -> Optional[tasks.Task]:
    """The team's task for the case's remedy, if it became one (not carried out at once)."""
    wanted = tasks.task_id(case.ref, case.applied_remedy or "")
    return await tasks.get(get_redis(), wanted) if wanted in case.tasks else None


async def tell_case(dispatcher: CollectingDispatcher, case: Case, lang: str) -> None:
    """How the case stands, as it is: a remedy with the team is "on it", one carried out
    (by the order backend, or its task done) is what was done, one the team could not
    carry out is said so, with a colleague to put it right."""
    kind = STATUS_REPLY.get(case.status, "open")
    remedy = shop_playbook().remedies.get(case.applied_remedy or "")
    if kind == "remedy" and remedy is None:
        kind = "open"
    if kind == "remedy":
        task = await remedy_task(case)
        if task is not None and not task.closed:
            kind = "promised"
        elif task is not None and task.status == tasks.FAILED:
            kind = "failed"
    note = case.agent_note.strip()
    dispatcher.utter_message(
        response=f"utter_case_status_{kind}",
        buttons=[person_button(lang)],
        done=text(remedy.done, lang) if remedy else "",
        remedy=text(remedy.label, lang).lower() if remedy else "",
        offer=text(remedy.offer, lang) if remedy else "",
        note_part=f": {note}" if note else "",
        **describe_case(case, lang),
    )


# --- a returning customer -----------------------------------------------------------------


class ActionRecogniseCustomer(PlaybookAction):
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
                response="utter_greet" if latest_intent(tracker) == "greet" else "utter_how_can_help"
            )
            return []
        case = open_cases[0]
        name = customer.profile.get("name", "")
        dispatcher.utter_message(
            response="utter_welcome_back",
            name_part=f", {name}" if name else "",
            buttons=yes_no_buttons(lang, no="something_else"),
            **describe_case(case, lang),
        )
        return [SlotSet("open_case", case.ref)]


class ActionResumeCase(PlaybookAction):
    """The customer confirmed it is about their open case: restore what we know."""

    def name(self) -> Text:
        return "action_resume_case"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        lang = language(tracker)
        customer = await load_customer(tracker)
        ref: Optional[str] = tracker.get_slot("open_case")
        case = next((c for c in customer.cases if c.ref == ref), None) if customer.verified else None
        if case is None:
            dispatcher.utter_message(response="utter_how_can_help")
            return []
        restored = recalled_details(tracker, customer, open_cases=[case])
        dispatcher.utter_message(
            response="utter_resume_case",
            details=describe_details(
                {**restored, **{k: v for k, v in case.details.items() if k not in restored}}, lang
            )
            or case.ref,
        )
        return [SlotSet(name, value) for name, value in restored.items()] + [
            SlotSet("case_ref", case.ref),
            SlotSet("complaint_type", case.complaint_type),
            SlotSet("repeat_contact", True),
        ]


# --- how is my complaint going? -----------------------------------------------------------


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


def pick_case(cases: List[Case], ref: Optional[str], order_id: Optional[str]) -> Optional[Case]:
    """The case the customer most likely means: the one named, then the one about the
    order named, then the newest still open, then the newest."""
    for wanted in (
        lambda c: ref and c.ref == ref,
        lambda c: order_id and str(c.order_id) == order_id,
        lambda c: STATUS_REPLY.get(c.status) in ("open", "handed_off", "remedy"),
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


class ActionCaseStatus(PlaybookAction):
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
        if not customer.verified:
            # This conversation's own case is the customer's, whoever they are.
            case = await memory.load_case(get_redis(), tracker.get_slot("case_ref") or "")
            if case is not None:
                await tell_case(dispatcher, case, lang)
                return done
            if tracker.get_slot("status_check") != ASKED:
                dispatcher.utter_message(response="utter_case_status_check")
                return [SlotSet("status_check", ASKED)]
            dispatcher.utter_message(response="utter_case_status_unproved", buttons=[person_button(lang)])
            return done
        ref, order_id = _asked_about(tracker)
        order_id = tracker.get_slot("verified_order") or order_id
        case = pick_case(customer.cases, ref, order_id)
        if case is not None and order_id and not ref and str(case.order_id) != order_id:
            case = None  # asked about an order no case is about: how that order stands
        if case is not None:
            await tell_case(dispatcher, case, lang)
        else:
            try:
                await self._tell_order(dispatcher, customer, order_id, lang)
            except OrdersUnavailable:
                # The answer to their question: said each time it is asked.
                dispatcher.utter_message(response="utter_orders_unavailable")
        return done

    @staticmethod
    async def _tell_order(
        dispatcher: CollectingDispatcher, customer: CustomerMemory, order_id: Optional[str], lang: str
    ) -> None:
        """No complaint yet: what they most likely want is how the order stands."""
        order = await their_order(customer, order_id)
        if order is None:
            dispatcher.utter_message(response="utter_case_status_none", buttons=[person_button(lang)])
            return
        dispatcher.utter_message(
            response="utter_case_status_order",
            buttons=[person_button(lang)],
            order_id=order.order_id,
            items=text(order.items, lang),
            status=text(shop_playbook().order_status.get(order.status), lang),
            carrier=order.carrier,
            last_scan=text(order.last_scan, lang),
        )
