"""The Shopify backend against a local Admin GraphQL API (tests/backends/shopify_api.py)."""

import json
import time

import pytest

from actions.backends.mapping import tables
from actions.backends.settings import OrderSettings
from actions.backends.shopify import ShopifyBackend
from actions.orders import Done, OrdersUnavailable, Refused
from tests.backends import shopify_api as api


@pytest.fixture
async def shop(serve):
    shop = await serve(api.Shop(), api.routes)
    shop.orders = [
        api.order(
            1001, "lan@example.com", status_word="IN_TRANSIT", lines=(("Running shoes", 1), ("Socks", 2))
        ),
        api.order(1002, "lan@example.com", status_word="UNFULFILLED", amount="320000.0"),
        api.order(1003, "minh@example.vn", status_word="DELIVERED", cancelled=True),
    ]
    shop.customers = [api.customer(7001, "lan@example.com", "+84912345678", ["newsletter", "gold"])]
    return shop


def backend(shop, token=api.TOKEN) -> ShopifyBackend:
    return ShopifyBackend(
        OrderSettings(
            backend="shopify",
            shopify_shop="moc-home",
            shopify_token=token,
            shopify_api_version=api.VERSION,
            shopify_url=shop.url,
        )
    )


async def test_an_order_by_the_number_the_customer_sees(shop):
    store = backend(shop)
    order = await store.get_order("1001")
    await store.close()
    assert order.order_id == "1001" and order.email == "lan@example.com"
    assert order.status == "in_transit" and order.value == 480000
    assert order.items == {"en": "Running shoes, Socks ×2", "vi": "Running shoes, Socks ×2"}
    # The newest live fulfillment's carrier and tracking, never the cancelled one's.
    assert order.carrier == "GiaoNhanh" and order.last_scan["en"] == "tracking number GN-7788"
    assert order.shipped_days_ago is not None and order.shipped_days_ago >= 0
    sent = json.loads(shop.seen[-1]["body"])
    assert sent["variables"]["query"] == 'name:"#1001"'
    assert shop.seen[-1]["headers"]["X-Shopify-Access-Token"] == api.TOKEN


async def test_an_unknown_number_is_none_and_a_cancelled_order_is_cancelled(shop):
    store = backend(shop)
    assert await store.get_order("4040") is None
    assert (await store.get_order("1003")).status == "cancelled"
    unshipped = await store.get_order("1002")
    await store.close()
    assert unshipped.status == "processing" and unshipped.last_scan["en"] == "not shipped yet"
    assert unshipped.carrier == "Standard delivery"


async def test_recent_orders_newest_first_and_the_customer_with_their_tier(shop):
    shop.orders[1]["processedAt"] = "2026-01-05T07:00:00Z"
    store = backend(shop)
    recent = await store.recent_orders_for(email="lan@example.com", limit=3)
    by_phone = await store.customer(phone="+84912345678")
    signed = await store.customer(customer_id="7001")
    await store.close()
    assert [o.order_id for o in recent] == ["1002", "1001"]
    assert by_phone.email == "lan@example.com" and by_phone.tier == "gold" and by_phone.orders_total == 14
    assert signed.id == "7001" and signed.phone == "+84912345678"


@pytest.mark.parametrize(
    "word",
    sorted(set(api.FULFILLMENT_DISPLAY_STATUSES + api.ORDER_DISPLAY_FULFILLMENT_STATUSES) - {"CANCELED"}),
)
async def test_every_status_is_read_through_the_table(shop, word):
    shop.orders = [api.order(2001, "a@example.com", status_word=word)]
    store = backend(shop)
    order = await store.get_order("2001")
    await store.close()
    assert order.status == tables().statuses["shopify"][word]


async def test_a_word_the_table_lacks_is_unavailable_never_guessed(shop):
    shop.orders = [api.order(2002, "a@example.com", status_word="TELEPORTED")]
    store = backend(shop)
    with pytest.raises(OrdersUnavailable, match="TELEPORTED"):
        await store.get_order("2002")
    await store.close()


async def test_an_order_in_another_currency_is_not_compared_with_the_playbooks(shop):
    shop.orders = [api.order(2003, "a@example.com", status_word="DELIVERED", amount="19.99", currency="USD")]
    store = backend(shop)
    with pytest.raises(OrdersUnavailable, match="USD"):
        await store.get_order("2003")
    await store.close()


async def test_failures_are_unavailable(shop):
    store = backend(shop, token="wrong")
    with pytest.raises(OrdersUnavailable, match="401"):
        await store.get_order("1001")
    await store.close()
    shop.graphql_errors = True
    store = backend(shop)
    with pytest.raises(OrdersUnavailable, match="THROTTLED"):
        await store.get_order("1001")
    shop.graphql_errors = False
    shop.mode = "error"
    with pytest.raises(OrdersUnavailable, match="HTTP 500"):
        await store.get_order("1001")
    # A read is retried once after a quick failure.
    shop.mode = "flaky"
    assert (await store.get_order("1001")).order_id == "1001"
    shop.mode = "slow"
    started = time.monotonic()
    with pytest.raises(OrdersUnavailable, match="no answer within 3 s"):
        await store.get_order("1001")
    assert 2.5 < time.monotonic() - started < 4.5
    await store.close()


async def test_cancel_and_refund_for_api_remedies(shop):
    store = backend(shop)
    assert isinstance(await store.cancel("1001", reason="customer asked", key="CASE-1:cancel"), Done)
    assert shop.cancelled[-1]["orderId"] == "gid://shopify/Order/901001"
    assert isinstance(await store.cancel("1003", reason="again", key="k"), Refused)
    done = await store.refund("1001", 150000, note="damaged glass", key="CASE-1:refund")
    assert done == Done("gid://shopify/Refund/5150")
    sent = shop.refunds[-1]
    assert sent["key"] == "CASE-1:refund"
    assert sent["input"]["transactions"][0] == {
        "orderId": "gid://shopify/Order/901001",
        "parentId": "gid://shopify/OrderTransaction/10011",
        "gateway": "shopify_payments",
        "kind": "REFUND",
        "amount": "150000.00",
    }
    assert isinstance(await store.refund("1001", 999999999, note="too much", key="k2"), Refused)
    await store.close()
