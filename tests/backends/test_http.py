"""The HTTP contract backend against a local server of the contract (tests/backends/contract_api.py)."""

import pytest

from actions.backends.http import HttpBackend
from actions.backends.mapping import tables
from actions.backends.settings import OrderSettings
from actions.orders import Done, OrdersUnavailable, Refused
from tests.backends import contract_api as api


@pytest.fixture
async def shop(serve):
    shop = await serve(api.Shop(), api.routes)
    shop.orders = [
        api.order("2207718", "minh@example.vn"),
        api.order("4471120", "hoa@example.vn", "processing", shipped=False, tracking=""),
    ]
    shop.customers = [api.customer("C-1002", "minh@example.vn", "0987654321")]
    return shop


def backend(shop, token=api.TOKEN) -> HttpBackend:
    return HttpBackend(OrderSettings(backend="http", http_url=shop.url, http_token=token))


async def test_orders_and_customers_as_the_contract_gives_them(shop):
    store = backend(shop)
    order = await store.get_order("2207718")
    unshipped = await store.get_order("4471120")
    assert await store.get_order("1") is None
    recent = await store.recent_orders_for(phone="0987654321")
    owner = await store.customer(customer_id="C-1002")
    await store.close()
    assert (order.status, order.value, order.items["en"], order.last_scan["en"]) == (
        "delivered",
        480000,
        "Glass tumbler set ×6",
        "tracking number GN-1",
    )
    assert unshipped.status == "processing" and unshipped.last_scan["vi"] == "chưa gửi đi"
    assert (
        [o.order_id for o in recent] == ["2207718"]
        and owner.tier == "gold"
        and owner.email == "minh@example.vn"
    )
    assert shop.seen[0]["headers"]["Authorization"] == f"Bearer {api.TOKEN}"


@pytest.mark.parametrize("word", ["processing", "shipped", "in_transit", "lost", "delivered", "cancelled"])
async def test_every_contract_status_is_read_through_the_table(shop, word):
    shop.orders = [api.order("100", "a@example.vn", word)]
    store = backend(shop)
    order = await store.get_order("100")
    await store.close()
    assert order.status == tables().statuses["http"][word]


async def test_what_the_contract_does_not_allow_is_unavailable(shop):
    shop.orders = [{"email": "no-number@example.vn", "status": "delivered", "total": "1"}]
    store = backend(shop)
    with pytest.raises(OrdersUnavailable):
        await store.recent_orders_for(email="no-number@example.vn")
    await store.close()
    with pytest.raises(OrdersUnavailable, match="401"):
        store = backend(shop, token="wrong")
        await store.get_order("2207718")
    await store.close()


async def test_actions_carry_an_idempotency_key_and_may_be_retried(shop):
    store = backend(shop)
    first = await store.refund("2207718", 480000, note="damaged", key="CASE-9:refund")
    again = await store.refund("2207718", 480000, note="damaged", key="CASE-9:refund")
    assert first == again == Done("R-1") and len(shop.actions) == 1
    assert shop.actions[0]["body"] == {"amount": "480000.00", "currency": "VND", "note": "damaged"}
    assert shop.seen[-1]["headers"]["Idempotency-Key"] == "CASE-9:refund"
    assert await store.cancel("4471120", reason="customer asked", key="CASE-9:cancel") == Done("R-2")
    shop.offers_actions = False
    assert isinstance(await store.cancel("4471120", reason="x", key="other"), Refused)
    await store.close()
