"""Who is writing, and how sure we are: trust levels, the identity the hub passes to
the assistant, the shop's signed customer identity, and masking.

Trust levels (DESIGN.md "Trust"):
- verified: a customer identity signed by the shop's server (checked by the hub), a
  Messenger PSID (Meta signs the webhook), a Zalo user id for the shop's Official Account
  (Zalo's MAC signs the webhook), or an order number together with the email or phone on
  that order, given in this conversation (or the owner's one-time link): that proof lasts
  the session, SESSION_IDLE_MINUTES after the last message (contract/memory.py
  session_proof). A PSID or a Zalo user id is a verified *channel* identity: its own
  earlier cases count for repeat contact, and nothing else is linked to it until the
  customer proves an order.
- same conversation: whatever the customer typed in this conversation. It is usable in
  this conversation (the tracker's slots) and never linked to anyone.
- unverified: everything else. Never linked to a customer record, never used for
  repeat contact or tier, and nothing stored is shown back.

The hub puts `identity` into the metadata of every message it sends to Rasa. Customers
cannot set metadata (the hub builds it), so the assistant may trust it:

    {"channel": "web" | "rest" | "messenger" | "zalo",
     "message_id": "...",
     "client": "<a keyed hash of the widget client's own address; absent for REST,
                 Messenger, Zalo and loopback>",
     "identity": {"channel_id": "<widget session / REST sender / PSID / Zalo user id>",
                  "psid": "<only on Messenger>",
                  "zalo_user": "<only on Zalo: the user's id for the shop's OA>",
                  "shop_customer": "<only when the hub checked the shop's signature>"},
     "handback": {"agent": "...", "note": "..."}   # only on the hub's own hand-back}

The shop signs a logged-in customer like this (SHOP_IDENTITY_SECRET is shared between
the shop's server and the hub, never sent to a browser):

    expires = int(time.time()) + 3600
    message = f"{customer_id}|{expires}".encode()
    signature = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    {"shop_identity": {"customer_id": customer_id, "expires": expires, "signature": signature}}
"""

import hashlib
import hmac
import re
import time
from typing import Any, Dict, Optional

VERIFIED = "verified"
SAME_CONVERSATION = "same_conversation"
UNVERIFIED = "unverified"

# How a conversation came to be verified (shown to agents).
BY_SHOP_SIGNATURE = "shop_signature"
BY_PSID = "messenger_psid"
BY_ZALO_USER = "zalo_user"
BY_ORDER_CONTACT = "order_and_contact"
BY_EARLIER_VERIFICATION = "earlier_verification"
BY_EMAIL_LINK = "email_link"  # the one-time link sent to the email on the order

# Wrong emails or phones for one order number, across conversations, after which nothing
# more is checked against it for keys.ORDER_PROOF_WINDOW, not even a right one (so the
# lock reveals nothing): actions/details_form.py counts, agents may lift it
# (bot/console/proof_lock.py). The same holds for one conversation (any order, a day) and
# one client address (any order, keys.ADDRESS_PROOF_WINDOW). The owner gets past it with
# a one-time link sent to the email on the order (bot/aftercare/owner_link.py).
MAX_PROOF_FAILURES = 5
MAX_PROOF_FAILURES_PER_SENDER = 8
MAX_PROOF_FAILURES_PER_ADDRESS = 30

# The channel identities the hub vouches for (a platform's signature), as identity keys.
CHANNEL_IDENTITIES = {"psid": BY_PSID, "zalo_user": BY_ZALO_USER}

CUSTOMER_ID_RE = re.compile(r"^[A-Za-z0-9_.@+-]{1,128}$")
MAX_VALIDITY = 30 * 24 * 3600  # a signature valid for longer than this is refused


def identity_message(customer_id: str, expires: int) -> bytes:
    return f"{customer_id}|{expires}".encode()


def sign_identity(customer_id: str, expires: int, secret: str) -> Dict[str, Any]:
    """What the shop's server puts into the widget's customData as "shop_identity"."""
    signature = hmac.new(secret.encode(), identity_message(customer_id, expires), hashlib.sha256).hexdigest()
    return {"customer_id": customer_id, "expires": expires, "signature": signature}


def verify_identity(signed: Any, secret: str, now: Optional[float] = None) -> Optional[str]:
    """The shop's customer id if `signed` carries a valid, unexpired signature, else None.

    Anything malformed, expired, forged or signed with another secret is simply not an
    identity (the customer is a guest): never an error, never another customer."""
    if not secret or not isinstance(signed, dict):
        return None
    customer_id, expires, signature = (signed.get(k) for k in ("customer_id", "expires", "signature"))
    if not isinstance(customer_id, str) or not CUSTOMER_ID_RE.match(customer_id):
        return None
    if isinstance(expires, bool) or not isinstance(expires, int) or not isinstance(signature, str):
        return None
    now = time.time() if now is None else now
    if not now < expires <= now + MAX_VALIDITY:
        return None
    expected = sign_identity(customer_id, expires, secret)["signature"]
    # Compare bytes: compare_digest refuses non-ASCII str.
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        return None
    return customer_id


def mask_email(email: str) -> str:
    """ "l…@example.com": enough for its owner to recognise, nothing for anyone else."""
    local, at, domain = (email or "").partition("@")
    if not at:
        return "…"
    return f"{local[:1]}…@{domain}"


def mask_phone(phone: str) -> str:
    """ "…678": the last three digits only."""
    digits = re.sub(r"\D", "", phone or "")
    return f"…{digits[-3:]}" if digits else "…"


def normalise_phone(phone: str) -> str:
    """Digits only, with Vietnam's +84 / 84 written as a leading 0, so that
    "+84 912 345 678", "0912-345-678" and "0912345678" compare equal."""
    digits = re.sub(r"\D", "", phone or "")
    if digits.startswith("84") and len(digits) in (11, 12):
        digits = "0" + digits[2:]
    return digits


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()
