"""The WooCommerce backend against a local REST API v3 (tests/backends/woocommerce_api.py)."""

import pytest

from actions.backends.mapping import tables
from actions.backends.settings import OrderSettings
from actions.backends.woocommerce import WooCommerceBackend
from actions.orders import Done, OrdersUnavailable, Refused
from tests.backends import woocommerce_api as api


@pytest.fixture
async def shop(serve):
    shop = await serve(api.Shop(), api.routes)
    shop.orders = [
        api.order(7781, "minh@example.vn", "completed", total="5400000.00", completed="2026-01-02T10:00:00"),
        api.order(7790, "minh@example.vn", "processing"),
        api.order(7795, "other@example.vn", "on-hold"),
    ]
    shop.customers = [api.customer(31, "minh@example.vn", "0987654321", tier="silver")]
    return shop


def backend(shop, secret=api.SECRET) -> WooCommerceBackend:
    return WooCommerceBackend(
        OrderSettings(backend="woocommerce", woo_url=shop.url, woo_key=api.KEY, woo_secret=secret)
    )


async def test_an_order_its_items_money_and_status(shop):
    store = backend(shop)
    order = await store.get_order("7781")
    missing = await store.get_order("1234")
    await store.close()
    assert missing is None
    assert (order.order_id, order.email, order.status, order.value) == (
        "7781",
        "minh@example.vn",
        "delivered",
        5400000,
    )
    assert order.items["vi"] == "Espresso machine" and order.carrier == "GiaoNhanh express"
    assert order.last_scan["en"] == "no tracking number yet" and order.shipped_days_ago is not None
    assert shop.seen[0]["path"] == "/wp-json/wc/v3/orders/7781"


async def test_a_renumbered_order_is_found_by_its_number_never_by_an_id_it_is_not(shop):
    # A sequential-numbers plugin: order 7781's id is 12, and id 7781 is another order.
    shop.orders = [
        api.order(7781, "minh@example.vn", "completed", id_=12),
        api.order(9999, "x@example.vn", "pending", id_=7781),
    ]
    store = backend(shop)
    order = await store.get_order("7781")
    await store.close()
    assert order.email == "minh@example.vn" and order.status == "delivered"


async def test_recent_orders_and_customers(shop):
    store = backend(shop)
    recent = await store.recent_orders_for(email="minh@example.vn", limit=2)
    by_email = await store.customer(email="minh@example.vn")
    by_phone = await store.customer(phone="0987654321")
    by_id = await store.customer(customer_id="31")
    unknown = await store.customer(email="nobody@example.vn")
    await store.close()
    assert {o.order_id for o in recent} == {"7781", "7790"}
    assert by_email.tier == "silver" and by_email.phone == "0987654321"
    assert by_phone.email == by_id.email == "minh@example.vn" and unknown is None


@pytest.mark.parametrize("status", api.STATUSES)
async def test_every_documented_status_is_read_through_the_table(shop, status):
    shop.orders = [api.order(5001, "a@example.vn", status)]
    store = backend(shop)
    order = await store.get_order("5001")
    await store.close()
    assert order.status == tables().statuses["woocommerce"][status]


async def test_a_plugins_status_not_in_the_table_is_unavailable(shop):
    shop.orders = [api.order(5002, "a@example.vn", "wc-awaiting-shipment")]
    store = backend(shop)
    with pytest.raises(OrdersUnavailable, match="wc-awaiting-shipment"):
        await store.get_order("5002")
    await store.close()


async def test_bad_credentials_and_a_failing_server_are_unavailable(shop):
    store = backend(shop, secret="wrong")
    with pytest.raises(OrdersUnavailable, match="401"):
        await store.get_order("7781")
    await store.close()
    shop.mode = "error"
    store = backend(shop)
    with pytest.raises(OrdersUnavailable, match="500"):
        await store.recent_orders_for(email="minh@example.vn")
    await store.close()


async def test_cancel_is_a_status_and_a_refund_goes_through_the_gateway(shop):
    store = backend(shop)
    assert isinstance(await store.cancel("7790", reason="customer asked", key="k"), Done)
    assert shop.orders[1]["status"] == "cancelled"
    assert await store.refund("7781", 400000, note="broken", key="k") == Done("8801")
    assert shop.refunds[-1] == {"amount": "400000.00", "reason": "broken", "api_refund": True}
    refused = await store.refund("7781", 9000000, note="too much", key="k")
    assert isinstance(refused, Refused) and "Invalid refund amount" in refused.reason
    # A refund is never retried (WooCommerce takes no idempotency key).
    shop.refund_failures = 1
    before = len(shop.seen)
    with pytest.raises(OrdersUnavailable, match="500"):
        await store.refund("7781", 1000, note="x", key="k")
    assert [s["method"] for s in shop.seen[before:]] == ["GET", "POST"]
    assert len(shop.refunds) == 1
    await store.close()
