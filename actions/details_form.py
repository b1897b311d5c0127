"""validate_complaint_details_form: ask only for what is missing, explain what looks wrong.

The playbook says which details each complaint needs. Anything already known (given
in the first message, earlier in the conversation, or recalled from an earlier one)
is a filled slot, so the form never asks for it. An order number that looks wrong
gets a helpful answer; after two misses the form carries on without it, so the
customer is never stuck in a loop.

An order is shown and used only once the customer has proved it is theirs: a verified
customer's own order, or the email or phone on the order given here (`order_contact`,
asked once, saying why; one given already in this complaint is checked at once). Two
misses, or "I don't have it", and the bot carries on without the order's details
(contract/identity.py). Wrong answers for one order are also counted across
conversations (MAX_PROOF_FAILURES a day), so a new chat is not a fresh set of guesses.

When the order backend can't answer (OrdersUnavailable), the number given is kept as
given (claimed, for the agent), the customer hears once that orders can't be seen right
now, with a person one tap away, and the form carries on: no proof is asked for an
order nobody can see, and nothing is counted against the customer.
"""

import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.customer import (
    ORDERS_UNAVAILABLE,
    load_customer,
    order_named,
    say_orders_unavailable,
    usable_order,
    verify_order_owner,
)
from actions.orders import Order, OrdersUnavailable, order_store, proves
from actions.playbook import DETAILS, shop_playbook
from actions.replies import text
from actions.store import get_redis
from actions.tracker import NO_VALUE, language, latest_entity
from contract import keys
from contract.identity import BY_ORDER_CONTACT, MAX_PROOF_FAILURES, normalise_phone

