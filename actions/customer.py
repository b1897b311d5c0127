"""Who the customer is (and how sure we are: contract/identity.py), what we may use of
what they told us before, and which orders they may see.

The order backend may be unavailable (actions/orders.py OrdersUnavailable): who the
customer is then rests on what we remember (their shop record is not looked up, their
tier is standard), and the actions that needed an order tell the customer once, with
`say_orders_unavailable`, and carry on without it."""

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.orders import Customer, Order, OrdersUnavailable, order_store
from actions.store import get_redis
from actions.tracker import known, session_started_at, signed_customer
from contract import memory
from contract.case import Case
from contract.identity import (
    BY_EARLIER_VERIFICATION,
    BY_SHOP_SIGNATURE,
    normalise_email,
)


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

    @property
    def verified(self) -> bool:
        return self.verified_by is not None

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
    """This conversation's customer: verified (by the shop's signature, or earlier in
    this conversation by order and contact) or a guest of this channel identity."""
    redis = get_redis()
    signed = signed_customer(tracker)
    if signed:
        shop = await shop_customer(customer_id=signed)
        customer_id = await memory.link_verified(redis, shop_identities(shop, signed), shop_profile(shop))
        verified_by: Optional[str] = BY_SHOP_SIGNATURE
    else:
        customer_id = await memory.guest(redis, tracker.sender_id)
        verified_by = None
        if await memory.is_verified(redis, customer_id):
            verified_by = tracker.get_slot("verified_by") or BY_EARLIER_VERIFICATION
    cases = await memory.cases_of(redis, customer_id)
    if verified_by is None:
        return CustomerMemory(customer_id, cases=cases)
    await memory.remember(redis, customer_id, {"language": tracker.get_slot("language")})
    profile = await memory.recall(redis, customer_id)
    shop = await shop_customer(email=profile.get("email", "")) if profile.get("email") else None
    return CustomerMemory(customer_id, verified_by, profile, cases, tier=shop.tier if shop else "standard")


async def verify_order_owner(tracker: Tracker, order: Order) -> str:
    """The customer proved they own `order` (its email or phone): this conversation is
    now theirs, and what it had as a guest joins their record."""
    owner = await shop_customer(email=order.email)
    return await memory.link_verified(
        get_redis(),
        shop_identities(owner, email=order.email),
        shop_profile(owner, order.email),
        sender_id=tracker.sender_id,
    )


def usable_order(tracker: Tracker, customer: CustomerMemory, order: Optional[Order]) -> Optional[Order]:
    """The order, if this customer may see and use it: theirs on record, or proved theirs
    in this conversation. Otherwise it is only claimed (agents see it, marked so)."""
    if order is None:
        return None
    if customer.owns(order) or tracker.get_slot("verified_order") == order.order_id:
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
