"""ORDERS_BACKEND=woocommerce: WooCommerce's REST API v3 at WOO_URL/wp-json/wc/v3, with
a REST API key (WOO_KEY, WOO_SECRET: HTTP Basic auth, so only over HTTPS).

- an order by the number the customer sees: GET /orders/{number} (WooCommerce's number
  is the order id unless a plugin renumbers orders; an answer whose `number` is another
  is not taken: /orders?search= finds it then);
- a customer's recent orders: /orders?search={email or phone}, newest first, only those
  whose billing email (or phone) is theirs (guest orders included);
- a customer: /customers?email=, /customers/{id}, or /customers?search= by phone; the
  tier from a `tier` meta_data entry when the shop keeps one;
- status word: the order's `status` (data/shop/order_backends.yml `woocommerce`); money:
  `total` in the order's `currency`; carrier: the first shipping line's method title.
  WooCommerce alone keeps no tracking number.

Reads are GETs (retried once within the deadline); a cancellation is a PUT of
status "cancelled" (idempotent: retried); a refund is a POST to /orders/{id}/refunds,
never retried (WooCommerce takes no idempotency key).
"""

from typing import Any, Dict, List, Optional

import aiohttp

from actions.backends.base import Backend
from actions.backends.mapping import platform_money, playbook_money, playbook_status
from actions.backends.model import Customer, Done, Order, OrdersUnavailable, Outcome, Refused
from actions.backends.parts import days_since, items_text, last_scan
from actions.backends.settings import OrderSettings
from actions.backends.web import JsonClient
from contract.identity import normalise_email, normalise_phone

SHIPPED = ("shipped", "in_transit", "lost", "delivered")


class WooCommerceBackend(Backend):
    name = "woocommerce"

    def __init__(self, settings: OrderSettings) -> None:
        super().__init__(settings.woo_url)
        self.client = JsonClient(
            self.name,
            settings.woo_url + "/wp-json/wc/v3",
            auth=aiohttp.BasicAuth(settings.woo_key, settings.woo_secret),
        )

    async def close(self) -> None:
        await self.client.close()

    async def _find(self, number: str) -> Optional[Dict[str, Any]]:
        if number.isdigit():
            status, found = await self.client.call("GET", f"/orders/{number}", idempotent=True)
            if status == 404:
                return None
            if isinstance(found, dict) and str(found.get("number")) == number:
                return found
        _, listed = await self.client.call(
            "GET", "/orders", params={"search": number, "per_page": 10}, idempotent=True
        )
        return next((o for o in _list(listed) if str(o.get("number")) == number), None)

    async def get_order(self, order_id: str) -> Optional[Order]:
        found = await self._find(order_id)
        return self.order(found) if found else None

    async def recent_orders_for(self, email: str = "", phone: str = "", limit: int = 3) -> List[Order]:
        if not (email or phone) or limit < 1:
            return []
        params = {
            "search": email or phone,
            "orderby": "date",
            "order": "desc",
            "per_page": max(limit * 3, 10),
        }
        _, listed = await self.client.call("GET", "/orders", params=params, idempotent=True)

        def theirs(found: Dict[str, Any]) -> bool:
            billing = found.get("billing") or {}
            if email:
                return normalise_email(billing.get("email", "")) == normalise_email(email)
            return normalise_phone(billing.get("phone", "")) == normalise_phone(phone)

        return [self.order(found) for found in _list(listed) if theirs(found)][:limit]

    async def customer(self, email: str = "", phone: str = "", customer_id: str = "") -> Optional[Customer]:
        if customer_id and not (email or phone):
            status, found = await self.client.call("GET", f"/customers/{customer_id}", idempotent=True)
            return self.customer_from(found) if status != 404 and isinstance(found, dict) else None
        if not (email or phone):
            return None
        params = {"email": email} if email else {"search": phone, "role": "all"}
        _, listed = await self.client.call("GET", "/customers", params=params, idempotent=True)
        for found in _list(listed):
            billing = found.get("billing") or {}
            if (email and normalise_email(found.get("email", "")) == normalise_email(email)) or (
                phone and normalise_phone(billing.get("phone", "")) == normalise_phone(phone)
            ):
                return self.customer_from(found)
        return None

    def customer_from(self, found: Dict[str, Any]) -> Customer:
        meta = {m.get("key"): m.get("value") for m in found.get("meta_data") or [] if isinstance(m, dict)}
        tier = str(meta.get("tier") or "standard").lower()
        return Customer(
            email=str(found.get("email") or ""),
            id=str(found.get("id") or ""),
            name=str(found.get("first_name") or ""),
            phone=str((found.get("billing") or {}).get("phone") or ""),
            tier=tier if tier in ("standard", "silver", "gold", "vip") else "standard",
        )

    def order(self, found: Dict[str, Any]) -> Order:
        try:
            status = playbook_status(self.name, found.get("status"))
            billing = found.get("billing") or {}
            shipping = (found.get("shipping_lines") or [{}])[0] or {}
            return Order(
                order_id=str(found["number"]),
                email=str(billing.get("email") or ""),
                status=status,
                value=playbook_money(self.name, found.get("total"), str(found.get("currency") or "")),
                carrier=str(shipping.get("method_title") or ""),
                shipped_days_ago=days_since(found.get("date_completed_gmt")),
                last_scan=last_scan(status in SHIPPED),
                items=items_text(
                    (str(line.get("name") or ""), int(line.get("quantity") or 1))
                    for line in found.get("line_items") or []
                ),
            )
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
            raise OrdersUnavailable(
                self.name, f"an order the REST API does not describe: {error!r}"
            ) from None

    # --- OrderActions -------------------------------------------------------------------

    async def cancel(self, order_id: str, *, reason: str, key: str) -> Outcome:
        found = await self._find(order_id)
        if found is None:
            return Refused(f"order {order_id} not found")
        status, answer = await self.client.call(
            "PUT", f"/orders/{found['id']}", body={"status": "cancelled"}, idempotent=True, answers=(400, 404)
        )
        if status in (400, 404):
            return Refused(str((answer or {}).get("message") or f"HTTP {status}"))
        return Done(str(found["id"]))

    async def refund(self, order_id: str, amount: int, *, note: str, key: str) -> Outcome:
        found = await self._find(order_id)
        if found is None:
            return Refused(f"order {order_id} not found")
        body = {
            "amount": str(platform_money(self.name, amount, str(found.get("currency") or ""))),
            "reason": note,
            "api_refund": True,  # through the payment gateway, not only recorded
        }
        status, answer = await self.client.call(
            "POST", f"/orders/{found['id']}/refunds", body=body, idempotent=False, answers=(400, 404)
        )
        if status in (400, 404):
            return Refused(str((answer or {}).get("message") or f"HTTP {status}"))
        return Done(str((answer or {}).get("id") or ""))


def _list(body: Any) -> List[Dict[str, Any]]:
    if not isinstance(body, list):
        raise OrdersUnavailable("woocommerce", "a list was expected")
    return [entry for entry in body if isinstance(entry, dict)]
