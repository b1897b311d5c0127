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
import logging
import sys
from typing import Dict, List, Optional, Tuple

from redis.exceptions import RedisError

from actions.backends import store_for_actions
from actions.backends.model import (
    DEMO_DATA,
    Customer,
    Done,
    Order,
    OrderActions,
    OrderStore,
    OrdersUnavailable,
    Outcome,
    Refused,
    proves,
)

# What the actions use (defined in actions/backends/model.py, with the backends).
__all__ = [
    "DEMO_DATA",
    "Customer",
    "Done",
    "Order",
    "OrderActions",
    "OrdersUnavailable",
    "OrderStore",
    "Outcome",
    "Refused",
    "order_store",
    "proves",
]


def order_store() -> OrderStore:
    """The store the actions use: the configured backend, its look-ups cached."""
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
    except RedisError as error:  # the demo store is Redis itself
        return (
            1,
            f"the {name} backend's Redis cannot be reached ({error}): is `make run` up, or REDIS_URL set?",
        )
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
