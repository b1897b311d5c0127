"""A slow or failing order backend, through the actions: the polite path (the customer
hears once that orders can't be seen, with a person one tap away), nothing lost (the
number given is kept, for the agent and the case), never an exception, never a wait
past the 3 s deadline; and the Redis cache in front of a backend."""

import time

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.backends import store_for_actions
from actions.complaint_resolve import ActionResolveComplaint
from actions.customer import load_customer
from actions.detail_questions import ActionAskOrderId
from actions.store import get_redis
from contract import memory
from tests.actions.helpers import (
    FORM,
    acknowledge,
    entity,
    payloads,
    render,
    responses,
    run,
    slots_set,
    tracker,
)
from tests.backends import contract_api as api

NUMBER = "2207718"


@pytest.fixture
async def shop(serve, order_env):
    shop = await serve(api.Shop(), api.routes)
    shop.orders = [api.order(NUMBER, "minh@example.vn")]
    shop.customers = [api.customer("C-1002", "minh@example.vn", "0987654321")]
    order_env(ORDERS_BACKEND="http", ORDERS_HTTP_URL=shop.url, ORDERS_HTTP_TOKEN=api.TOKEN)
    return shop


async def complaint_about_the_order(sender, domain, language="en"):
    """A complaint about NUMBER, acknowledged; the slots it set."""
    text = f"my glasses arrived broken, order {NUMBER}" if language == "en" else f"ly bi vo, don {NUMBER}"
    _, ack = await acknowledge(
        sender,
        domain,
        text,
        "complain_damaged",
        [entity("order_id", NUMBER)],
        language=language,
        slots={"order_id": NUMBER},
    )
    return {**slots_set(ack), "order_id": NUMBER}


@pytest.mark.parametrize("mode,language", [("error", "en"), ("slow", "vi")])
async def test_a_backend_that_fails_or_hangs_gives_the_polite_path_and_loses_nothing(
    shop, domain, sender, mode, language
):
    await acknowledge(
        f"{sender}-warm", domain, "my glasses arrived broken", "complain_damaged"
    )  # loads what it needs
    shop.mode = mode
    started = time.monotonic()
    slots = await complaint_about_the_order(sender, domain, language)  # assessed without the order
    asked = tracker(sender, NUMBER, "inform", [entity("order_id", NUMBER)], slots=slots, language=language)
    out = CollectingDispatcher()
    result = await FORM.validate_order_id(NUMBER, out, asked, domain)
    assert time.monotonic() - started < 4.5  # one deadline for both steps, never a hang
    assert responses(out) == ["utter_orders_unavailable"]
    said = render(domain, out.messages[0], {"language": language})
    assert (
        ("can't see our orders" in said) if language == "en" else ("chưa xem được thông tin đơn hàng" in said)
    )
    assert result["order_id"] == NUMBER and result["orders_unavailable"] is True  # kept as given
    slots.update(result)
    # No proof asked for an order nobody can see; the next steps do not wait again.
    started = time.monotonic()
    needed = await FORM.required_slots(
        [], out, tracker(sender, "", "inform", slots=slots, language=language), domain
    )
    assert "order_contact" not in needed
    dispatcher, events = await run(
        ActionResolveComplaint(), tracker(sender, "", "inform", slots=slots, language=language), domain
    )
    assert time.monotonic() - started < 1.0
    # Told once per complaint; nothing to grant without the order: a person looks it up.
    assert responses(dispatcher) == ["utter_handoff_orders_unavailable"]
    handed = render(domain, dispatcher.messages[0], {**slots, **slots_set(events), "language": language})
    assert slots["case_ref"] in handed
    packet = payloads(dispatcher)[0]["handoff"]
    assert packet["reason"] == "orders_unavailable"
    assert packet["details"]["order_id"] == NUMBER and packet["details_trust"]["order_id"] == "claimed"
    case = await memory.load_case(get_redis(), slots["case_ref"])
    assert case.details["order_id"] == NUMBER and case.status == "handed_off"


async def test_a_signed_in_customer_is_still_recognised_and_asked_plainly(shop, domain, sender):
    shop.mode = "error"
    signed = {"channel": "web", "identity": {"channel_id": "w", "shop_customer": "C-1002"}}
    trk = tracker(sender, "hi", "greet", metadata=signed)
    customer = await load_customer(trk)
    assert customer.verified and customer.tier == "standard"
    out = CollectingDispatcher()
    await ActionAskOrderId().run(out, trk, domain)
    assert responses(out) == ["utter_ask_order_id"]  # no order buttons, no error


async def test_answers_are_cached_a_failure_is_remembered_and_what_the_bot_sets_drops_the_copy(shop):
    store = store_for_actions()
    assert (await store.get_order(NUMBER)).status == "delivered"
    asked = len(shop.seen)
    assert (await store.get_order(NUMBER)).status == "delivered"
    assert len(shop.seen) == asked  # from Redis
    await store.set_status(NUMBER, "cancelled")
    shop.orders[0]["status"] = "cancelled"
    assert (await store.get_order(NUMBER)).status == "cancelled"  # asked again
    shop.mode = "error"
    with pytest.raises(Exception) as failed:
        await store.customer(email="someone@example.vn")
    asked = len(shop.seen)
    started = time.monotonic()
    with pytest.raises(type(failed.value), match="failed a moment ago"):
        await store.recent_orders_for(email="minh@example.vn")
    assert len(shop.seen) == asked and time.monotonic() - started < 0.5
