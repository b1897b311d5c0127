"""The details form's questions (`action_ask_<slot>`): asked only when this turn did not
already explain a miss; a verified customer picks the order from their latest ones.
"""

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.customer import load_customer
from actions.order_proof import needs_fresh_proof
from actions.orders import Order, OrdersUnavailable, order_store
from actions.replies import text
from actions.tracker import language, last_response


class AskForDetail(Action):
    """The form's question for a detail, unless this turn already explained a miss: that
    explanation asks again itself, so a turn never asks for the same detail twice."""

    slot = ""

    def name(self) -> Text:
        return f"action_ask_{self.slot}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[Text, Any]]:
        if not explained_a_miss(tracker):
            await self.ask(dispatcher, tracker)
        return []

    async def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
        dispatcher.utter_message(response=f"utter_ask_{self.slot}")


def explained_a_miss(tracker: Tracker) -> bool:
    """Whether this turn's validation explained a detail that did not work (and so asked
    again itself). A miss in an earlier turn does not count: after "what do you mean?"
    the question is asked again."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "slot" and event.get("name") == "detail_attempts":
            return bool(int(event.get("value") or 0))
    return False


# A verified customer is asked for the order with their latest ones as buttons.
ORDER_BUTTONS = 3


ORDER_BUTTON_ITEMS = 40  # characters of the items kept in a button's title


def order_buttons(orders: List[Order], lang: str) -> List[Dict[str, str]]:
    """One button per order: its number and what is in it, sent back as that number."""
    buttons = []
    for order in orders:
        items = text(order.items, lang)
        if len(items) > ORDER_BUTTON_ITEMS:
            items = items[: ORDER_BUTTON_ITEMS - 1].rstrip(" ,") + "…"
        buttons.append(
            {
                "title": f"{order.order_id}: {items}" if items else order.order_id,
                "payload": f'/inform{{"order_id": "{order.order_id}"}}',
            }
        )
    return buttons


class ActionAskOrderId(AskForDetail):
    """Which order? A verified customer picks from their latest orders (or types
    another number), so they need not look it up; anyone else is asked for the number."""

    slot = "order_id"

    async def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
        customer = await load_customer(tracker)
        email = customer.profile.get("email", "") if customer.verified else ""
        try:
            orders = await order_store().recent_orders_for(email=email, limit=ORDER_BUTTONS) if email else []
        except OrdersUnavailable:
            orders = []  # no buttons: the number is asked for, as of anyone
        if not orders:
            return await super().ask(dispatcher, tracker)
        dispatcher.utter_message(
            response="utter_ask_order_id_yours", buttons=order_buttons(orders, language(tracker))
        )


# The proof question, as first asked and as asked again.
ASKED_FOR_CONTACT = ("utter_ask_order_contact", "utter_ask_order_contact_repeat")


class ActionAskOrderContact(AskForDetail):
    """The email or phone on the order; a verified customer whose proof is too old for
    what they ask is told why they are asked again."""

    slot = "order_contact"

    async def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
        if needs_fresh_proof(tracker, await load_customer(tracker)):
            dispatcher.utter_message(response="utter_ask_order_contact_again")
        elif last_response(tracker) in ASKED_FOR_CONTACT:
            # Asked again after a question or a word it wasn't: not "Thanks." again.
            dispatcher.utter_message(response="utter_ask_order_contact_repeat")
        else:
            await super().ask(dispatcher, tracker)


class ActionAskEmail(AskForDetail):
    slot = "email"