MAX_ATTEMPTS = 2
ORDER_DIGITS = (6, 10)
MIN_PHONE_DIGITS = 8  # the shortest number _matches compares as a phone
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
        rules = shop_playbook().complaints.get(tracker.get_slot("complaint_type") or "")
        needed = rules.details if rules else ["order_id"]
        slots = [slot for slot in DETAILS if slot in needed]
        if "order_id" in slots and await self._order_to_prove(tracker) is not None:
            slots.insert(slots.index("order_id") + 1, "order_contact")
        return slots

    async def _order_to_prove(self, tracker: Tracker) -> Optional[Order]:
        """The order this customer named but has not proved theirs yet, if any."""
        if tracker.get_slot("order_contact") == NO_VALUE:
            return None
        try:
            order = await order_named(tracker.get_slot("order_id"))
        except OrdersUnavailable:
            return None  # nobody can see it now: nothing to prove
        if order is None:
            return None
        customer = await load_customer(tracker)
        return None if usable_order(tracker, customer, order) else order

    def _miss(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        slot: str,
        explain: str,
        given_up: str = "utter_detail_given_up",
        **values: Any,
    ) -> Dict[Text, Any]:
        """A detail that doesn't work: the first miss is explained (and the explanation
        asks again itself); the second carries on without it. One message either way."""
        attempts = int(tracker.get_slot("detail_attempts") or 0) + 1
        if attempts >= MAX_ATTEMPTS:
            dispatcher.utter_message(response=given_up)
            return {slot: NO_VALUE, "detail_attempts": 0}
        dispatcher.utter_message(response=explain, **values)
        return {slot: None, "detail_attempts": attempts}

    async def validate_order_id(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if value == NO_VALUE:
            dispatcher.utter_message(response="utter_detail_given_up")
            return {"order_id": NO_VALUE, "detail_attempts": 0}
        given = str(value).strip()
        contact = latest_entity(tracker, "email") or latest_entity(tracker, "phone")
        if given in (tracker.latest_message.get("text") or ""):
            # Typed now: the order number, never the digits of an email or phone.
            digits = latest_entity(tracker, "order_id") or (None if contact else self._digits(given))
        else:
            digits = self._digits(given)  # given earlier, before the form started
        if digits is None:
            return await self._no_number(dispatcher, tracker, contact)
        low, high = ORDER_DIGITS
        if not low <= len(digits) <= high:
            return self._miss(
                dispatcher,
                tracker,
                "order_id",
                "utter_order_id_bad_format",
                "utter_order_id_given_up",
                given=given[:40],
                digits=len(digits),
            )
        try:
            order = await order_store().get_order(digits)
        except OrdersUnavailable:
            # Kept as given (claimed): the agent sees it; no proof asked for what nobody can see.
            return {"order_id": digits, "detail_attempts": 0, **self._unavailable(dispatcher, tracker)}
        if order is None:
            return self._miss(
                dispatcher,
                tracker,
                "order_id",
                "utter_order_not_found",
                "utter_order_id_given_up",
                order_id=digits,
            )
        accepted = {"order_id": digits, "detail_attempts": 0, "order_contact": None}
        answering_proof = tracker.get_slot("requested_slot") == "order_contact"  # checked there
        given_contact = None if answering_proof else typed_contact(tracker)
        # The customer (Redis reads) only when there is a contact to check.
        if given_contact and not usable_order(tracker, await load_customer(tracker), order):
            # The email or phone came with the number ("order N, my email is X"), or earlier
            # in this complaint: it is checked now, never asked for again.
            return {**accepted, **await self._prove(dispatcher, tracker, given_contact, order)}
        return accepted

    async def _no_number(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, contact: Optional[str]
    ) -> Dict[Text, Any]:
        """No order number in what was given: a verified customer's latest order, else
        say what is needed (the second time, carry on without it)."""
        customer = await load_customer(tracker)
        if customer.verified:
            # A verified customer without the number: their most recent order.
            email = customer.profile.get("email", "")
            try:
                latest = await order_store().recent_orders_for(email=email, limit=1)
            except OrdersUnavailable:
                # Their orders can't be listed now: say so, and ask for the number as for anyone.
                said = self._unavailable(dispatcher, tracker)
                return {**said, **self._miss(dispatcher, tracker, "order_id", "utter_order_id_not_seen")}
            if latest:
                dispatcher.utter_message(response="utter_found_order_by_contact", order_id=latest[0].order_id)
                return {"order_id": latest[0].order_id, "detail_attempts": 0}
        if contact:
            # Orders are never looked up by a contact detail alone: anyone can type one.
            return self._miss(
                dispatcher, tracker, "order_id", "utter_order_id_number_needed", "utter_order_id_given_up"
            )
        # No number at all ("I don't know it", "any update?"): say what is needed, not
        # that "..." has 0 digits; the second time, carry on without it.
        return self._miss(dispatcher, tracker, "order_id", "utter_order_id_not_seen")

    async def validate_order_contact(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """The email or phone on the order: the proof that the order is theirs."""
        order = await self._order_to_prove(tracker)
        if order is None:  # nothing to prove (any more)
            return {"order_contact": NO_VALUE if value == NO_VALUE else "verified"}
        if value == NO_VALUE:
            dispatcher.utter_message(response="utter_order_contact_skipped")
            return {"order_contact": NO_VALUE, "detail_attempts": 0}
        if not looks_like_contact(tracker, str(value), order):
            # "any update?", or the order number again: no guess at the proof, so nothing
            # is checked or counted against the order, and nobody is told "doesn't match".
            return self._miss(
                dispatcher,
                tracker,
                "order_contact",
                "utter_order_contact_not_seen",
                "utter_order_contact_not_given",
                order_id=order.order_id,
            )
        return await self._prove(dispatcher, tracker, str(value), order)

    async def _prove(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, given: str, order: Order
    ) -> Dict[Text, Any]:
        """Whether `given` is the email or phone on `order`: verified, or a miss."""
        redis = get_redis()
        failures = keys.order_proof_failures(order.order_id)
        if int(await redis.get(failures) or 0) >= MAX_PROOF_FAILURES:
            dispatcher.utter_message(response="utter_order_contact_locked", order_id=order.order_id)
            return {"order_contact": NO_VALUE, "detail_attempts": 0}
        try:
            matches = await self._matches(tracker, given, order)
        except OrdersUnavailable:
            # The owner's phone can't be looked up now: nothing counted, carry on without proof.
            return {"order_contact": NO_VALUE, "detail_attempts": 0, **self._unavailable(dispatcher, tracker)}
        if matches:
            await verify_order_owner(tracker, order)
            dispatcher.utter_message(response="utter_order_contact_verified")
            return {
                "order_contact": "verified",
                "verified_order": order.order_id,
                "verified_by": BY_ORDER_CONTACT,
                "detail_attempts": 0,
            }
        if await redis.incr(failures) == 1:
            await redis.expire(failures, keys.ORDER_PROOF_WINDOW)
        # Never say which part was wrong, or what the right one looks like.
        return self._miss(
            dispatcher,
            tracker,
            "order_contact",
            "utter_order_contact_mismatch",
            "utter_order_contact_given_up",
            order_id=order.order_id,
        )

    @staticmethod
    def _unavailable(dispatcher: CollectingDispatcher, tracker: Tracker) -> Dict[Text, Any]:
        """Orders can't be seen now: said once (actions/customer.py), as a slot value."""
        return {ORDERS_UNAVAILABLE: True} if say_orders_unavailable(dispatcher, tracker) else {}

    @staticmethod
    async def _matches(tracker: Tracker, given: str, order: Order) -> bool:
        """Whether what was given proves the order (actions/orders.py proves); the owner's
        phone is looked up only when the email did not prove it."""
        email = latest_entity(tracker, "email") or (given.strip() if "@" in given else "")
        phone = latest_entity(tracker, "phone") or ("" if "@" in given else given)
        if proves(order, None, email=email):
            return True
        if len(normalise_phone(phone)) < MIN_PHONE_DIGITS:
            return False
        return proves(order, await order_store().customer(email=order.email), phone=phone)

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
        return self._miss(dispatcher, tracker, "email", "utter_email_invalid", given=str(value)[:40])


class ValidateCaseStatusForm(ValidateComplaintDetailsForm):
    """Before a case's status is told to a customer not verified yet: the order number
    and the email or phone on it, checked exactly as for a complaint (the same misses,
    the same lock)."""

    def name(self) -> Text:
        return "validate_case_status_form"

    async def required_slots(
        self,
        domain_slots: List[Text],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[Text]:
        if (await load_customer(tracker)).verified:
            return []
        if await self._order_to_prove(tracker) is not None:
            return ["order_id", "order_contact"]
        return ["order_id"]


def looks_like_contact(tracker: Tracker, text: str, order: Order) -> bool:
    """Whether a reply to "what's the email or phone on the order?" offers one: an email
    or phone the NLU found, an "@", or enough digits for a phone number that are not the
    order's own number."""
    if latest_entity(tracker, "email") or latest_entity(tracker, "phone") or "@" in text:
        return True
    digits = re.sub(r"\D", "", text)
    return len(digits) >= MIN_PHONE_DIGITS and digits != order.order_id


def typed_contact(tracker: Tracker) -> Optional[str]:
    """The email or phone the customer typed about the complaint in hand (the latest
    first), if any: never one recalled from memory. The previous complaint's messages,
    up to its resolution, are not this one's."""
    for event in reversed(tracker.events):
        if event.get("event") == "action" and event.get("name") == "action_resolve_complaint":
            return None
        if event.get("event") == "user":
            entities = (event.get("parse_data") or {}).get("entities") or []
            found = [e["value"] for e in entities if e.get("entity") in ("email", "phone") and e.get("value")]
            if found:
                return str(found[0])
    return None


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


class ActionAskOrderContact(AskForDetail):
    slot = "order_contact"


class ActionAskEmail(AskForDetail):
    slot = "email"
