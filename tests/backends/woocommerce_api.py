"""A local WooCommerce REST API v3 (/wp-json/wc/v3): orders (GET one, GET a list with
`search`, PUT a status), refunds (POST), customers (GET by `email`, by id, `search`),
behind HTTP Basic auth with a consumer key and secret, in the shapes the REST API
documentation gives (order: id, number, status, currency, total, billing, line_items,
shipping_lines, date_completed_gmt; customer: id, email, first_name, billing,
meta_data; errors: {"code", "message", "data": {"status"}}). The values are ours."""

import base64
from typing import Any, Dict, List

from aiohttp import web

from tests.backends.helpers import Fake

KEY, SECRET = "ck_test_key", "cs_test_secret"
# The order statuses the REST API documents (plus the block checkout's draft).
STATUSES = (
    "pending",
    "processing",
    "on-hold",
    "completed",
    "cancelled",
    "refunded",
    "failed",
    "trash",
    "checkout-draft",
)


def order(
    number: int,
    email: str,
    status: str = "processing",
    *,
    total: str = "480000",
    currency: str = "VND",
    phone: str = "0912345678",
    completed: str = None,
    id_: int = None,
) -> Dict[str, Any]:
    return {
        "id": id_ or number,
        "number": str(number),
        "status": status,
        "currency": currency,
        "total": total,
        "date_created_gmt": "2026-01-01T07:00:00",
        "date_completed_gmt": completed,
        "customer_id": 0,
        "billing": {"first_name": "Minh", "email": email, "phone": phone},
        "line_items": [{"id": 1, "name": "Espresso machine", "quantity": 1, "total": total}],
        "shipping_lines": [{"id": 2, "method_title": "GiaoNhanh express", "total": "30000"}],
        "meta_data": [],
    }


def customer(id_: int, email: str, phone: str, tier: str = "") -> Dict[str, Any]:
    meta = [{"id": 9, "key": "tier", "value": tier}] if tier else []
    return {
        "id": id_,
        "email": email,
        "first_name": "Minh",
        "last_name": "Tran",
        "role": "customer",
        "billing": {"email": email, "phone": phone},
        "meta_data": meta,
    }


class Shop(Fake):
    def __init__(self) -> None:
        super().__init__()
        self.orders: List[Dict[str, Any]] = []
        self.customers: List[Dict[str, Any]] = []
        self.refunds: List[Dict[str, Any]] = []
        self.refund_failures = 0  # refunds answered 500 before one goes through


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"code": code, "message": message, "data": {"status": status}}, status=status)


def routes(app: web.Application, shop: Shop) -> None:
    expected = "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()

    @web.middleware
    async def auth(request, handler):
        if request.headers.get("Authorization") != expected:
            return _error(401, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
        return await handler(request)

    app.middlewares.append(auth)
    base = "/wp-json/wc/v3"

    def by_id(request) -> Dict[str, Any]:
        return next((o for o in shop.orders if str(o["id"]) == request.match_info["id"]), None)

    async def get_order(request):
        found = by_id(request)
        return (
            web.json_response(found)
            if found
            else _error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
        )

    async def list_orders(request):
        term = request.query.get("search", "")
        found = [
            o for o in shop.orders if term in (o["number"], o["billing"]["email"], o["billing"]["phone"])
        ]
        found.sort(key=lambda o: o["date_created_gmt"], reverse=request.query.get("order") == "desc")
        return web.json_response(found[: int(request.query.get("per_page", 10))])

    async def put_order(request):
        found = by_id(request)
        if not found:
            return _error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
        found.update({k: v for k, v in (await request.json()).items() if k == "status"})
        return web.json_response(found)

    async def refund(request):
        found = by_id(request)
        body = await request.json()
        if shop.refund_failures:
            shop.refund_failures -= 1
            return _error(500, "internal_server_error", "There has been a critical error on this website.")
        if float(body["amount"]) > float(found["total"]):
            return _error(400, "woocommerce_rest_cannot_create_order_refund", "Invalid refund amount.")
        shop.refunds.append(body)
        return web.json_response(
            {"id": 8801, "amount": body["amount"], "reason": body.get("reason", "")}, status=201
        )

    async def list_customers(request):
        email, term = request.query.get("email"), request.query.get("search")
        found = [
            c
            for c in shop.customers
            if (email and c["email"] == email) or (term and term in c["billing"]["phone"])
        ]
        return web.json_response(found)

    async def get_customer(request):
        found = next((c for c in shop.customers if str(c["id"]) == request.match_info["id"]), None)
        return (
            web.json_response(found)
            if found
            else _error(404, "woocommerce_rest_invalid_id", "Invalid resource ID.")
        )

    app.router.add_get(base + "/orders/{id}", get_order)
    app.router.add_get(base + "/orders", list_orders)
    app.router.add_put(base + "/orders/{id}", put_order)
    app.router.add_post(base + "/orders/{id}/refunds", refund)
    app.router.add_get(base + "/customers", list_customers)
    app.router.add_get(base + "/customers/{id}", get_customer)
