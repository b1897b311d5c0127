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
(contract/identity.py). Until then every well-formed order number gets the same answers,
whether it is an order or not ("what's the email or phone on it?", then "that doesn't
match"), so the replies tell nobody which numbers are orders.

Wrong answers are counted per order number across conversations, per conversation and
per client address (contract/identity.py MAX_PROOF_FAILURES*), each in one Redis script
(contract/counters.py), so a new chat is not a fresh set of guesses. Past a limit nothing
more is checked, and the hub may email the order's owner a one-time link
(bot/aftercare/owner_link.py): the owner's way through.

Said instead of the detail asked for: "no, it's not late, it arrived broken" corrects the
complaint (actions/complaint.py correct_complaint) and a question about the shop is
answered from its help pages (actions/page_answers.py); either way nothing is counted as a miss,
and the form asks for the detail again, once.

When the order backend can't answer (OrdersUnavailable), the number given is kept as
given (claimed, for the agent), the customer hears once that orders can't be seen right
now, with a person one tap away, and the form carries on: no proof is asked for an
order nobody can see, and nothing is counted against the customer.
"""

import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
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
from actions.order_proof import (
    MIN_PHONE_DIGITS,
    Claim,
    ask_for_owner_link,
    looks_like_contact,
    needs_fresh_proof,
    proof_counters,
    typed_contact,
)
from actions.orders import Order, OrdersUnavailable, order_store, proves
from actions.playbook import DETAILS, shop_playbook
from actions.store import get_redis
from actions.tracker import NO_VALUE, known, last_response, latest_entity, latest_intent
from contract import counters
from contract.identity import BY_ORDER_CONTACT, normalise_phone

MAX_ATTEMPTS = 2
ORDER_DIGITS = (6, 10)
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def well_formed(order_id: Any) -> bool:
    low, high = ORDER_DIGITS
    return known(order_id) and str(order_id).isdigit() and low <= len(str(order_id)) <= high


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

    async def _order_to_prove(self, tracker: Tracker) -> Optional[Claim]:
        """The order number this customer gave but has not proved theirs yet, if any
        (whether it is an order or not); also their own, when what they ask changes it
        and their proof is older than the idle time."""
        order_id = tracker.get_slot("order_id")
        if tracker.get_slot("order_contact") == NO_VALUE or not well_formed(order_id):
            return None
        try:
            order = await order_named(order_id)
        except OrdersUnavailable:
            return None  # nobody can see it now: nothing to prove
        customer = await load_customer(tracker)
        if usable_order(tracker, customer, order) and not needs_fresh_proof(tracker, customer):
            return None
        return Claim(str(order_id), order)

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
        aside = await said_instead(dispatcher, tracker, "order_id")
        if aside is not None:
            return aside
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
        # Found or not, a well-formed number is taken: whether it is an order is told only
        # to whoever proves it theirs (the same question, then "that doesn't match").
        accepted = {"order_id": digits, "detail_attempts": 0, "order_contact": None}
        answering_proof = tracker.get_slot("requested_slot") == "order_contact"  # checked there
        given_contact = None if answering_proof else typed_contact(tracker)
        # The customer (Redis reads) only when there is a contact to check.
        if given_contact and not usable_order(tracker, await load_customer(tracker), order):
            # The email or phone came with the number ("order N, my email is X"), or earlier
            # in this complaint: it is checked now, never asked for again.
            claim = Claim(digits, order)
            return {**accepted, **await self._prove(dispatcher, tracker, given_contact, claim)}
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
        aside = await said_instead(dispatcher, tracker, "order_contact")
        if aside is not None:
            return aside
        claim = await self._order_to_prove(tracker)
        if claim is None:  # nothing to prove (any more)
            return {"order_contact": NO_VALUE if value == NO_VALUE else "verified"}
        if value == NO_VALUE:
            dispatcher.utter_message(response="utter_order_contact_skipped")
            return {"order_contact": NO_VALUE, "detail_attempts": 0}
        if not looks_like_contact(tracker, str(value), claim.order_id):
            # "any update?", or the order number again: no guess at the proof, so nothing
            # is checked or counted against the order, and nobody is told "doesn't match".
            # After a contact that didn't match, not "I still can't see one" either.
            after_mismatch = last_response(tracker) == "utter_order_contact_mismatch"
            return self._miss(
                dispatcher,
                tracker,
                "order_contact",
                "utter_order_contact_not_seen",
                "utter_order_contact_set_aside" if after_mismatch else "utter_order_contact_not_given",
                order_id=claim.order_id,
            )
        return await self._prove(dispatcher, tracker, str(value), claim)

    async def _prove(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, given: str, claim: Claim
    ) -> Dict[Text, Any]:
        """Whether `given` is the email or phone on the claimed order: verified, or a miss
        (counted against the number, the conversation and the address)."""
        redis = get_redis()
        counted = proof_counters(tracker, claim.order_id)
        if await counters.reached(redis, [(key, most) for key, most, _ in counted]):
            # Nothing is checked, not even a right answer, so the lock reveals nothing.
            dispatcher.utter_message(response="utter_order_contact_locked", order_id=claim.order_id)
            await ask_for_owner_link(dispatcher, tracker, claim)
            return {"order_contact": NO_VALUE, "detail_attempts": 0}
        try:
            matches = claim.order is not None and await self._matches(tracker, given, claim.order)
        except OrdersUnavailable:
            # The owner's phone can't be looked up now: nothing counted, carry on without proof.
            return {"order_contact": NO_VALUE, "detail_attempts": 0, **self._unavailable(dispatcher, tracker)}
        if matches and claim.order is not None:
            await verify_order_owner(tracker, claim.order)
            dispatcher.utter_message(response="utter_order_contact_verified")
            return {
                "order_contact": "verified",
                "verified_order": claim.order_id,
                "verified_by": BY_ORDER_CONTACT,
                "detail_attempts": 0,
            }
        await counters.count(redis, [(key, window) for key, _, window in counted])
        # Never say which part was wrong, or what the right one looks like.
        return self._miss(
            dispatcher,
            tracker,
            "order_contact",
            "utter_order_contact_mismatch",
            "utter_order_contact_given_up",
            order_id=claim.order_id,
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
        aside = await said_instead(dispatcher, tracker, "email")
        if aside is not None:
            return aside
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


async def said_instead(
    dispatcher: CollectingDispatcher, tracker: Tracker, slot: str
) -> Optional[Dict[Text, Any]]:
    """What to set when the answer to the form's question for `slot` was something else:
    a correction of the complaint, or a question the help pages answer. None: it is the
    answer (or a miss), validated as usual."""
    from actions import page_answers, readings
    from actions.complaint import complaint_in_progress, correct_complaint

    if tracker.get_slot("requested_slot") != slot or latest_entity(tracker, slot) is not None:
        return None  # not an answer to that question, or the detail is in it
    intent = str(latest_intent(tracker) or "")
    said = tracker.latest_message.get("text") or ""
    if (
        intent.startswith("complain_")
        and intent != tracker.get_slot("complaint_type")
        and complaint_in_progress(tracker)
        and readings.corrects(said)
    ):
        events = await correct_complaint(dispatcher, tracker, intent)
        return {**{e["name"]: e["value"] for e in events}, slot: None}
    if readings.about_the_asking(said):
        # "sao phải cho số điện thoại vậy?" (why do you need my phone?): why, and the
        # question again; no miss counted.
        dispatcher.utter_message(response="utter_why_we_ask")
        return {slot: None}
    if await page_answers.answer_general_question(dispatcher, tracker):
        return {slot: None}
    return None
