"""Each backend's statuses and money, read as the playbook's: data/shop/order_backends.yml.

The tables are data, not code, because they are the shop owner's to read and to change:
what "completed" means in one WooCommerce shop ("delivered") is "shipped" in another, a
plugin adds statuses of its own, and a shop's own database (the `http` and `postgres`
backends) has its own words. Each backend module documents which of its platform's
fields gives the word; this file says what the word means. A file that leaves out a
word the platform documents, or maps one onto a status the playbook does not have, is
refused at first use, naming the line.

    python -m actions.backends.mapping [PATH]    # check a file
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
import sys
from typing import Dict, List, Optional, Union

from pydantic import BaseModel, Extra

from actions.backends.model import OrdersUnavailable
from actions.playbook import shop_playbook
from contract import words
from contract.words import Texts

PATH = Path(__file__).resolve().parent.parent.parent / "data" / "shop" / "order_backends.yml"

# The status words each platform documents (where each comes from: the backend's module).
DOCUMENTED: Dict[str, tuple] = {
    "shopify": (
        "ORDER_CANCELLED",
        # FulfillmentDisplayStatus (CANCELED fulfillments are skipped)
        "ATTEMPTED_DELIVERY",
        "CARRIER_PICKED_UP",
        "CONFIRMED",
        "DELAYED",
        "DELIVERED",
        "FAILURE",
        "FULFILLED",
        "IN_TRANSIT",
        "LABEL_PRINTED",
        "LABEL_PURCHASED",
        "LABEL_VOIDED",
        "MARKED_AS_FULFILLED",
        "NOT_DELIVERED",
        "OUT_FOR_DELIVERY",
        "PICKED_UP",
        "READY_FOR_PICKUP",
        "SUBMITTED",
        # OrderDisplayFulfillmentStatus
        "FULFILLMENT_NOT_REQUIRED",
        "IN_PROGRESS",
        "ON_HOLD",
        "OPEN",
        "PARTIALLY_FULFILLED",
        "PENDING_FULFILLMENT",
        "REQUEST_DECLINED",
        "RESTOCKED",
        "SCHEDULED",
        "UNFULFILLED",
    ),
    "woocommerce": (
        "pending",
        "processing",
        "on-hold",
        "completed",
        "cancelled",
        "refunded",
        "failed",
        "trash",
        "checkout-draft",
    ),
    "haravan": (
        "cancelled",
        "readytopick",
        "picking",
        "cancel",
        "delivering",
        "notmeetcustomer",
        "delivered",
        "waitingforreturn",
        "return",
        "notfulfilled",
        "unfulfilled",
        "partial",
        "fulfilled",
        "restocked",
    ),
    "http": ("processing", "shipped", "in_transit", "lost", "delivered", "cancelled"),
    "postgres": (),  # the owner's own words
}


class TableError(words.WordFileError):
    """A bad data/shop/order_backends.yml; the message names the line."""


class TrackingText(Texts):
    _only = words.only_placeholders("number")


class Words(BaseModel):
    not_shipped: Texts
    tracking: TrackingText
    no_tracking: Texts

    class Config:
        extra = Extra.forbid


class Tables(BaseModel):
    currency_rates: Dict[str, Decimal] = {}
    statuses: Dict[str, Dict[str, str]]
    words: Words

    class Config:
        extra = Extra.forbid


class _File(BaseModel):
    order_backends: Tables


def _check(file: _File) -> List[words.Problem]:
    tables = file.order_backends
    known = set(shop_playbook().order_status)
    problems: List[words.Problem] = []
    at = ("order_backends", "statuses")
    for backend, documented in DOCUMENTED.items():
        table = tables.statuses.get(backend)
        if table is None:
            problems.append((at, f"no table for {backend}"))
            continue
        for word in documented:
            if word not in table:
                problems.append((at + (backend,), f"{word!r} ({backend} documents it) is not mapped"))
        for word, status in table.items():
            if status not in known:
                problems.append(
                    (at + (backend, word), f"unknown status {status!r}; expected one of {sorted(known)}")
                )
    for backend in tables.statuses:
        if backend not in DOCUMENTED:
            problems.append((at + (backend,), f"unknown backend; expected one of {sorted(DOCUMENTED)}"))
    for currency, rate in tables.currency_rates.items():
        if rate <= 0:
            problems.append((("order_backends", "currency_rates", currency), "must be a positive number"))
    return problems


def load_tables(path: Path = PATH) -> Tables:
    return words.load(path, _File, _check, TableError).order_backends


@lru_cache(maxsize=1)
def tables() -> Tables:
    """The tables, loaded and checked once, on first use."""
    return load_tables()


def playbook_status(backend: str, word: Optional[str]) -> str:
    """The playbook's order status for a platform's status word; a word the table lacks
    is not guessed at (OrdersUnavailable, naming the word to add)."""
    table = tables().statuses.get(backend, {})
    status = table.get(str(word)) if word is not None else None
    if status is None:
        raise OrdersUnavailable(
            backend, f"status {word!r} is not in {PATH.name} (statuses: {backend}): add it"
        )
    return status


def playbook_money(backend: str, amount: Union[str, int, float, Decimal, None], currency: str = "") -> int:
    """An amount in the platform's `currency` as a whole number in the playbook's (what
    order values and approval limits are counted in)."""
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        raise OrdersUnavailable(backend, f"amount {amount!r} is not a number") from None
    return int((value * rate(backend, currency)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def platform_money(backend: str, value: int, currency: str = "") -> Decimal:
    """The other way: a playbook amount (a refund) in the platform's currency, to the cent."""
    return (Decimal(value) / rate(backend, currency)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def rate(backend: str, currency: str) -> Decimal:
    ours = shop_playbook().currency.upper()
    theirs = (currency or ours).upper()
    if theirs == ours:
        return Decimal(1)
    found = tables().currency_rates.get(theirs)
    if found is None:
        raise OrdersUnavailable(
            backend,
            f"an order in {theirs}, but the playbook counts in {ours}: add {theirs} to currency_rates",
        )
    return found


def main(argv: List[str]) -> int:
    try:
        found = load_tables(Path(argv[0]) if argv else PATH)
    except (TableError, OSError) as error:
        print(f"order backend tables refused: {error}", file=sys.stderr)
        return 1
    print(f"order backend tables ok: {', '.join(sorted(found.statuses))}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
