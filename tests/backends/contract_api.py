"""A local server of the HTTP contract (ORDERS_BACKEND=http, docs/orders.md): the shop's
own system as the contract describes it, with a bearer token. The values are ours."""

from typing import Any, Dict, List

from aiohttp import web

from tests.backends.helpers import Fake

TOKEN = "contract-test-token"


def order(
    number: str,
    email: str,
    status: str = "delivered",
    *,
    total: str = "480000",
    shipped: bool = True,
    tracking: str = "GN-1",
    items=None,
) -> Dict[str, Any]:
    return {
        "number": number,
        "email": email,
        "status": status,
        "total": total,
        "currency": "VND",
        "carrier": "GiaoNhanh",
        "tracking_number": tracking,
        "shipped_at": "2026-01-02T08:00:00Z" if shipped else None,
        "items": items if items is not None else [{"name": "Glass tumbler set", "quantity": 6}],
    }


def customer(id_: str, email: str, phone: str, tier: str = "gold") -> Dict[str, Any]:
    return {"id": id_, "email": email, "phone": phone, "name": "Lan", "tier": tier, "orders_count": 14}


class Shop(Fake):
    def __init__(self) -> None:
        super().__init__()
        self.orders: List[Dict[str, Any]] = []
        self.customers: List[Dict[str, Any]] = []
        self.actions: List[Dict[str, Any]] = []
        self.offers_actions = True


def routes(app: web.Application, shop: Shop) -> None:
    @web.middleware
    async def auth(request, handler):
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.json_response({"error": "unauthorised"}, status=401)
        return await handler(request)

    app.middlewares.append(auth)

    async def get_order(request):
        found = next((o for o in shop.orders if o["number"] == request.match_info["number"]), None)
        return (
            web.json_response({"order": found})
            if found
            else web.json_response({"error": "no such order"}, status=404)
        )

    async def list_orders(request):
        email, phone = request.query.get("email"), request.query.get("phone")
        owners = {c["email"] for c in shop.customers if phone and c["phone"] == phone}
        found = [o for o in shop.orders if o["email"] == email or o["email"] in owners]
        return web.json_response({"orders": found[: int(request.query.get("limit", 3))]})

    async def get_customer(request):
        q = request.query
        found = next(
            (
                c
                for c in shop.customers
                if q.get("email") == c["email"] or q.get("phone") == c["phone"] or q.get("id") == c["id"]
            ),
            None,
        )
        return (
            web.json_response({"customer": found})
            if found
            else web.json_response({"error": "none"}, status=404)
        )

    async def act(request):
        if not shop.offers_actions:
            return web.json_response({"error": "not offered"}, status=501)
        key = request.headers.get("Idempotency-Key", "")
        done = next((a for a in shop.actions if a["key"] == key), None)
        if done is None:  # the contract: the same key twice is done once
            done = {
                "key": key,
                "path": request.path,
                "body": await request.json(),
                "reference": f"R-{len(shop.actions) + 1}",
            }
            shop.actions.append(done)
        return web.json_response({"reference": done["reference"]})

    app.router.add_get("/orders/{number}", get_order)
    app.router.add_get("/orders", list_orders)
    app.router.add_get("/customers", get_customer)
    app.router.add_post("/orders/{number}/cancel", act)
    app.router.add_post("/orders/{number}/refunds", act)
