"""The proof lock in a real browser: a stranger's wrong answers have locked an order, so
the assistant carries on without it and hands the guest to a person; the agent sees the
lock beside the conversation, in words, and lifts it once sure who the customer is; the
customer can then prove the order in the chat. Customer side over the hub's REST
channel, the console in Debian's chromium; a screenshot goes to results/screenshots/."""

import re

from playwright.async_api import async_playwright, expect
from redis import asyncio as aioredis
import requests

from bot.settings import DEMO_AGENTS, DEMO_LOGIN
from contract import keys
from contract.identity import MAX_PROOF_FAILURES
from tests.browser.helpers import ARGS, CHROMIUM, SHOTS, TIMEOUT, sign_in
from tests.shop import new_customer

HUB_ENV = dict(
    STILL_HERE_AFTER="600", AGENT_ONLINE_SECONDS="60", HUB_SECRET="browser-test", HUB_AGENTS=DEMO_AGENTS
)


def say(hub, sender, message):
    response = requests.post(
        f"{hub}/webhooks/rest/webhook", json={"sender": sender, "message": message}, timeout=60
    )
    response.raise_for_status()
    return " ".join(r.get("text") or "" for r in response.json())


async def test_an_agent_sees_an_orders_proof_lock_and_lifts_it(browser_hub, assistant):
    SHOTS.mkdir(parents=True, exist_ok=True)
    owner = new_customer(assistant.redis_url, orders=(("delivered", 480_000),))
    order_id = owner.order.order_id
    redis = aioredis.from_url(assistant.redis_url, decode_responses=True)
    try:
        # Earlier chats guessed wrong five times today: the order is locked.
        await redis.set(keys.order_proof_failures(order_id), MAX_PROOF_FAILURES, ex=keys.ORDER_PROOF_WINDOW)
        sender = f"lock-{order_id}"
        say(browser_hub, sender, f"order {order_id} arrived broken")
        locked = say(browser_hub, sender, owner.customer.phone)  # the right one: not even checked
        assert "can't check any more details" in locked and "passing your case to a colleague" in locked

        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                console = await (
                    await browser.new_context(viewport={"width": 1280, "height": 800})
                ).new_page()
                console.set_default_timeout(TIMEOUT)
                await sign_in(console, browser_hub, *DEMO_LOGIN)
                await console.locator(f'[data-id="rest-{sender}"]').click()
                lock = console.locator("#panel-lock")
                await expect(lock).to_be_visible()
                await expect(lock).to_contain_text(
                    re.compile(
                        rf"Order {order_id}: {MAX_PROOF_FAILURES} wrong emails or phones today.*\d+ h \d+ min"
                    )
                )
                await console.screenshot(path=str(SHOTS / "console-proof-lock.png"))
                await console.locator("#lift-lock").click()
                await expect(lock).to_be_hidden()
                await expect(console.locator(".transcript li.from-system").last).to_contain_text(
                    f"proof lock on order {order_id} lifted by {DEMO_LOGIN[0]}"
                )
            finally:
                await browser.close()
        assert await redis.get(keys.order_proof_failures(order_id)) is None
    finally:
        await redis.close(close_connection_pool=True)
    # The customer can prove the order in the chat again.
    again = f"{sender}-again"
    say(browser_hub, again, f"order {order_id} arrived broken")
    assert "matches the order" in say(browser_hub, again, owner.customer.phone)
