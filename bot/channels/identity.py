"""Who is writing, as far as the hub can tell (contract/identity.py has the levels).

Every channel hands the core an identity in the contract's shape, which the turn
passes to the assistant as metadata["identity"] and keeps in the conversation hash:
`{"channel_id", "psid" (Messenger only), "zalo_user" (Zalo only), "shop_customer" (only
when verified)}`.

A shop customer is verified only from the shop's signature (`{"shop_identity": ...}`
in the widget's customData or in REST metadata) under SHOP_IDENTITY_SECRET; anything
else is a guest. The demo sign-in (HUB_DEMO) lets the demo shop page sign the demo
customer with that secret, for trying the feature locally.
"""

from dataclasses import dataclass
import hashlib
import hmac
import logging
from pathlib import Path
import secrets
import time
from typing import Any, Dict, Optional

import yaml

from bot.settings import Settings, is_loopback
from contract import keys
from contract.identity import sign_identity, verify_identity

log = logging.getLogger(__name__)
DEMO_SIGN_IN_SECONDS = 3600


def channel_identity(
    channel_id: str,
    psid: Optional[str] = None,
    shop_customer: Optional[str] = None,
    zalo_user: Optional[str] = None,
) -> Dict[str, str]:
    identity = {"channel_id": channel_id}
    if psid:
        identity["psid"] = psid
    if zalo_user:
        identity["zalo_user"] = zalo_user
    if shop_customer:
        identity["shop_customer"] = shop_customer
    return identity


def client_tag(address: str, secret: str) -> str:
    """What the assistant may know of a client's network address: a keyed hash (so
    nothing stored names an address), to count wrong proofs from one address
    (actions/details_form.py). "" for loopback: there it is a local proxy's address, or a
    developer's, shared by everyone behind it."""
    if not address or is_loopback(address):
        return ""
    return hmac.new(f"{secret}:client".encode(), address.encode(), hashlib.sha256).hexdigest()[:32]


def signed_customer(carrier: Any, secret: str) -> Optional[str]:
    """The shop customer id signed in `carrier["shop_identity"]`, or None (a guest)."""
    if not isinstance(carrier, dict):
        return None
    return verify_identity(carrier.get("shop_identity"), secret)


async def shop_secret(redis, settings: Settings) -> str:
    """SHOP_IDENTITY_SECRET; for the demo without one, a random value made once in Redis
    (shared by every hub process). Without either, nothing is ever verified."""
    if settings.shop_identity_secret:
        return settings.shop_identity_secret
    if not settings.demo:
        log.info("SHOP_IDENTITY_SECRET is unset: every widget and REST customer is a guest")
        return ""
    await redis.set(keys.SHOP_IDENTITY_SECRET, secrets.token_urlsafe(32), nx=True)
    return await redis.get(keys.SHOP_IDENTITY_SECRET)


@dataclass(frozen=True)
class DemoSignIn:
    customer_id: str
    name: str


def demo_customer_name(orders_data: Path, customer_id: str) -> Optional[str]:
    try:
        shop = yaml.safe_load(Path(orders_data).read_text(encoding="utf-8"))["shop"]
    except (OSError, yaml.YAMLError, KeyError, TypeError) as error:
        log.warning("cannot read the demo customers from %s: %s", orders_data, error)
        return None
    for customer in shop.get("customers") or []:
        if isinstance(customer, dict) and str(customer.get("id")) == customer_id:
            return str(customer.get("name") or customer_id)
    return None


def demo_sign_in(settings: Settings) -> Optional[DemoSignIn]:
    """The demo sign-in when HUB_DEMO is on (announced loudly), else None."""
    if not settings.demo:
        return None
    name = demo_customer_name(Path(settings.orders_data), settings.demo_customer)
    if name is None:
        log.warning(
            "demo customer %s is not in %s: the demo page signs it in without a name",
            settings.demo_customer,
            settings.orders_data,
        )
    log.warning(
        "DEMO SIGN-IN IS ON (HUB_DEMO): anyone who opens this hub's shop page can "
        "chat as verified customer %s (%s). Never turn it on for a hub reachable "
        "from outside.",
        settings.demo_customer,
        name or "?",
    )
    return DemoSignIn(settings.demo_customer, name or settings.demo_customer)


def demo_identity(demo: DemoSignIn, secret: str) -> Dict[str, Any]:
    """What GET /demo/identity answers: the demo customer, freshly signed."""
    signed = sign_identity(demo.customer_id, int(time.time()) + DEMO_SIGN_IN_SECONDS, secret)
    return {"customer_id": demo.customer_id, "name": demo.name, "shop_identity": signed}
