"""What an order is, as the bot sees it, whatever the backend: the order and its customer,
the one failure an action must be ready for (OrdersUnavailable), the two protocols (what
the actions read through, OrderStore; what a backend does for an `api` remedy,
OrderActions) and their outcomes, and what counts as proof that an order is someone's.
The actions reach all of it through actions/orders.py; the backends build on it."""

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Protocol, Union, runtime_checkable

from contract.identity import normalise_email, normalise_phone

DEMO_DATA = Path(__file__).resolve().parents[2] / "data" / "shop" / "orders.yml"
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
