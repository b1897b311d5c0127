"""ORDERS_BACKEND=shopify: Shopify's Admin GraphQL API, as the shop's custom app
(SHOPIFY_SHOP, SHOPIFY_TOKEN; SHOPIFY_API_VERSION; SHOPIFY_URL for a test server).

Every call is a POST to /admin/api/{version}/graphql.json with X-Shopify-Access-Token.
Reads are queries (retried once within the deadline); `orderCancel` is not retried;
`refundCreate` is sent with Shopify's `@idempotent(key:)` directive (required from
2026-04), so it is.

- an order by the number the customer sees: `orders(first: 1, query: "name:...")` (the
  order's name is its number with the shop's prefix, "#1001" by default);
- a customer's recent orders: `orders(query: "email:...")`, newest processed first (by
  phone: the customer by `customerByIdentifier`, then `customer_id:`);
- a customer: `customerByIdentifier` (email, phone, or the id the shop signs);
- status word: ORDER_CANCELLED when `cancelledAt` is set, else the newest fulfillment's
  `displayStatus` (cancelled fulfillments skipped), else the order's
  `displayFulfillmentStatus` (data/shop/order_backends.yml `shopify`);
- money: `totalPriceSet.shopMoney` (the shop's currency); carrier and tracking from the
  fulfillment's `trackingInfo`, else the shipping line's title; tier from the
  customer's tags (vip, gold, silver).
"""

from datetime import datetime, timezone
from decimal import Decimal
import json
from typing import Any, Dict, List, Optional

from actions.backends.base import Backend, tier_from_tags
from actions.backends.mapping import platform_money, playbook_money, playbook_status
from actions.backends.model import Customer, Done, Order, OrdersUnavailable, Outcome, Refused
from actions.backends.parts import days_since, items_text, last_scan, parse_time
from actions.backends.settings import OrderSettings
from actions.backends.web import JsonClient

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
ORDER_FIELDS = """
  id name email cancelledAt displayFulfillmentStatus processedAt
  totalPriceSet { shopMoney { amount currencyCode } }
  lineItems(first: 20) { nodes { name quantity } }
  shippingLine { title }
  fulfillments(first: 10) {
    createdAt displayStatus inTransitAt deliveredAt
    trackingInfo(first: 1) { company number }
  }
"""
FIND_ORDERS = (
    "query Orders($query: String!, $first: Int!) {"
    " orders(first: $first, query: $query, sortKey: PROCESSED_AT, reverse: true) { nodes {"
    + ORDER_FIELDS
    + "} } }"
)
CUSTOMER = """query Customer($identifier: CustomerIdentifierInput!) {
  customerByIdentifier(identifier: $identifier) {
    id legacyResourceId firstName displayName numberOfOrders tags
    defaultEmailAddress { emailAddress }
    defaultPhoneNumber { phoneNumber }
  }
}"""
TRANSACTIONS = """query Transactions($query: String!) {
  orders(first: 1, query: $query) { nodes { id
    transactions(first: 20) { id kind status gateway amountSet { shopMoney { amount currencyCode } } }
  } }
}"""
CANCEL = """mutation Cancel($orderId: ID!, $note: String) {
  orderCancel(orderId: $orderId, reason: CUSTOMER, restock: true, notifyCustomer: true,
              refundMethod: {originalPaymentMethodsRefund: true}, staffNote: $note) {
    job { id done }
    orderCancelUserErrors { field message code }
  }
}"""
REFUND = """mutation Refund($input: RefundInput!, $key: String!) {
  refundCreate(input: $input) @idempotent(key: $key) {
    refund { id }
    userErrors { field message }
  }
}"""


