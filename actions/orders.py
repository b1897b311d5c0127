"""Orders, through one interface, from the backend the configuration chooses.

`OrderStore` is what the actions read orders through: `get_order`, `recent_orders_for`,
`customer`, `set_status`. Every method either answers or raises `OrdersUnavailable`
(the backend timed out, failed, refused the connection, or answered something the bot
cannot read): that is the one outcome an action must be ready for besides the answer,
and it means "carry on without orders and offer a person", never a 500.

`ORDERS_BACKEND` chooses the backend (actions/backends/: `demo`, the default, from
data/shop/orders.yml in Redis; `shopify`, `woocommerce`, `haravan`, `http`, `postgres`),
read on first use (actions/backends/settings.py). `order_store()` is the store the
actions use: the backend with its look-ups cached in Redis for a short time
(actions/backends/cached.py). `OrderActions` is what a backend can do besides reading
(cancel an order, refund an amount), for a remedy the playbook marks `api`.

    python -m actions.orders lookup <order> [--contact EMAIL_OR_PHONE]

prints the order as the bot would see it, from the configured backend, fresh (never
from the cache): what the operator runs to check the set-up.
"""

import argparse
import asyncio
from dataclasses import asdict, dataclass, field
import logging
from pathlib import Path
import sys
from typing import Dict, List, Optional, Protocol, Tuple, Union, runtime_checkable

from contract.identity import normalise_email, normalise_phone

DEMO_DATA = Path(__file__).resolve().parent.parent / "data" / "shop" / "orders.yml"
MIN_PHONE_DIGITS = 8  # the shortest number compared as a phone


@dataclass
class Customer:
    email: str
    id: str = ""  # the shop's own customer id (what it signs for the widget)
    name: str = ""
    phone: str = ""
    tier: str = "standard"
    orders_total: int = 0


@dataclass
class Order:
    order_id: str  # the number the customer sees (never a platform's internal id)
    email: str
    status: str  # one of the playbook's order statuses
    value: int  # in the playbook's currency
    carrier: str = ""
    shipped_days_ago: Optional[int] = None
    last_scan: Dict[str, str] = field(default_factory=dict)
    items: Dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> Dict:
        return asdict(self)


class OrdersUnavailable(Exception):
    """The order backend could not answer now: slow (past its timeout), failing (a 5xx),
    unreachable, refusing the credentials, or answering what cannot be mapped. The
    message says which, for the logs and the operator; the customer hears only that
    orders can't be seen right now."""

    def __init__(self, backend: str, reason: str) -> None:
        super().__init__(f"{backend}: {reason}")
        self.backend = backend
        self.reason = reason


class OrderStore(Protocol):
    async def get_order(self, order_id: str) -> Optional[Order]: ...

    async def recent_orders_for(self, email: str = "", phone: str = "", limit: int = 3) -> List[Order]: ...

    async def customer(
        self, email: str = "", phone: str = "", customer_id: str = ""
    ) -> Optional[Customer]: ...

    async def set_status(self, order_id: str, status: str) -> None: ...


@dataclass(frozen=True)
class Done:
    """What a backend carried out: `reference` is the platform's own (a refund id, a job)."""

    reference: str = ""


@dataclass(frozen=True)
class Refused:
    """The platform answered and said no (already cancelled, nothing left to refund...):
    `reason` in its words, for the task the remedy falls back to."""

    reason: str


Outcome = Union[Done, Refused]  # an unreachable backend raises OrdersUnavailable instead


@runtime_checkable
class OrderActions(Protocol):
    """What a backend does besides reading, for a remedy the playbook marks `api`.
    `key` makes a retry of the same request harmless where the platform honours one
    (the case reference and remedy, say). An unreachable backend raises
    OrdersUnavailable; a refusal is `Refused`; nothing else is returned."""

    async def cancel(self, order_id: str, *, reason: str, key: str) -> Outcome: ...

    async def refund(self, order_id: str, amount: int, *, note: str, key: str) -> Outcome: ...


