"""Helpers every action uses: language, known details, who the customer is (and how
sure we are: contract/identity.py), buttons."""

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from rasa_sdk import Tracker

from actions import memory
from actions.orders import Customer, Order, order_store
from actions.playbook import Playbook, load_playbook
from actions.store import get_redis
from contract.identity import (
    BY_EARLIER_VERIFICATION,
    BY_SHOP_SIGNATURE,
    mask_email,
    mask_phone,
    normalise_email,
)
from contract.language import LANGUAGES

# Loaded (and validated) when the action server imports the actions: a bad playbook
# stops the server at start-up with a message naming the line.
PLAYBOOK: Playbook = load_playbook()

NO_VALUE = "none"  # the customer said they do not have this detail
DETAIL_SLOTS = ("order_id", "email", "phone")


def language(tracker: Tracker) -> str:
    value = tracker.get_slot("language")
    return value if value in LANGUAGES else "en"


def text(mapping: Optional[Dict[str, str]], lang: str) -> str:
    if not mapping:
        return ""
    return mapping.get(lang) or mapping.get("en", "")


def join_options(options: List[str], lang: str, phrase: str = "one_of") -> str:
    """ "a, b, or c" (phrase "one_of") or "a, b and c" ("all_of"), in the customer's language."""
    if len(options) <= 1:
        return "".join(options)
    return ", ".join(options[:-1]) + text(getattr(PLAYBOOK.phrases, phrase), lang) + options[-1]


def known(value: Any) -> bool:
    return value not in (None, "", NO_VALUE)


def details_from_slots(tracker: Tracker) -> Dict[str, Optional[str]]:
    return {name: tracker.get_slot(name) for name in DETAIL_SLOTS}


def latest_entity(tracker: Tracker, name: str) -> Optional[str]:
    values = list(tracker.get_latest_entity_values(name))
    return str(values[0]) if values else None


def person_button(lang: str) -> Dict[str, str]:
    return {"title": text(PLAYBOOK.labels["talk_to_person"], lang), "payload": "/request_human"}


def channel_of(tracker: Tracker) -> str:
    metadata = tracker.latest_message.get("metadata") or {}
    return str(metadata.get("channel") or tracker.get_latest_input_channel() or "rest")


@dataclass
class CustomerMemory:
    """Who this customer is, how sure we are, and what we may use.

    A guest (not verified) has no profile: nothing stored is shown to them, and only
    their own channel identity's earlier cases count (for repeat contact)."""

    customer_id: str
    verified_by: Optional[str] = None  # how they proved it (contract.identity.BY_*)
    profile: Dict[str, str] = field(default_factory=dict)
    cases: List[Dict] = field(default_factory=list)
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

    def open_cases(self, conversation_id: str = "") -> List[Dict]:
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


def _signed_customer(tracker: Tracker) -> Optional[str]:
    """The shop customer id the hub verified from the shop's signature, if any."""
    identity = (tracker.latest_message.get("metadata") or {}).get("identity") or {}
    value = identity.get("shop_customer") if isinstance(identity, dict) else None
    return value if isinstance(value, str) and value else None


async def load_customer(tracker: Tracker) -> CustomerMemory:
    """This conversation's customer: verified (by the shop's signature, or earlier in
    this conversation by order and contact) or a guest of this channel identity."""
    redis = get_redis()
    store = order_store()
    signed = _signed_customer(tracker)
    if signed:
        shop = await store.customer(customer_id=signed)
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
    shop = await store.customer(email=profile.get("email", ""))
    return CustomerMemory(customer_id, verified_by, profile, cases, tier=shop.tier if shop else "standard")


async def verify_order_owner(tracker: Tracker, order: Order) -> str:
    """The customer proved they own `order` (its email or phone): this conversation is
    now theirs, and what it had as a guest joins their record."""
    owner = await order_store().customer(email=order.email)
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


def recalled_details(tracker: Tracker, customer: CustomerMemory, open_cases: List[Dict]) -> Dict[str, str]:
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
            if known(case.get("order_id")):
                found["order_id"] = case["order_id"]
                break
    return found


def describe_details(details: Dict[str, str], lang: str) -> str:
    """Stored details as the customer may see them: contact details masked."""
    masks = {"email": mask_email, "phone": mask_phone}
    parts = [
        text(getattr(PLAYBOOK.phrases, k), lang).replace("{}", masks.get(k, str)(v))
        for k, v in details.items()
        if k in ("order_id", "email", "phone") and known(v)
    ]
    return join_options(parts, lang, "all_of")
