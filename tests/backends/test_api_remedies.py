"""`api` remedies through the actions, against a platform's local server (here the
WooCommerce REST API v3 of tests/backends/woocommerce_api.py, configured as an operator
would, ORDERS_BACKEND=woocommerce): the platform carries the remedy out and only then
does the customer read "Done: ...", with nothing left for the team; a refusal, or the
platform down, makes it a task for the team with what happened noted, and the customer
is promised what is true instead. The tests' playbook marks `refund` api [refund] and
`cancel` api [cancel, refund]."""

import pytest

from actions.backends import store_for_actions
from actions.complaint import ActionAcknowledgeComplaint
from actions.complaint_resolve import ActionResolveComplaint
from actions.remedies import ActionApplyRemedy
from actions.store import get_redis
from contract import tasks
from tests.actions.helpers import entity, render, responses, run, slots_set, tracker
from tests.backends import woocommerce_api as api

SIGNED = {"channel": "web", "identity": {"channel_id": "w-session", "shop_customer": "31"}}


@pytest.fixture
async def shop(serve, order_env):
    shop = await serve(api.Shop(), api.routes)
    shop.orders = [
        api.order(7781, "minh@example.vn", "completed", total="480000", completed="2026-01-02T10:00:00"),
        api.order(7790, "minh@example.vn", "processing", total="650000"),
    ]
    shop.customers = [api.customer(31, "minh@example.vn", "0987654321")]
    order_env(ORDERS_BACKEND="woocommerce", WOO_URL=shop.url, WOO_KEY=api.KEY, WOO_SECRET=api.SECRET)
    return shop


async def offered(sender, domain, complaint, order_id, text):
    """Minh, signed in on the shop, complains about his order; the slots once offered."""
    _, ack = await run(
        ActionAcknowledgeComplaint(),
        tracker(
            sender,
            text,
            complaint,
            [entity("order_id", order_id)],
            slots={"order_id": order_id},
            metadata=SIGNED,
        ),
        domain,
    )
    slots = {**slots_set(ack), "order_id": order_id}
    _, resolved = await run(
        ActionResolveComplaint(), tracker(sender, "", "inform", slots=slots, metadata=SIGNED), domain
    )
    return {**slots, **slots_set(resolved)}


async def take(sender, domain, slots, text, intent="affirm", entities=()):
    dispatcher, events = await run(
        ActionApplyRemedy(),
        tracker(sender, text, intent, list(entities), slots=slots, metadata=SIGNED),
        domain,
    )
    slots = {**slots, **slots_set(events)}
    return slots, responses(dispatcher)[0], render(domain, dispatcher.messages[0], slots)


def sent(shop, method, path):
    return [r for r in shop.seen if r["method"] == method and r["path"] == path]


async def test_a_refund_the_platform_makes_is_done(shop, domain, sender):
    slots = await offered(sender, domain, "complain_damaged", "7781", "my glasses arrived broken, order 7781")
    assert slots["offered_remedies"] == ["replacement", "refund"]
    slots, said, text = await take(
        sender, domain, slots, "a refund please", "choose_remedy", [entity("remedy", "refund")]
    )
    assert said == "utter_remedy_done" and text.startswith("Done: Your full refund is on its way")
    assert [r["amount"] for r in shop.refunds] == ["480000.00"]  # the order's full value, through the gateway
    assert shop.refunds[0]["api_refund"] is True and slots["case_ref"] in shop.refunds[0]["reason"]
    assert await tasks.of_conversation(get_redis(), sender) == []


async def test_a_cancellation_the_platform_makes_is_done_and_the_order_is_read_again(shop, domain, sender):
    slots = await offered(sender, domain, "cancel_order", "7790", "please cancel order 7790")
    assert slots["offered_remedies"] == ["cancel"]
    slots, said, text = await take(sender, domain, slots, "yes")
    assert said == "utter_remedy_done" and text.startswith("Done: The order is cancelled")
    assert [r["body"] for r in sent(shop, "PUT", "/wp-json/wc/v3/orders/7790")] == ['{"status": "cancelled"}']
    assert [r["amount"] for r in shop.refunds] == ["650000.00"]
    # The cached copy is dropped: the next look-up sees what the platform now says.
    assert (await store_for_actions().get_order("7790")).status == "cancelled"


async def test_a_refund_the_platform_refuses_is_a_task_with_the_refusal_noted(shop, domain, sender):
    slots = await offered(sender, domain, "complain_damaged", "7781", "my glasses arrived broken, order 7781")
    shop.orders[0]["total"] = "100000"  # part of it was refunded in the shop's admin meanwhile
    slots, said, text = await take(
        sender, domain, slots, "a refund please", "choose_remedy", [entity("remedy", "refund")]
    )
    assert said == "utter_remedy_promised"
    assert text.startswith(
        "I've asked our team to refund the full amount to your original payment method; "
        "I'll message you here when it's sent."
    )
    assert shop.refunds == []
    task = await tasks.get(get_redis(), f"{slots['case_ref']}-refund")
    assert task.status == "open" and task.api_failure == "refund refused: Invalid refund amount."
    assert (task.order_id, task.amount) == ("7781", 480_000)
    assert task.customer.verified and task.customer.email == "minh@example.vn"


async def test_a_cancellation_done_whose_refund_is_refused_says_both_on_the_task(shop, domain, sender):
    slots = await offered(sender, domain, "cancel_order", "7790", "please cancel order 7790")
    shop.orders[1]["total"] = "0"  # nothing left to refund on the platform
    slots, said, _ = await take(sender, domain, slots, "yes")
    assert said == "utter_remedy_promised"
    task = await tasks.get(get_redis(), f"{slots['case_ref']}-cancel")
    assert task.api_failure == "cancel done (7790); refund refused: Invalid refund amount."


async def test_the_platform_down_makes_the_remedy_a_task_never_a_done(shop, domain, sender):
    slots = await offered(sender, domain, "complain_damaged", "7781", "my glasses arrived broken, order 7781")
    shop.mode = "error"
    slots, said, _ = await take(
        sender, domain, slots, "a refund please", "choose_remedy", [entity("remedy", "refund")]
    )
    assert said == "utter_remedy_promised"
    task = await tasks.get(get_redis(), f"{slots['case_ref']}-refund")
    assert task.api_failure.startswith("refund: the order system could not be reached (")
