"""ORDERS_BACKEND=haravan: Haravan's REST Admin API (Omni APIs) at HARAVAN_URL
(https://apis.haravan.com) with `Authorization: Bearer HARAVAN_TOKEN` (a private app's
token, scopes com.read_orders and com.read_customers; com.write_orders only for `api`
remedies).

- an order by the number the customer sees (`order_number`, "#100020"): Haravan's API
  reads an order by its API id only (GET /com/orders/{id}.json) and its documented list
  has no filter by number, so the numbers it lists are remembered (number -> id, in
  Redis: contract/keys.py haravan_order_ids) and a number not seen yet is looked for
  among the newest orders (GET /com/orders.json?status=any&order=created_at desc,
  SCAN_PAGES pages of 50, within the call's deadline). An older order no one has
  asked about since it was listed is not found: docs/orders.md says so;
- a customer: /com/customers/search.json?query= (email or phone), /com/customers/{id}.json;
  their recent orders: the `last_order_id` Haravan keeps on the customer (one order);
- status word: "cancelled" when `cancelled_at` is set, else the newest fulfillment's
  `carrier_status_code` (readytopick, delivering, delivered, ...), else the order's
  `fulfillment_status` (data/shop/order_backends.yml `haravan`); money: `total_price` in
  the order's `currency`; carrier: the fulfillment's `tracking_company`.

Reads are GETs, retried once within the deadline; a cancellation (POST .../cancel.json)
and a refund (POST .../refunds.json) are never retried: Haravan documents no
idempotency for them.
"""

import time
from typing import Any, Dict, List, Optional

from actions.backends.base import Backend, tier_from_tags
from actions.backends.mapping import platform_money, playbook_money, playbook_status
from actions.backends.model import Customer, Done, Order, OrdersUnavailable, Outcome, Refused
from actions.backends.parts import days_since, items_text, last_scan, parse_time
from actions.backends.settings import OrderSettings
from actions.backends.web import TIMEOUT, JsonClient
from contract import keys
from contract.identity import normalise_email, normalise_phone

SCAN_PAGES = 4  # the newest 200 orders
PAGE = 50  # Haravan's most per page
INDEX_TTL = 30 * 24 * 3600


def number_of(found: Dict[str, Any]) -> str:
    """ "#100020" -> "100020"."""
    return "".join(ch for ch in str(found.get("order_number") or found.get("name") or "") if ch.isdigit())


