"""The Haravan backend against a local REST Admin API (tests/backends/haravan_api.py)."""

import uuid

import pytest

from actions.backends.haravan import HaravanBackend
from actions.backends.mapping import tables
from actions.backends.settings import OrderSettings
from actions.orders import Done, OrdersUnavailable, Refused
from actions.store import get_redis
from tests.backends import haravan_api as api


@pytest.fixture
async def shop(serve, redis_url):
    shop = await serve(api.Shop(), api.routes)
    shop.orders = [
        api.order(
            1225411478, 100020, "hoa@example.vn", carrier_code="delivering", created="2026-01-02T07:00:00Z"
        ),
        api.order(1225411479, 100021, "hoa@example.vn", created="2026-01-03T07:00:00Z"),
    ]
    shop.customers = [
        api.customer(1036847352, "hoa@example.vn", "0356789012", 1225411479, tags="vip, newsletter")
    ]
    return shop


def backend(shop, token=api.TOKEN) -> HaravanBackend:
    made = HaravanBackend(
        OrderSettings(backend="haravan", haravan_token=token, haravan_url=shop.url), get_redis()
    )
    made.fingerprint = f"haravan-{uuid.uuid4().hex[:8]}"  # its own index: no test reads another's
    return made


async def test_an_order_by_its_number_through_the_list_then_by_its_id(shop):
    store = backend(shop)
    order = await store.get_order("100020")
    assert (order.order_id, order.status, order.value, order.email) == (
        "100020",
        "in_transit",
        650000,
        "hoa@example.vn",
    )
    assert order.carrier == "Giao Hàng Nhanh" and order.last_scan["vi"] == "mã vận đơn GHN-5566"
    assert order.items["en"] == "Váy lanh - M"
    listed = [s for s in shop.seen if s["path"] == "/com/orders.json"]
    assert (
        listed and listed[0]["query"]["fields"] == "id,order_number" and listed[0]["query"]["status"] == "any"
    )
    # Learnt: the next look-up asks for the order by its API id at once.
    before = len(shop.seen)
    again = await store.get_order("100020")
    await store.close()
    assert again == order and [s["path"] for s in shop.seen[before:]] == ["/com/orders/1225411478.json"]


async def test_unknown_cancelled_and_unshipped(shop):
    shop.orders.append(
        api.order(1225411480, 100022, "x@example.vn", carrier_code="delivered", cancelled=True)
    )
    store = backend(shop)
    assert await store.get_order("999999") is None
    assert (await store.get_order("100022")).status == "cancelled"
    unshipped = await store.get_order("100021")
    await store.close()
    assert unshipped.status == "processing" and unshipped.last_scan["en"] == "not shipped yet"
    assert unshipped.carrier == "Giao hàng tận nơi" and unshipped.shipped_days_ago is None


async def test_a_customer_and_their_last_order(shop):
    store = backend(shop)
    found = await store.customer(email="hoa@example.vn")
    by_id = await store.customer(customer_id="1036847352")
    recent = await store.recent_orders_for(phone="0356789012")
    await store.close()
    assert found.tier == "vip" and found.orders_total == 6 and by_id.phone == "0356789012"
    assert [o.order_id for o in recent] == ["100021"]


@pytest.mark.parametrize("word", api.CARRIER_CODES + api.FULFILLMENT_STATUSES)
async def test_every_status_is_read_through_the_table(shop, word):
    code = word if word in api.CARRIER_CODES else ""
    status = word if word in api.FULFILLMENT_STATUSES else "partial"
    shop.orders = [api.order(42, 300001, "a@example.vn", carrier_code=code, fulfillment_status=status)]
    store = backend(shop)
    order = await store.get_order("300001")
    await store.close()
    assert order.status == tables().statuses["haravan"][word]


async def test_failures_are_unavailable(shop):
    store = backend(shop, token="nope")
    with pytest.raises(OrdersUnavailable, match="401"):
        await store.get_order("100020")
    await store.close()
    shop.mode = "error"
    store = backend(shop)
    with pytest.raises(OrdersUnavailable, match="500"):
        await store.customer(email="hoa@example.vn")
    await store.close()


async def test_cancel_and_refund(shop):
    store = backend(shop)
    assert await store.cancel("100021", reason="customer asked", key="k") == Done("1225411479")
    assert shop.cancelled[-1]["reason"] == "customer" and shop.cancelled[-1]["note"] == "customer asked"
    refused = await store.cancel("100021", reason="again", key="k")
    assert isinstance(refused, Refused) and "hủy" in refused.reason
    assert await store.refund("100020", 120000, note="late", key="k") == Done("1011637849")
    assert shop.refunds[-1] == {
        "refund": {
            "notify": True,
            "note": "late",
            "transactions": [{"amount": "120000.00", "kind": "refund"}],
        }
    }
    await store.close()
