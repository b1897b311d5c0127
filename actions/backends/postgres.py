"""ORDERS_BACKEND=postgres: the shop's own PostgreSQL (ORDERS_POSTGRES_DSN), read through
queries the owner writes in a YAML file (ORDERS_POSTGRES_QUERIES; docs/orders.md has an
example), with asyncpg.

    order:          $1 the order number                         -> at most one row
    recent_orders:  $1 email, $2 phone ('' when not given), $3 limit -> rows, newest first
    customer:       $1 email, $2 phone, $3 the shop's customer id ('' when not given) -> one row
    cancel:         $1 the order number, $2 the reason           (optional)
    refund:         $1 the order number, $2 the amount, $3 a note (optional; the amount
                    in the playbook's currency, a numeric)

An order row has the HTTP contract's names (actions/backends/http.py): number, email,
status, total, currency, carrier, tracking_number, shipped_at, items (text, text[] or a
JSON list of {"name", "quantity"}); a customer row: id, email, phone, name, tier,
orders_count. `status` is read through data/shop/order_backends.yml (`postgres`).
Give the DSN's role SELECT only, unless cancel or refund are written.

Every query runs within the 3 s deadline (TIMEOUT); reads are retried once after a lost
connection, writes never. Any database error is OrdersUnavailable.
"""

import asyncio
from decimal import Decimal
import json
import time
from typing import Any, Dict, List, Optional

import asyncpg
from pydantic import BaseModel, Extra, validator

from actions.backends.base import Backend
from actions.backends.http import contract_customer, contract_order
from actions.backends.model import Customer, Done, Order, OrdersUnavailable, Outcome, Refused
from actions.backends.settings import OrderSettings
from actions.backends.web import TIMEOUT
from contract import words


class QueriesError(words.WordFileError):
    """A bad ORDERS_POSTGRES_QUERIES file; the message names the line."""


class Queries(BaseModel):
    order: str
    recent_orders: str
    customer: str
    cancel: Optional[str] = None
    refund: Optional[str] = None

    class Config:
        extra = Extra.forbid

    @validator("*")
    def _some(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not value.strip():
            raise ValueError("must be a query")
        return value


class _File(BaseModel):
    queries: Queries


def load_queries(path: str) -> Queries:
    return words.load(path, _File, error=QueriesError).queries  # type: ignore[arg-type]


class PostgresBackend(Backend):
    name = "postgres"

    def __init__(self, settings: OrderSettings) -> None:
        super().__init__(settings.postgres_dsn)
        self.dsn = settings.postgres_dsn
        self.queries = load_queries(settings.postgres_queries)
        self._pool: Optional[asyncpg.Pool] = None

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def _rows(self, query: str, *args: Any, read: bool = True) -> List[Dict[str, Any]]:
        deadline = time.monotonic() + TIMEOUT
        why = ""
        for _ in range(2 if read else 1):
            left = deadline - time.monotonic()
            if left <= 0.05:
                break
            try:
                return await asyncio.wait_for(self._run(query, args), timeout=left)
            except asyncio.TimeoutError:
                raise OrdersUnavailable(self.name, f"no answer within {TIMEOUT:g} s") from None
            except (OSError, asyncpg.exceptions.ConnectionDoesNotExistError, asyncpg.InterfaceError) as error:
                why = f"cannot connect: {error.__class__.__name__}"
                await self.close()
            except asyncpg.PostgresError as error:
                raise OrdersUnavailable(self.name, f"{error.__class__.__name__}: {error}") from None
        raise OrdersUnavailable(self.name, why or f"no answer within {TIMEOUT:g} s")

    async def _run(self, query: str, args: tuple) -> List[Dict[str, Any]]:
        if self._pool is None:
            self._pool = await asyncpg.create_pool(self.dsn, min_size=0, max_size=4, timeout=TIMEOUT)
        async with self._pool.acquire() as connection:
            return [dict(row) for row in await connection.fetch(query, *args)]

    async def get_order(self, order_id: str) -> Optional[Order]:
        rows = await self._rows(self.queries.order, order_id)
        return self.order(rows[0]) if rows else None

    async def recent_orders_for(self, email: str = "", phone: str = "", limit: int = 3) -> List[Order]:
        if not (email or phone) or limit < 1:
            return []
        rows = await self._rows(self.queries.recent_orders, email, phone, limit)
        return [self.order(row) for row in rows[:limit]]

    async def customer(self, email: str = "", phone: str = "", customer_id: str = "") -> Optional[Customer]:
        if not (email or phone or customer_id):
            return None
        rows = await self._rows(self.queries.customer, email, phone, customer_id)
        return contract_customer(rows[0]) if rows else None

    def order(self, row: Dict[str, Any]) -> Order:
        items = row.get("items")
        if isinstance(items, str) and items.strip().startswith("["):
            try:
                row = {**row, "items": json.loads(items)}
            except ValueError:
                pass
        return contract_order(self.name, row)

    # --- OrderActions: only when the owner wrote the query ----------------------------------

    async def cancel(self, order_id: str, *, reason: str, key: str) -> Outcome:
        if not self.queries.cancel:
            return Refused("no cancel query in ORDERS_POSTGRES_QUERIES")
        rows = await self._rows(self.queries.cancel, order_id, reason, read=False)
        return (
            Done(str(rows[0].get("reference") or ""))
            if rows
            else Refused(f"order {order_id}: nothing cancelled")
        )

    async def refund(self, order_id: str, amount: int, *, note: str, key: str) -> Outcome:
        if not self.queries.refund:
            return Refused("no refund query in ORDERS_POSTGRES_QUERIES")
        rows = await self._rows(self.queries.refund, order_id, Decimal(amount), note, read=False)
        return (
            Done(str(rows[0].get("reference") or ""))
            if rows
            else Refused(f"order {order_id}: nothing refunded")
        )
