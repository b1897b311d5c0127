"""A local Haravan REST Admin API (Omni APIs, docs.haravan.com): /com/orders.json (the
list: status, order, limit <= 50, page, fields), /com/orders/{id}.json,
/com/orders/{id}/cancel.json, /com/orders/{id}/refunds.json, /com/customers/search.json
and /com/customers/{id}.json, behind `Authorization: Bearer`, in the shapes the Order,
Fulfillment, Refund and Customer pages document (order_number "#100020", total_price,
currency, cancelled_at, fulfillment_status, fulfillments[].carrier_status_code,
tracking_company, tracking_number). The values are ours."""

from typing import Any, Dict, List

from aiohttp import web

from tests.backends.helpers import Fake

TOKEN = "hrv-test-token"
# The fulfillment carrier codes Haravan shows (readytopick ... waitingforreturn), and
# the order's fulfillment_status values.
CARRIER_CODES = (
    "readytopick",
    "picking",
    "cancel",
    "delivering",
    "notmeetcustomer",
    "delivered",
    "waitingforreturn",
    "return",
)
FULFILLMENT_STATUSES = ("notfulfilled", "partial", "fulfilled", "restocked")


def order(
    api_id: int,
    number: int,
    email: str,
    *,
    carrier_code: str = "",
    fulfillment_status: str = "notfulfilled",
    cancelled: bool = False,
    total: float = 650000.0,
    created: str = "2026-01-01T07:00:00.1Z",
) -> Dict[str, Any]:
    fulfillments = []
    if carrier_code:
        fulfillments = [
            {
                "created_at": "2026-01-02T08:00:00.5Z",
                "id": api_id * 10,
                "order_id": api_id,
                "status": "success",
                "tracking_company": "Giao Hàng Nhanh",
                "tracking_number": "GHN-5566",
                "carrier_status_code": carrier_code,
                "carrier_status_name": "—",
                "delivering_date": "2026-01-03T08:00:00Z",
            }
        ]
    return {
        "id": api_id,
        "order_number": f"#{number}",
        "name": f"#{number}",
        "email": email,
        "currency": "VND",
        "total_price": total,
        "created_at": created,
        "cancelled_at": "2026-01-05T00:00:00Z" if cancelled else None,
        "fulfillment_status": fulfillment_status,
        "financial_status": "paid",
        "fulfillments": fulfillments,
        "line_items": [{"id": 1, "name": "Váy lanh - M", "title": "Váy lanh", "quantity": 1, "price": total}],
        "shipping_lines": [{"title": "Giao hàng tận nơi", "price": 30000}],
    }


def customer(id_: int, email: str, phone: str, last_order_id: int, tags: str = "") -> Dict[str, Any]:
    return {
        "id": id_,
        "email": email,
        "phone": phone,
        "first_name": "Hoa",
        "last_name": "Le",
        "orders_count": 6,
        "last_order_id": last_order_id,
        "last_order_name": "#100021",
        "tags": tags,
    }


class Shop(Fake):
    def __init__(self) -> None:
        super().__init__()
        self.orders: List[Dict[str, Any]] = []
        self.customers: List[Dict[str, Any]] = []
        self.cancelled: List[Dict[str, Any]] = []
        self.refunds: List[Dict[str, Any]] = []


def routes(app: web.Application, shop: Shop) -> None:
    @web.middleware
    async def auth(request, handler):
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.json_response({"errors": "Unauthorized"}, status=401)
        return await handler(request)

    app.middlewares.append(auth)

    def by_id(request) -> Dict[str, Any]:
        return next((o for o in shop.orders if str(o["id"]) == request.match_info["id"]), None)

    async def list_orders(request):
        limit = min(int(request.query.get("limit", 50)), 50)
        page = int(request.query.get("page", 1))
        found = sorted(
            shop.orders,
            key=lambda o: o["created_at"],
            reverse=request.query.get("order") == "created_at desc",
        )
        found = found[(page - 1) * limit : page * limit]
        fields = request.query.get("fields")
        if fields:
            found = [{k: o[k] for k in fields.split(",")} for o in found]
        return web.json_response({"orders": found})

    async def get_order(request):
        found = by_id(request)
        return (
            web.json_response({"order": found})
            if found
            else web.json_response({"errors": "Not Found"}, status=404)
        )

    async def cancel(request):
        found = by_id(request)
        if found["cancelled_at"]:
            return web.json_response({"errors": "Đơn hàng đã bị hủy"}, status=422)
        shop.cancelled.append(await request.json())
        found["cancelled_at"] = "2026-01-06T00:00:00Z"
        return web.json_response({"order": found})

    async def refund(request):
        shop.refunds.append(await request.json())
        return web.json_response(
            {"refund": {"id": 1011637849, "order_id": int(request.match_info["id"])}}, status=201
        )

    async def search_customers(request):
        term = request.query.get("query", "")
        return web.json_response(
            {"customers": [c for c in shop.customers if term in (c["email"], c["phone"])]}
        )

    async def get_customer(request):
        found = next((c for c in shop.customers if str(c["id"]) == request.match_info["id"]), None)
        return (
            web.json_response({"customer": found})
            if found
            else web.json_response({"errors": "Not Found"}, status=404)
        )

    app.router.add_get("/com/orders.json", list_orders)
    app.router.add_get("/com/orders/{id}.json", get_order)
    app.router.add_post("/com/orders/{id}/cancel.json", cancel)
    app.router.add_post("/com/orders/{id}/refunds.json", refund)
    app.router.add_get("/com/customers/search.json", search_customers)
    app.router.add_get("/com/customers/{id}.json", get_customer)
