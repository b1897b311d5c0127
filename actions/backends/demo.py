"""The demo shop (ORDERS_BACKEND=demo, the default): data/shop/orders.yml (or
ORDERS_DATA), loaded into Redis the first time it is needed and again only when the
file changes. Already in Redis, so nothing is cached in front of it; the only backend
whose `set_status` keeps what the bot set.

It is the demo shop's order system too (OrderActions, for `api` remedies): `cancel`
marks an order not yet shipped cancelled, `refund` keeps the refund on the order
(keys.shop_refunds), at most what the order is worth, once per key."""

import hashlib
import json
from pathlib import Path
from typing import Dict, List, Optional

import yaml

from actions.backends.base import Backend
from actions.backends.model import DEMO_DATA, Customer, Done, Order, Outcome, Refused
from contract import keys

_read_cache: Dict[Path, tuple] = {}


def _read_demo_data(path: Path) -> tuple:
    """(bytes, sha256) of the demo data, read again only when the file changes."""
    mtime = path.stat().st_mtime_ns
    cached = _read_cache.get(path)
    if cached is None or cached[0] != mtime:
        raw = path.read_bytes()
        cached = (mtime, raw, hashlib.sha256(raw).hexdigest())
        _read_cache[path] = cached
    return cached[1], cached[2]


class RedisOrderStore(Backend):
    """The demo shop's orders and customers, kept in Redis."""

    name = "demo"

    def __init__(self, redis, data_path: Path = DEMO_DATA) -> None:
        super().__init__(str(data_path))
        self.redis = redis
        self.data_path = data_path

    async def ensure_loaded(self) -> None:
        raw, fingerprint = _read_demo_data(self.data_path)
        if await self.redis.get(keys.SHOP_LOADED) == fingerprint:
            return
        shop = yaml.safe_load(raw)["shop"]
        pipe = self.redis.pipeline(transaction=True)
        for entry in shop["customers"]:
            customer = Customer(**entry)
            pipe.set(keys.shop_customer(customer.email), json.dumps(customer.__dict__))
            if customer.phone:
                pipe.set(keys.shop_phone(customer.phone), customer.email.lower())
            if customer.id:
                pipe.set(keys.shop_customer_id(customer.id), customer.email.lower())
        for entry in shop["orders"]:
            order = Order(**entry)
            pipe.set(keys.shop_order(order.order_id), json.dumps(order.as_dict()))
            # Most recent first: fewer days since shipping (unshipped counts as newest).
            recency = -(order.shipped_days_ago if order.shipped_days_ago is not None else -1)
            pipe.zadd(keys.shop_orders_of(order.email), {order.order_id: recency})
        pipe.set(keys.SHOP_LOADED, fingerprint)
        await pipe.execute()

    async def get_order(self, order_id: str) -> Optional[Order]:
        await self.ensure_loaded()
        raw = await self.redis.get(keys.shop_order(order_id))
        return Order(**json.loads(raw)) if raw else None

    async def _email_for(self, email: str, phone: str, customer_id: str = "") -> str:
        if email:
            return email.lower()
        if phone:
            return await self.redis.get(keys.shop_phone(phone)) or ""
        if customer_id:
            return await self.redis.get(keys.shop_customer_id(customer_id)) or ""
        return ""

    async def recent_orders_for(self, email: str = "", phone: str = "", limit: int = 3) -> List[Order]:
        """The customer's most recent orders, newest first."""
        await self.ensure_loaded()
        owner = await self._email_for(email, phone)
        if not owner or limit < 1:
            return []
        newest = await self.redis.zrevrange(keys.shop_orders_of(owner), 0, limit - 1)
        found = [await self.get_order(order_id) for order_id in newest]
        return [order for order in found if order is not None]

    async def customer(self, email: str = "", phone: str = "", customer_id: str = "") -> Optional[Customer]:
        await self.ensure_loaded()
        owner = await self._email_for(email, phone, customer_id)
        raw = await self.redis.get(keys.shop_customer(owner)) if owner else None
        return Customer(**json.loads(raw)) if raw else None

    async def set_status(self, order_id: str, status: str) -> None:
        order = await self.get_order(order_id)
        if order is not None:
            order.status = status
            await self.redis.set(keys.shop_order(order_id), json.dumps(order.as_dict()))

    # --- OrderActions: the demo shop's own order system -----------------------------------

    async def cancel(self, order_id: str, *, reason: str, key: str) -> Outcome:
        order = await self.get_order(order_id)
        if order is None:
            return Refused(f"order {order_id} not found")
        if order.status == "cancelled":
            return Refused("the order is cancelled already")
        if order.status != "processing":
            return Refused(f"the order is {order.status}: only an order not shipped yet can be cancelled")
        await self.set_status(order_id, "cancelled")
        return Done(f"demo-cancel-{order_id}")

    async def refund(self, order_id: str, amount: int, *, note: str, key: str) -> Outcome:
        order = await self.get_order(order_id)
        if order is None:
            return Refused(f"order {order_id} not found")
        refunds = keys.shop_refunds(order_id)
        if await self.redis.hexists(refunds, key):  # the same request again: done once
            return Done(f"demo-refund-{order_id}")
        given = sum(int(v) for v in (await self.redis.hvals(refunds)))
        if amount <= 0 or given + amount > order.value:
            return Refused(f"{amount} is more than is left to refund on the order ({order.value - given})")
        await self.redis.hset(refunds, key, amount)
        return Done(f"demo-refund-{order_id}")