def proves(order: Order, owner: Optional[Customer], email: str = "", phone: str = "") -> bool:
    """Whether an email or phone is the one on `order` (its email, or its owner's phone):
    what the bot accepts as proof that the order is theirs."""
    if email and normalise_email(email) == normalise_email(order.email):
        return True
    digits = normalise_phone(phone)
    return bool(
        owner and owner.phone and len(digits) >= MIN_PHONE_DIGITS and digits == normalise_phone(owner.phone)
    )


def order_store() -> OrderStore:
    """The store the actions use: the configured backend, its look-ups cached."""
    from actions.backends import store_for_actions

    return store_for_actions()


# --- python -m actions.orders lookup ---------------------------------------------------


def split_contact(contact: str) -> Tuple[str, str]:
    """(email, phone) from what the operator typed."""
    return (contact.strip(), "") if "@" in contact else ("", contact.strip())


def describe(order: Order, owner: Optional[Customer], status_words: Dict[str, str], currency: str) -> str:
    """The order as the bot sees it, for a person."""
    lines = [
        f"order {order.order_id}",
        f"  status:  {order.status} ({status_words.get(order.status, '?')})",
        f"  value:   {order.value:,} {currency}",
        f"  items:   {order.items.get('en', '')}",
        f"  carrier: {order.carrier or '-'} ({order.last_scan.get('en', '')})",
        f"  email:   {order.email or '-'}",
    ]
    if order.shipped_days_ago is not None:
        lines.append(f"  shipped: {order.shipped_days_ago} days ago")
    if owner is not None:
        lines.append(f"  customer: {owner.name or '-'}, tier {owner.tier}, phone {owner.phone or '-'}")
    return "\n".join(lines)


async def lookup(order_id: str, contact: str = "") -> Tuple[int, str]:
    """(exit code, what to print) for `lookup`: 0 and the order, or 1 and one line."""
    from actions.backends import build_backend
    from actions.backends.settings import SettingsProblem, order_settings
    from actions.playbook import shop_playbook

    try:
        settings = order_settings()
        backend = build_backend(settings)
    except SettingsProblem as problem:
        return 1, f"order backend not configured: {problem}"
    name = settings.backend
    try:
        order = await backend.get_order(order_id.strip().lstrip("#"))
        if order is None:
            return 1, f"order {order_id} not found in the {name} backend"
        owner = await backend.customer(email=order.email) if order.email else None
    except OrdersUnavailable as unavailable:
        return 1, f"the {name} backend is unavailable: {unavailable.reason}"
    finally:
        await backend.close()
    if contact:
        email, phone = split_contact(contact)
        if not proves(order, owner, email, phone):
            return (
                1,
                f"{contact} is not the email or phone on order {order.order_id}: the bot would ask again",
            )
    book = shop_playbook()
    words = {status: texts.en for status, texts in book.order_status.items()}
    shown = describe(order, owner, words, book.currency)
    if contact:
        shown += f"\n  proof:   {contact} matches: the bot would show this order"
    return 0, f"{name} backend\n{shown}"


def main(argv: List[str]) -> int:
    # One line for the operator: the backends' own warnings (each retry) stay out of it.
    logging.basicConfig(level=logging.ERROR)
    parser = argparse.ArgumentParser(prog="python -m actions.orders", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    look = commands.add_parser("lookup", help="print an order as the bot would see it")
    look.add_argument("order", help="the order number the customer sees")
    look.add_argument("--contact", default="", help="an email or phone to check as the bot's proof")
    args = parser.parse_args(argv)
    code, shown = asyncio.run(lookup(args.order, args.contact))
    print(shown, file=sys.stdout if code == 0 else sys.stderr)
    return code


if __name__ == "__main__":
    # The module's own classes (OrdersUnavailable...), not copies made for __main__.
    from actions.orders import main as run

    sys.exit(run(sys.argv[1:]))


__all__ = [
    "Customer",
    "DEMO_DATA",
    "Done",
    "Order",
    "OrderActions",
    "OrderStore",
    "OrdersUnavailable",
    "Outcome",
    "Refused",
    "order_store",
    "proves",
]
