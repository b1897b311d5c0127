"""Who the customer is (and how sure we are: contract/identity.py), what we may use of
what they told us before, and which orders they may see.

A conversation is verified by the shop's signature (with every message) or by its proof
(an order and its email or phone, or the owner's one-time link: contract/memory.py
session_proof), which lapses after the idle time (SESSION_IDLE_MINUTES) without a
message. A proved conversation that names an order of somebody else's (two people on one
device) is a guest for it until that order is proved too. Cancelling an order or paying
into an account needs a proof younger than the idle time (`CustomerMemory.fresh`).

The order backend may be unavailable (actions/orders.py OrdersUnavailable): who the
customer is then rests on what we remember (their shop record is not looked up, their
tier is standard), and the actions that needed an order tell the customer once, with
`say_orders_unavailable`, and carry on without it."""

from dataclasses import dataclass, field
import time
from typing import Any, Dict, List, Optional, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.orders import Customer, Order, OrdersUnavailable, order_store
from actions.store import get_redis
from actions.tracker import known, session_started_at, signed_customer
from contract import memory
from contract.case import Case
from contract.identity import BY_ORDER_CONTACT, BY_SHOP_SIGNATURE, normalise_email


def clock() -> float:
    """Now, in seconds (the tests move it, never sleep)."""
    return time.time()


@dataclass
class CustomerMemory:
    """Who this customer is, how sure we are, and what we may use.

    A guest (not verified) has no profile: nothing stored is shown to them, and only
    their own channel identity's earlier cases count (for repeat contact)."""

    customer_id: str
    verified_by: Optional[str] = None  # how they proved it (contract.identity.BY_*)
    profile: Dict[str, str] = field(default_factory=dict)
    cases: List[Case] = field(default_factory=list)
    tier: str = "standard"
    proof: Optional[memory.Proof] = None  # how this conversation proved it (not by signature)

    @property
    def verified(self) -> bool:
        return self.verified_by is not None

    @property
    def fresh(self) -> bool:
        """Sure enough to cancel an order or pay into an account: signed by the shop now,
        or proved less than the idle time ago."""
        if self.verified_by == BY_SHOP_SIGNATURE:
            return True
        return self.proof is not None and self.proof.fresh(clock(), memory.idle_seconds())

    def owns(self, order: Optional[Order]) -> bool:
        return (
            self.verified
            and order is not None
            and normalise_email(order.email) == normalise_email(self.profile.get("email", ""))
        )

    def open_cases(self, conversation_id: str = "") -> List[Case]:
        return memory.open_cases(self.cases, conversation_id)


def shop_identities(shop: Optional[Customer], shop_id: str = "", email: str = "") -> List[Tuple[str, str]]:
    """The identities a verified shop customer is known by, strongest first."""
    ids = [("shop", shop_id or (shop.id if shop else ""))]
    ids += [("email", (shop.email if shop else "") or email), ("phone", shop.phone if shop else "")]
    return [(kind, value) for kind, value in ids if value]


def shop_profile(shop: Optional[Customer], email: str = "") -> Dict[str, str]:
    if shop is None:
        return {"email": email} if email else {}
    return {"email": shop.email, "phone": shop.phone, "name": shop.name}


ORDERS_UNAVAILABLE = "orders_unavailable"  # slot: the customer was told (once per complaint)


