"""A real backend as the actions use it: each look-up's answer kept in Redis a short
while (contract/keys.py ORDER_CACHE_TTL; "not found" ORDER_MISS_TTL), and a backend
that just failed left alone for ORDERS_DOWN_TTL, so one customer's turn never waits
for it twice and a burst of customers does not pile onto a struggling shop.

A customer's own look-ups within a conversation are the same few orders, so most turns
after the first are answered from Redis. What the bot sets (`set_status`) drops the
cached order, so the next look-up asks the backend again.
"""

from dataclasses import asdict
import json
import logging
from typing import Any, Awaitable, Callable, List, Optional

from actions.backends.base import Backend
from actions.backends.model import Customer, Order, OrdersUnavailable
from contract import keys

log = logging.getLogger(__name__)
MISSING = "null"


class CachedStore:
    def __init__(self, backend: Backend, redis) -> None:
        self.backend = backend
        self.redis = redis
        self.name = backend.name

    async def _through(self, what: str, ask: Callable[[], Awaitable[Any]], encode, decode) -> Any:
        key = keys.order_lookup(self.backend.fingerprint, what)
        cached = await self.redis.get(key)
        if cached is not None:
            return decode(json.loads(cached))
        if await self.redis.exists(keys.orders_down(self.backend.fingerprint)):
            raise OrdersUnavailable(self.name, "failed a moment ago; not asked again yet")
        try:
            answer = await ask()
        except OrdersUnavailable as unavailable:
            log.warning("order backend unavailable: %s", unavailable)
            await self.redis.set(
                keys.orders_down(self.backend.fingerprint), unavailable.reason, ex=keys.ORDERS_DOWN_TTL
            )
            raise
        encoded = encode(answer)
        ttl = keys.ORDER_MISS_TTL if encoded is None or encoded == [] else keys.ORDER_CACHE_TTL
        await self.redis.set(key, json.dumps(encoded), ex=ttl)
        return answer

    async def get_order(self, order_id: str) -> Optional[Order]:
        return await self._through(
            f"order:{order_id}",
            lambda: self.backend.get_order(order_id),
            lambda o: o.as_dict() if o else None,
            lambda d: Order(**d) if d else None,
        )

    async def recent_orders_for(self, email: str = "", phone: str = "", limit: int = 3) -> List[Order]:
        if not (email or phone) or limit < 1:
            return []
        return await self._through(
            f"recent:{email or ''}:{phone or ''}:{limit}",
            lambda: self.backend.recent_orders_for(email=email, phone=phone, limit=limit),
            lambda orders: [o.as_dict() for o in orders],
            lambda found: [Order(**d) for d in found],
        )

    async def customer(self, email: str = "", phone: str = "", customer_id: str = "") -> Optional[Customer]:
        if not (email or phone or customer_id):
            return None
        return await self._through(
            f"customer:{email or ''}:{phone or ''}:{customer_id or ''}",
            lambda: self.backend.customer(email=email, phone=phone, customer_id=customer_id),
            lambda c: asdict(c) if c else None,
            lambda d: Customer(**d) if d else None,
        )

    async def set_status(self, order_id: str, status: str) -> None:
        await self.backend.set_status(order_id, status)
        await self.redis.delete(keys.order_lookup(self.backend.fingerprint, f"order:{order_id}"))

    async def close(self) -> None:
        await self.backend.close()

    def __getattr__(self, name: str) -> Any:
        # cancel / refund (OrderActions) go straight to the backend, never cached, and
        # drop the cached copy of the order they changed (an `api` remedy's call).
        action = getattr(self.backend, name)
        if name not in ("cancel", "refund"):
            return action

        async def acted(order_id: str, *args: Any, **kwargs: Any) -> Any:
            try:
                return await action(order_id, *args, **kwargs)
            finally:
                await self.redis.delete(keys.order_lookup(self.backend.fingerprint, f"order:{order_id}"))

        return acted
