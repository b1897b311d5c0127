"""ORDERS_BACKEND=http: a small JSON contract a shop with its own system serves
(docs/orders.md "The HTTP contract"), at ORDERS_HTTP_URL, with `Authorization: Bearer
ORDERS_HTTP_TOKEN` when a token is set.

    GET  /orders/{number}                    -> 200 {"order": ORDER} | 404
    GET  /orders?email=&phone=&limit=        -> 200 {"orders": [ORDER, ...]}, newest first
    GET  /customers?email=|phone=|id=        -> 200 {"customer": CUSTOMER} | 404
    POST /orders/{number}/cancel             {"reason"}                      (optional)
    POST /orders/{number}/refunds            {"amount", "currency", "note"}  (optional)

ORDER: {"number", "email", "status", "total", "currency", "carrier", "tracking_number",
"shipped_at", "items": [{"name", "quantity"}]}; CUSTOMER: {"id", "email", "phone",
"name", "tier", "orders_count"}. `status` is read through data/shop/order_backends.yml
(`http`: the playbook's own words, and any of the shop's added there). The two POSTs
carry an `Idempotency-Key` header, which the contract requires the server to honour,
so they may be retried; 404 or 501 means "not offered", 409 or 422 a refusal with
{"error": "..."}.
"""

from typing import Any, Dict, List, Optional
from urllib.parse import quote

from actions.backends.base import Backend
from actions.backends.mapping import platform_money, playbook_money, playbook_status
from actions.backends.model import Customer, Done, Order, OrdersUnavailable, Outcome, Refused
from actions.backends.parts import days_since, items_text, last_scan
from actions.backends.settings import OrderSettings
from actions.backends.web import JsonClient
from actions.playbook import shop_playbook

REFUSALS = (404, 409, 422, 501)


class HttpBackend(Backend):
    name = "http"

    def __init__(self, settings: OrderSettings) -> None:
        super().__init__(settings.http_url)
        token = {"Authorization": f"Bearer {settings.http_token}"} if settings.http_token else {}
        self.client = JsonClient(self.name, settings.http_url, headers=token)

    async def close(self) -> None:
        await self.client.close()

    async def get_order(self, order_id: str) -> Optional[Order]:
        status, body = await self.client.call("GET", f"/orders/{quote(order_id, safe='')}", idempotent=True)
        if status == 404:
            return None
        return self.order(_field(body, "order", dict))

    async def recent_orders_for(self, email: str = "", phone: str = "", limit: int = 3) -> List[Order]:
        if not (email or phone) or limit < 1:
            return []
        params = {"email": email or None, "phone": phone or None, "limit": limit}
        status, body = await self.client.call("GET", "/orders", params=params, idempotent=True)
        if status == 404:
            return []
        return [self.order(entry) for entry in _field(body, "orders", list)[:limit]]

    async def customer(self, email: str = "", phone: str = "", customer_id: str = "") -> Optional[Customer]:
        params = {"email": email or None, "phone": phone or None, "id": customer_id or None}
        if not any(params.values()):
            return None
        status, body = await self.client.call("GET", "/customers", params=params, idempotent=True)
        if status == 404:
            return None
        return contract_customer(_field(body, "customer", dict))

    def order(self, found: Dict[str, Any]) -> Order:
        return contract_order(self.name, found)

    # --- OrderActions -------------------------------------------------------------------

    async def cancel(self, order_id: str, *, reason: str, key: str) -> Outcome:
        return await self._act(f"/orders/{quote(order_id, safe='')}/cancel", {"reason": reason}, key)

    async def refund(self, order_id: str, amount: int, *, note: str, key: str) -> Outcome:
        order = await self.get_order(order_id)
        if order is None:
            return Refused(f"order {order_id} not found")
        # In the playbook's currency, which the contract's server converts if it must.
        body = {
            "amount": str(platform_money(self.name, amount)),
            "currency": shop_playbook().currency,
            "note": note,
        }
        return await self._act(f"/orders/{quote(order_id, safe='')}/refunds", body, key)

    async def _act(self, path: str, body: Dict[str, Any], key: str) -> Outcome:
        status, answer = await self.client.call(
            "POST", path, body=body, headers={"Idempotency-Key": key}, idempotent=True, answers=REFUSALS
        )
        if status in (404, 501):
            return Refused("the shop's system does not offer this")
        if status in REFUSALS:
            return Refused(str((answer or {}).get("error") or f"HTTP {status}"))
        return Done(str((answer or {}).get("reference") or ""))


def _field(body: Any, name: str, kind: type) -> Any:
    found = body.get(name) if isinstance(body, dict) else None
    if not isinstance(found, kind):
        raise OrdersUnavailable("http", f"the answer has no {name!r} {kind.__name__}")
    return found


def contract_customer(found: Dict[str, Any]) -> Customer:
    """A CUSTOMER of the contract (also a row of the postgres backend's `customer` query)."""
    return Customer(
        email=str(found.get("email") or ""),
        id=str(found.get("id") or ""),
        name=str(found.get("name") or ""),
        phone=str(found.get("phone") or ""),
        tier=str(found.get("tier") or "standard"),
        orders_total=int(found.get("orders_count") or 0),
    )


def contract_order(backend: str, found: Dict[str, Any]) -> Order:
    """An ORDER of the contract (also a row of the postgres backend's order queries):
    `items` a list of {"name", "quantity"} (or of names, or one text)."""
    try:
        shipped_at = found.get("shipped_at")
        listed = found.get("items") or []
        if isinstance(listed, str):
            listed = [listed]
        lines = [
            (str(i.get("name") or ""), int(i.get("quantity") or 1)) if isinstance(i, dict) else (str(i), 1)
            for i in listed
        ]
        return Order(
            order_id=str(found["number"]),
            email=str(found.get("email") or ""),
            status=playbook_status(backend, found.get("status")),
            value=playbook_money(backend, found.get("total"), str(found.get("currency") or "")),
            carrier=str(found.get("carrier") or ""),
            shipped_days_ago=days_since(str(shipped_at) if shipped_at else None),
            last_scan=last_scan(bool(shipped_at), str(found.get("tracking_number") or "")),
            items=items_text(lines),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise OrdersUnavailable(backend, f"an order the contract does not allow: {error!r}") from None