def say_orders_unavailable(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
    """Tell the customer that orders can't be seen right now, that the bot carries on
    without them, and that a person can look (a button): once per complaint, however
    many steps of it miss the order."""
    if tracker.get_slot(ORDERS_UNAVAILABLE):
        return []
    dispatcher.utter_message(response="utter_orders_unavailable")
    tracker.slots[ORDERS_UNAVAILABLE] = True  # the next steps of this turn see it said
    return [SlotSet(ORDERS_UNAVAILABLE, True)]


async def shop_customer(**lookup: str) -> Optional[Customer]:
    """The shop's record of a customer, or None, also when the backend is unavailable:
    who they are then rests on what we remember."""
    try:
        return await order_store().customer(**lookup)
    except OrdersUnavailable:
        return None


async def load_customer(tracker: Tracker) -> CustomerMemory:
    """This conversation's customer: verified (by the shop's signature, or by its live
    proof) or a guest of this channel identity."""
    redis = get_redis()
    signed = signed_customer(tracker)
    proof = None
    if signed:
        shop = await shop_customer(customer_id=signed)
        customer_id = await memory.link_verified(redis, shop_identities(shop, signed), shop_profile(shop))
        verified_by: Optional[str] = BY_SHOP_SIGNATURE
    else:
        proof = await memory.session_proof(redis, tracker.sender_id, clock())
        customer_id = proof.customer_id if proof else await memory.guest(redis, tracker.sender_id)
        verified_by = (proof.by or BY_ORDER_CONTACT) if proof else None
    profile = await memory.recall(redis, customer_id) if verified_by else {}
    if proof is not None and await _names_another_order(tracker, proof, profile):
        # Somebody else's order on a proved conversation (a family tablet): nothing of
        # the proved customer's is used for it, until that order is proved in turn.
        customer_id, verified_by, proof = await memory.guest(redis, tracker.sender_id), None, None
    cases = await memory.cases_of(redis, customer_id)
    if verified_by is None:
        return CustomerMemory(customer_id, cases=cases)
    await memory.remember(redis, customer_id, {"language": tracker.get_slot("language")})
    shop = await shop_customer(email=profile.get("email", "")) if profile.get("email") else None
    tier = shop.tier if shop else "standard"
    return CustomerMemory(customer_id, verified_by, profile, cases, tier=tier, proof=proof)


async def _names_another_order(tracker: Tracker, proof: memory.Proof, profile: Dict[str, str]) -> bool:
    """Whether the conversation's order in hand is neither the one it proved nor one of
    the proved customer's (one that is no order at all counts as another's, and so does
    one the backend can't show now: nothing of the customer's is used on a guess)."""
    order_id = tracker.get_slot("order_id")
    if not known(order_id) or str(order_id) == proof.order_id:
        return False
    try:
        order = await order_named(order_id)
    except OrdersUnavailable:
        return True
    return order is None or normalise_email(order.email) != normalise_email(profile.get("email", ""))


def owner_identities(owner: Optional[Customer], order: Order) -> Tuple[List[Tuple[str, str]], Dict[str, str]]:
    """The identities and profile of an order's owner, on the shop's record."""
    return shop_identities(owner, email=order.email), shop_profile(owner, order.email)


async def verify_order_owner(tracker: Tracker, order: Order, by: str = BY_ORDER_CONTACT) -> str:
    """The customer proved they own `order` (its email or phone): this conversation's
    proof names the order's owner now, and what it had as a guest joins their record."""
    redis = get_redis()
    ids, profile = owner_identities(await shop_customer(email=order.email), order)
    customer_id = await memory.link_verified(redis, ids, profile)
    await memory.attach_conversation(redis, tracker.sender_id, customer_id, order.order_id, by, clock())
    return customer_id


def usable_order(tracker: Tracker, customer: CustomerMemory, order: Optional[Order]) -> Optional[Order]:
    """The order, if this customer may see and use it: theirs on record, or proved theirs
    in this conversation. Otherwise it is only claimed (agents see it, marked so)."""
    if order is None:
        return None
    if customer.owns(order) or (customer.proof is not None and customer.proof.order_id == order.order_id):
        return order
    return None


async def order_named(order_id: Any) -> Optional[Order]:
    """The order with the number the customer gave, if there is one, theirs or not
    (OrdersUnavailable when the backend can't say)."""
    return await order_store().get_order(str(order_id)) if known(order_id) else None


def recalled_details(tracker: Tracker, customer: CustomerMemory, open_cases: List[Case]) -> Dict[str, str]:
    """Details a *verified* customer gave before that this conversation lacks (a guest
    gets nothing back).

    Email and phone belong to the person and are always reused. An order number
    belongs to a complaint: it is reused only from a case that is still open.
    """
    if not customer.verified:
        return {}
    found = {}
    for name in ("email", "phone"):
        if not known(tracker.get_slot(name)) and known(customer.profile.get(name)):
            found[name] = customer.profile[name]
    if not known(tracker.get_slot("order_id")):
        for case in open_cases:
            if known(case.order_id):
                found["order_id"] = str(case.order_id)
                break
    return found


def earlier_contacts(tracker: Tracker, customer: CustomerMemory) -> List[Case]:
    """Cases from earlier contacts: a verified customer's, or this channel identity's own
    (a guest's), from another conversation or an earlier session of this one."""
    started = session_started_at(tracker)
    return [c for c in customer.cases if c.conversation_id != tracker.sender_id or c.created_at < started]


def same_problem(case: Case, complaint_type: str, order_id: Any) -> bool:
    """Whether an earlier case was about this problem: the same complaint type, or the
    same order. Only then is this a repeat contact ("sorry you've had to come back to us
    about it again", and the remedies kept for repeat contacts); a verified customer's
    earlier case about something else is not."""
    if case.complaint_type == complaint_type:
        return True
    return known(order_id) and str(case.order_id or "") == str(order_id)