class HaravanBackend(Backend):
    name = "haravan"

    def __init__(self, settings: OrderSettings, redis) -> None:
        super().__init__(settings.haravan_url)
        self.redis = redis
        self.client = JsonClient(
            self.name, settings.haravan_url, headers={"Authorization": f"Bearer {settings.haravan_token}"}
        )

    async def close(self) -> None:
        await self.client.close()

    async def _by_id(self, api_id: str) -> Optional[Dict[str, Any]]:
        status, body = await self.client.call("GET", f"/com/orders/{api_id}.json", idempotent=True)
        found = body.get("order") if status != 404 and isinstance(body, dict) else None
        return found if isinstance(found, dict) else None

    async def _find(self, number: str) -> Optional[Dict[str, Any]]:
        index = keys.haravan_order_ids(self.fingerprint)
        known = await self.redis.hget(index, number)
        if known:
            found = await self._by_id(known)
            if found is not None and number_of(found) == number:
                return found
        started = time.monotonic()
        for page in range(1, SCAN_PAGES + 1):
            params = {
                "status": "any",
                "order": "created_at desc",
                "limit": PAGE,
                "page": page,
                "fields": "id,order_number",
            }
            _, body = await self.client.call("GET", "/com/orders.json", params=params, idempotent=True)
            listed = [o for o in (body or {}).get("orders") or [] if isinstance(o, dict)]
            seen = {number_of(o): str(o["id"]) for o in listed if o.get("id") and number_of(o)}
            if seen:
                await self.redis.hset(index, mapping=seen)
                await self.redis.expire(index, INDEX_TTL)
            if number in seen:
                return await self._by_id(seen[number])
            if len(listed) < PAGE or time.monotonic() - started > TIMEOUT:
                break
        return None

    async def get_order(self, order_id: str) -> Optional[Order]:
        found = await self._find(order_id)
        return self.order(found) if found else None

    async def recent_orders_for(self, email: str = "", phone: str = "", limit: int = 3) -> List[Order]:
        if limit < 1:
            return []
        owner = await self._customer_record(email, phone)
        last = str((owner or {}).get("last_order_id") or "")
        found = await self._by_id(last) if last else None
        return [self.order(found)] if found else []

    async def _customer_record(self, email: str, phone: str) -> Optional[Dict[str, Any]]:
        if not (email or phone):
            return None
        _, body = await self.client.call(
            "GET",
            "/com/customers/search.json",
            params={"query": email or phone, "limit": 10},
            idempotent=True,
        )
        for found in (body or {}).get("customers") or []:
            if not isinstance(found, dict):
                continue
            if (email and normalise_email(found.get("email") or "") == normalise_email(email)) or (
                phone and normalise_phone(found.get("phone") or "") == normalise_phone(phone)
            ):
                return found
        return None

    async def customer(self, email: str = "", phone: str = "", customer_id: str = "") -> Optional[Customer]:
        if email or phone:
            found = await self._customer_record(email, phone)
        elif customer_id:
            status, body = await self.client.call(
                "GET", f"/com/customers/{customer_id}.json", idempotent=True
            )
            found = body.get("customer") if status != 404 and isinstance(body, dict) else None
        else:
            return None
        if not isinstance(found, dict):
            return None
        return Customer(
            email=str(found.get("email") or ""),
            id=str(found.get("id") or ""),
            name=str(found.get("first_name") or ""),
            phone=str(found.get("phone") or ""),
            tier=tier_from_tags(found.get("tags") or ""),
            orders_total=int(found.get("orders_count") or 0),
        )

    def order(self, found: Dict[str, Any]) -> Order:
        try:
            fulfillments = sorted(
                (f for f in found.get("fulfillments") or [] if isinstance(f, dict)),
                key=lambda f: str(parse_time(f.get("created_at")) or ""),
            )
            latest = fulfillments[-1] if fulfillments else None
            if found.get("cancelled_at"):
                word = "cancelled"
            elif latest is not None and latest.get("carrier_status_code"):
                word = latest["carrier_status_code"]
            else:
                word = found.get("fulfillment_status") or "unfulfilled"
            status = playbook_status(self.name, word)
            shipped_on = (latest or {}).get("delivering_date") or (latest or {}).get("created_at")
            return Order(
                order_id=number_of(found),
                email=str(found.get("email") or ""),
                status=status,
                value=playbook_money(self.name, found.get("total_price"), str(found.get("currency") or "")),
                carrier=str(
                    (latest or {}).get("tracking_company")
                    or ((found.get("shipping_lines") or [{}])[0] or {}).get("title")
                    or ""
                ),
                shipped_days_ago=days_since(shipped_on) if latest else None,
                last_scan=last_scan(latest is not None, str((latest or {}).get("tracking_number") or "")),
                items=items_text(
                    (str(line.get("name") or line.get("title") or ""), int(line.get("quantity") or 1))
                    for line in found.get("line_items") or []
                ),
            )
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
            raise OrdersUnavailable(
                self.name, f"an order Haravan's API does not describe: {error!r}"
            ) from None

    # --- OrderActions -------------------------------------------------------------------

    async def cancel(self, order_id: str, *, reason: str, key: str) -> Outcome:
        found = await self._find(order_id)
        if found is None:
            return Refused(f"order {order_id} not found")
        body = {"reason": "customer", "email": True, "restock": True, "note": reason}
        status, answer = await self.client.call(
            "POST", f"/com/orders/{found['id']}/cancel.json", body=body, idempotent=False, answers=(404, 422)
        )
        if status in (404, 422):
            return Refused(str((answer or {}).get("errors") or f"HTTP {status}"))
        return Done(str(found["id"]))

    async def refund(self, order_id: str, amount: int, *, note: str, key: str) -> Outcome:
        found = await self._find(order_id)
        if found is None:
            return Refused(f"order {order_id} not found")
        money = platform_money(self.name, amount, str(found.get("currency") or ""))
        body = {
            "refund": {
                "notify": True,
                "note": note,
                "transactions": [{"amount": str(money), "kind": "refund"}],
            }
        }
        status, answer = await self.client.call(
            "POST", f"/com/orders/{found['id']}/refunds.json", body=body, idempotent=False, answers=(404, 422)
        )
        if status in (404, 422):
            return Refused(str((answer or {}).get("errors") or f"HTTP {status}"))
        return Done(str(((answer or {}).get("refund") or {}).get("id") or ""))
