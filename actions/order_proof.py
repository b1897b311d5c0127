"""The proof that an order is the customer's, for the details form (actions/details_form.py):
the order number claimed, what each wrong answer counts against, when a proof must be
fresh, what looks like an email or phone, and the owner's one-time link past a lock.
"""

from dataclasses import dataclass
import json
import re
import secrets
from typing import List, Optional, Tuple

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.customer import CustomerMemory, owner_identities, shop_customer
from actions.orders import Order
from actions.store import get_redis
from actions.tracker import client_of, language, latest_entity
from contract import keys
from contract.identity import (
    MAX_PROOF_FAILURES,
    MAX_PROOF_FAILURES_PER_ADDRESS,
    MAX_PROOF_FAILURES_PER_SENDER,
)

MIN_PHONE_DIGITS = 8  # the shortest number the form's _matches compares as a phone
# What changes an order or pays into an account needs a proof younger than the idle time.
CHANGES_THE_ORDER = "cancel_order"


@dataclass(frozen=True)
class Claim:
    """An order number the customer gave and has not proved theirs (yet, or again): the
    order, if there is one. Either way it is asked about and checked the same way."""

    order_id: str
    order: Optional[Order]


def proof_counters(tracker: Tracker, order_id: str) -> List[Tuple[str, int, int]]:
    """(counter, most, window) of the wrong answers this proof counts against: the order
    number, the conversation, and the client's address when the hub gave one."""
    found = [
        (keys.order_proof_failures(order_id), MAX_PROOF_FAILURES, keys.ORDER_PROOF_WINDOW),
        (
            keys.sender_proof_failures(tracker.sender_id),
            MAX_PROOF_FAILURES_PER_SENDER,
            keys.ORDER_PROOF_WINDOW,
        ),
    ]
    client = client_of(tracker)
    if client:
        found.append(
            (keys.address_proof_failures(client), MAX_PROOF_FAILURES_PER_ADDRESS, keys.ADDRESS_PROOF_WINDOW)
        )
    return found


def needs_fresh_proof(tracker: Tracker, customer: CustomerMemory) -> bool:
    """Whether what the customer asks changes the order (a cancellation) while their
    proof is older than the idle time: then the order is proved again first."""
    return (
        tracker.get_slot("complaint_type") == CHANGES_THE_ORDER and customer.verified and not customer.fresh
    )


async def ask_for_owner_link(dispatcher: CollectingDispatcher, tracker: Tracker, claim: Claim) -> None:
    """Past a limit: ask the hub to email the order's owner a one-time link that proves
    the order for this conversation (bot/aftercare/owner_link.py). The hub says so, the
    same way whatever the number, and sends it only when mail is set up and there is an
    owner to write to; the request names the owner for the hub, never the customer."""
    owner = await shop_customer(email=claim.order.email) if claim.order else None
    ids, profile = owner_identities(owner, claim.order) if claim.order else ([], {})
    request_id = secrets.token_urlsafe(16)
    redis = get_redis()
    pipe = redis.pipeline(transaction=True)
    pipe.hset(
        keys.proof_link_request(request_id),
        mapping={
            "conversation": tracker.sender_id,
            "order": claim.order_id,
            "email": claim.order.email if claim.order else "",
            "identities": json.dumps(ids),
            "profile": json.dumps(profile),
            "language": language(tracker),
        },
    )
    pipe.expire(keys.proof_link_request(request_id), keys.PROOF_LINK_REQUEST_TTL)
    await pipe.execute()
    dispatcher.utter_message(json_message={"proof_link": request_id})


def looks_like_contact(tracker: Tracker, text: str, order_id: str) -> bool:
    """Whether a reply to "what's the email or phone on the order?" offers one: an email
    or phone the NLU found, an "@", or enough digits for a phone number that are not the
    order's own number."""
    if latest_entity(tracker, "email") or latest_entity(tracker, "phone") or "@" in text:
        return True
    digits = re.sub(r"\D", "", text)
    return len(digits) >= MIN_PHONE_DIGITS and digits != order_id


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
