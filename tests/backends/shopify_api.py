"""A local Shopify Admin GraphQL API: POST /admin/api/{version}/graphql.json with
X-Shopify-Access-Token, answering the `orders` (filtered by `name:`, `email:` or
`customer_id:`), `customerByIdentifier`, `orderCancel` and `refundCreate` operations the
backend sends, in the shapes shopify.dev documents (Order, Fulfillment,
FulfillmentTrackingInfo, Customer, OrderTransaction; payloads with userErrors). The
values are ours."""

import json
import re
from typing import Any, Dict, List, Optional

from aiohttp import web

from tests.backends.helpers import Fake

VERSION = "2026-04"
# FulfillmentDisplayStatus and OrderDisplayFulfillmentStatus, as shopify.dev lists them.
FULFILLMENT_DISPLAY_STATUSES = (
    "ATTEMPTED_DELIVERY",
    "CANCELED",
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
)
ORDER_DISPLAY_FULFILLMENT_STATUSES = (
    "FULFILLED",
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
)
TOKEN = "shpat_test_token"


def money(amount: str, currency: str = "VND") -> Dict[str, Any]:
    return {"shopMoney": {"amount": amount, "currencyCode": currency}}


def order(
    number: int,
    email: str,
    *,
    status_word: str = "",
    cancelled: bool = False,
    amount: str = "480000.0",
    currency: str = "VND",
    tracking: Optional[Dict[str, str]] = None,
    lines=(("Glass tumbler set", 2),),
    in_transit_at: str = "2026-01-03T08:00:00Z",
) -> Dict[str, Any]:
    """An Order node. `status_word`: a FulfillmentDisplayStatus (the order then has that
    fulfillment) or an OrderDisplayFulfillmentStatus (no fulfillment)."""
    fulfillments = []
    display = "UNFULFILLED"
    if status_word in FULFILLMENT_DISPLAY_STATUSES:
        display = "FULFILLED"
        fulfillments = [
            # An older, cancelled fulfillment first: skipped for the newest live one.
            {
                "createdAt": "2026-01-01T08:00:00Z",
                "displayStatus": "CANCELED",
                "inTransitAt": None,
                "deliveredAt": None,
                "trackingInfo": [{"company": "Old Post", "number": "OLD1"}],
            },
            {
                "createdAt": "2026-01-02T08:00:00Z",
                "displayStatus": status_word,
                "inTransitAt": in_transit_at,
                "deliveredAt": None,
                "trackingInfo": [tracking or {"company": "GiaoNhanh", "number": "GN-7788"}],
            },
        ]
    elif status_word:
        display = status_word
    return {
        "id": f"gid://shopify/Order/{900000 + number}",
        "name": f"#{number}",
        "email": email,
        "cancelledAt": "2026-01-04T09:00:00Z" if cancelled else None,
        "displayFulfillmentStatus": display,
        "processedAt": "2026-01-01T07:00:00Z",
        "totalPriceSet": money(amount, currency),
        "lineItems": {"nodes": [{"name": name, "quantity": qty} for name, qty in lines]},
        "shippingLine": {"title": "Standard delivery"},
        "fulfillments": fulfillments,
        "transactions": [
            {
                "id": f"gid://shopify/OrderTransaction/{number}1",
                "kind": "SALE",
                "status": "SUCCESS",
                "gateway": "shopify_payments",
                "amountSet": money(amount, currency),
            },
        ],
    }


def customer(number: int, email: str, phone: str, tags: List[str]) -> Dict[str, Any]:
    return {
        "id": f"gid://shopify/Customer/{number}",
        "legacyResourceId": str(number),
        "firstName": "Lan",
        "displayName": "Lan Nguyen",
        "numberOfOrders": "14",
        "tags": tags,
        "defaultEmailAddress": {"emailAddress": email},
        "defaultPhoneNumber": {"phoneNumber": phone},
    }


class Shop(Fake):
    def __init__(self) -> None:
        super().__init__()
        self.orders: List[Dict[str, Any]] = []
        self.customers: List[Dict[str, Any]] = []
        self.cancelled: List[Dict[str, Any]] = []
        self.refunds: List[Dict[str, Any]] = []
        self.graphql_errors = False


def _search(query: str) -> Dict[str, str]:
    """name:"#1001" / email:"a@b" / customer_id:7 -> {field: value}."""
    field, _, value = query.partition(":")
    return {field: value.strip().strip('"').replace('\\"', '"')}


def routes(app: web.Application, shop: Shop) -> None:
    async def graphql(request: web.Request) -> web.Response:
        if request.headers.get("X-Shopify-Access-Token") != TOKEN:
            return web.json_response({"errors": "[API] Invalid API key or access token"}, status=401)
        payload = await request.json()
        query, variables = payload["query"], payload.get("variables") or {}
        if shop.graphql_errors:
            return web.json_response(
                {"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}]}
            )
        if "orderCancel(" in query:
            found = next((o for o in shop.orders if o["id"] == variables["orderId"]), None)
            if found is None or found["cancelledAt"]:
                return web.json_response(
                    {
                        "data": {
                            "orderCancel": {
                                "job": None,
                                "orderCancelUserErrors": [
                                    {
                                        "field": ["orderId"],
                                        "message": "Order has already been cancelled",
                                        "code": "INVALID",
                                    }
                                ],
                            }
                        }
                    }
                )
            shop.cancelled.append(variables)
            return web.json_response(
                {
                    "data": {
                        "orderCancel": {
                            "job": {"id": "gid://shopify/Job/1a2b", "done": False},
                            "orderCancelUserErrors": [],
                        }
                    }
                }
            )
        if "refundCreate(" in query:
            if not re.search(r"@idempotent\(key: \$key\)", query) or not variables.get("key"):
                return web.json_response({"errors": [{"message": "idempotent directive is required"}]})
            shop.refunds.append(variables)
            return web.json_response(
                {"data": {"refundCreate": {"refund": {"id": "gid://shopify/Refund/5150"}, "userErrors": []}}}
            )
        if "customerByIdentifier(" in query:
            wanted = variables["identifier"]
            found = next(
                (
                    c
                    for c in shop.customers
                    if wanted.get("emailAddress") == c["defaultEmailAddress"]["emailAddress"]
                    or wanted.get("phoneNumber") == c["defaultPhoneNumber"]["phoneNumber"]
                    or wanted.get("id") == c["id"]
                ),
                None,
            )
            return web.json_response({"data": {"customerByIdentifier": found}})
        if "orders(" in query:
            wanted = _search(variables["query"])
            found = [
                o
                for o in shop.orders
                if ("name" in wanted and o["name"] == wanted["name"])
                or ("email" in wanted and o["email"] == wanted["email"])
                or ("customer_id" in wanted and o.get("customer_id") == wanted["customer_id"])
            ]
            found = sorted(found, key=lambda o: o["processedAt"], reverse=True)[: variables.get("first", 1)]
            return web.json_response({"data": {"orders": {"nodes": found}}})
        return web.json_response({"errors": [{"message": "unknown operation: " + json.dumps(query)[:80]}]})

    app.router.add_post(f"/admin/api/{VERSION}/graphql.json", graphql)