def search_value(value: str) -> str:
    """A value quoted for Shopify's search syntax."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ShopifyBackend(Backend):
    name = "shopify"

    def __init__(self, settings: OrderSettings) -> None:
        super().__init__(settings.shopify_url)
        self.path = f"/admin/api/{settings.shopify_api_version}/graphql.json"
        self.client = JsonClient(
            self.name, settings.shopify_url, headers={"X-Shopify-Access-Token": settings.shopify_token}
        )

    async def close(self) -> None:
        await self.client.close()

    async def graphql(
        self, query: str, variables: Dict[str, Any], *, idempotent: bool = True
    ) -> Dict[str, Any]:
        _, body = await self.client.call(
            "POST", self.path, body={"query": query, "variables": variables}, idempotent=idempotent
        )
        if not isinstance(body, dict) or body.get("errors") or not isinstance(body.get("data"), dict):
            errors = body.get("errors") if isinstance(body, dict) else body
            raise OrdersUnavailable(self.name, f"GraphQL errors: {json.dumps(errors)[:300]}")
        return body["data"]

    async def _orders(self, query: str, first: int) -> List[Dict[str, Any]]:
        data = await self.graphql(FIND_ORDERS, {"query": query, "first": first})
        return list(((data.get("orders") or {}).get("nodes")) or [])

    async def get_order(self, order_id: str) -> Optional[Order]:
        found = await self._orders(f"name:{search_value('#' + order_id)}", 1)
        return self.order(found[0]) if found and _number(found[0].get("name")) == order_id else None

    async def recent_orders_for(self, email: str = "", phone: str = "", limit: int = 3) -> List[Order]:
        if limit < 1:
            return []
        if email:
            query = f"email:{search_value(email)}"
        else:
            owner = await self.customer(phone=phone) if phone else None
            if owner is None or not owner.id:
                return []
            query = f"customer_id:{owner.id}"
        return [self.order(found) for found in await self._orders(query, limit)]

    async def customer(self, email: str = "", phone: str = "", customer_id: str = "") -> Optional[Customer]:
        if email:
            identifier = {"emailAddress": email}
        elif phone:
            identifier = {"phoneNumber": phone}
        elif customer_id:
            identifier = {"id": f"gid://shopify/Customer/{customer_id}"}
        else:
            return None
        found = (await self.graphql(CUSTOMER, {"identifier": identifier})).get("customerByIdentifier")
        if not found:
            return None
        return Customer(
            email=str((found.get("defaultEmailAddress") or {}).get("emailAddress") or email),
            id=str(found.get("legacyResourceId") or ""),
            name=str(found.get("firstName") or found.get("displayName") or ""),
            phone=str((found.get("defaultPhoneNumber") or {}).get("phoneNumber") or ""),
            tier=tier_from_tags(found.get("tags")),
            orders_total=int(found.get("numberOfOrders") or 0),
        )

    def order(self, found: Dict[str, Any]) -> Order:
        try:
            fulfillments = sorted(
                (f for f in found.get("fulfillments") or [] if f.get("displayStatus") != "CANCELED"),
                key=lambda f: parse_time(f.get("createdAt")) or EPOCH,
            )
            latest = fulfillments[-1] if fulfillments else None
            word: Optional[str]
            if found.get("cancelledAt"):
                word = "ORDER_CANCELLED"
            elif latest is not None:
                word = latest.get("displayStatus")
            else:
                word = found.get("displayFulfillmentStatus")
            tracking = ((latest or {}).get("trackingInfo") or [{}])[0] if latest else {}
            money = found["totalPriceSet"]["shopMoney"]
            return Order(
                order_id=_number(found.get("name")),
                email=str(found.get("email") or ""),
                status=playbook_status(self.name, word),
                value=playbook_money(self.name, money["amount"], money.get("currencyCode") or ""),
                carrier=str(tracking.get("company") or (found.get("shippingLine") or {}).get("title") or ""),
                shipped_days_ago=days_since(
                    (latest or {}).get("inTransitAt") or (latest or {}).get("createdAt")
                ),
                last_scan=last_scan(latest is not None, str(tracking.get("number") or "")),
                items=items_text(
                    (str(line.get("name") or ""), int(line.get("quantity") or 1))
                    for line in (found.get("lineItems") or {}).get("nodes") or []
                ),
            )
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
            raise OrdersUnavailable(
                self.name, f"an order Shopify's schema does not allow: {error!r}"
            ) from None

    # --- OrderActions -------------------------------------------------------------------

    async def _with_transactions(self, order_id: str) -> Optional[Dict[str, Any]]:
        data = await self.graphql(TRANSACTIONS, {"query": f"name:{search_value('#' + order_id)}"})
        nodes = (data.get("orders") or {}).get("nodes") or []
        return nodes[0] if nodes else None

    async def cancel(self, order_id: str, *, reason: str, key: str) -> Outcome:
        found = await self._with_transactions(order_id)
        if found is None:
            return Refused(f"order {order_id} not found")
        data = await self.graphql(CANCEL, {"orderId": found["id"], "note": reason}, idempotent=False)
        result = data.get("orderCancel") or {}
        errors = result.get("orderCancelUserErrors") or []
        if errors:
            return Refused("; ".join(str(e.get("message")) for e in errors))
        return Done(str((result.get("job") or {}).get("id") or ""))

    async def refund(self, order_id: str, amount: int, *, note: str, key: str) -> Outcome:
        found = await self._with_transactions(order_id)
        if found is None:
            return Refused(f"order {order_id} not found")
        paid = [
            t
            for t in found.get("transactions") or []
            if t.get("kind") in ("SALE", "CAPTURE") and t.get("status") == "SUCCESS"
        ]
        if not paid:
            return Refused("no successful payment on the order to refund")
        parent = paid[-1]
        money = parent["amountSet"]["shopMoney"]
        wanted = platform_money(self.name, amount, money.get("currencyCode") or "")
        if wanted > Decimal(str(money["amount"])):
            return Refused(f"{wanted} is more than the payment of {money['amount']}")
        refund = {
            "orderId": found["id"],
            "note": note,
            "notify": True,
            "transactions": [
                {
                    "orderId": found["id"],
                    "parentId": parent["id"],
                    "gateway": parent["gateway"],
                    "kind": "REFUND",
                    "amount": str(wanted),
                }
            ],
        }
        data = await self.graphql(REFUND, {"input": refund, "key": key}, idempotent=True)
        result = data.get("refundCreate") or {}
        errors = result.get("userErrors") or []
        if errors:
            return Refused("; ".join(str(e.get("message")) for e in errors))
        return Done(str((result.get("refund") or {}).get("id") or ""))


def _number(name: Any) -> str:
    """The order number in its name ("#1001" -> "1001")."""
    return "".join(ch for ch in str(name or "") if ch.isdigit())
