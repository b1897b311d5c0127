"""3. action_resolve_complaint: look the order up; critical cases go to a person;
otherwise offer the playbook's best one or two remedies (actions/remedies.py). The
complaint's other steps: actions/complaint.py.
"""

from typing import List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import PlaybookAction
from actions.cases import case_in_hand, update_case
from actions.customer import (
    ORDERS_UNAVAILABLE,
    CustomerMemory,
    load_customer,
    order_named,
    say_orders_unavailable,
    usable_order,
)
from actions.fulfilment import trace_parcel
from actions.handoff import hand_off
from actions.orders import Order, OrdersUnavailable
from actions.playbook import shop_playbook
from actions.remedies import grantable_remedies, offer_first
from actions.replies import join_options, text, yes_no_buttons
from actions.tracker import ASKED, language, latest_intent, this_complaint_texts
from actions.triage import named_items, on_the_order

# A complaint of this type about an order marked delivered: the parcel is lost.
LOST_PARCEL_COMPLAINT = "complain_delivery"


def item_mismatch(tracker: Tracker, order: Order) -> List[str]:
    """Items the customer named that the order does not contain (none named: [])."""
    named = named_items(this_complaint_texts(tracker), shop_playbook().understanding.item_words)
    if not named or any(on_the_order(word, order.items) for word in named):
        return []
    return named


class ActionResolveComplaint(PlaybookAction):
    def name(self) -> Text:
        return "action_resolve_complaint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        customer = await load_customer(tracker)
        # item_check is "asked" only while the check awaits its answer (the rules read it);
        # that the check was made is kept on the case, so it is made once per complaint.
        answering = tracker.get_slot("item_check") == ASKED
        checked: List[EventType] = [SlotSet("item_check", None)]
        if answering and latest_intent(tracker) == "deny":
            # Another order: forget this one; the details form asks for the right one.
            forgotten = [SlotSet(name, None) for name in ("order_id", "order", "order_contact")]
            return checked + forgotten + [SlotSet("detail_attempts", 0)]
        # Only an order this customer may see drives what is said and offered.
        unavailable: List[EventType] = []
        try:
            order = usable_order(tracker, customer, await order_named(tracker.get_slot("order_id")))
        except OrdersUnavailable:
            order = None
            unavailable = say_orders_unavailable(dispatcher, tracker) or [SlotSet(ORDERS_UNAVAILABLE, True)]
        events: List[EventType] = (
            checked + unavailable + [SlotSet("order", order.as_dict() if order else None)]
        )
        # hand_off and the remedies read the order from the tracker: let them see this look-up.
        tracker.slots["order"] = order.as_dict() if order else None

        if tracker.get_slot("severity") == "critical":
            return events + await hand_off(dispatcher, tracker, "critical_severity", customer)
        if unavailable and not grantable_remedies(tracker, customer):
            # Nothing the bot may grant without the order: a person looks it up.
            return events + await hand_off(dispatcher, tracker, "orders_unavailable", customer)
        if order and not answering and await self._check_items(dispatcher, tracker, customer, order):
            return events + [SlotSet("item_check", ASKED)]
        lost_parcel = bool(
            order
            and order.status == "delivered"
            and tracker.get_slot("complaint_type") == LOST_PARCEL_COMPLAINT
        )
        if order and lost_parcel:
            # The bot says the team has asked the carrier to trace it: a task makes it so.
            case = await update_case(tracker, customer, order_id=order.order_id, carrier_trace=order.carrier)
            if tracker.get_slot("case_ref") != case.ref:
                tracker.slots["case_ref"] = case.ref  # the offer below updates this same case
                events.append(SlotSet("case_ref", case.ref))
            await trace_parcel(tracker, customer, order, case)
        if order:
            self._tell_order(dispatcher, order, lost_parcel, language(tracker))
        return events + await offer_first(dispatcher, tracker, customer, order)

    @staticmethod
    async def _check_items(
        dispatcher: CollectingDispatcher, tracker: Tracker, customer: CustomerMemory, order: Order
    ) -> bool:
        """One gentle check before anything is offered for the wrong order: whether the
        items the customer named are on it (once per complaint). True: asked."""
        if (await case_in_hand(tracker)).item_checked:
            return False
        mismatch = item_mismatch(tracker, order)
        if not mismatch:
            return False
        lang = language(tracker)
        dispatcher.utter_message(
            response="utter_item_check",
            order_id=order.order_id,
            items=text(order.items, lang),
            named=join_options(mismatch, lang, "all_of"),
            buttons=yes_no_buttons(lang, no="another_order"),
        )
        await update_case(tracker, customer, item_checked=True)
        return True

    @staticmethod
    def _tell_order(dispatcher: CollectingDispatcher, order: Order, lost_parcel: bool, lang: str) -> None:
        """What the order look-up found (a lost parcel: that it shows as delivered)."""
        if lost_parcel:
            dispatcher.utter_message(
                response="utter_delivered_not_received",
                order_id=order.order_id,
                items=text(order.items, lang),
                carrier=order.carrier,
                last_scan=text(order.last_scan, lang),
            )
            return
        dispatcher.utter_message(
            response="utter_order_found",
            order_id=order.order_id,
            items=text(order.items, lang),
            carrier=order.carrier,
            status=text(shop_playbook().order_status.get(order.status), lang),
            last_scan=text(order.last_scan, lang),
        )
