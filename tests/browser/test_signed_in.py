"""The demo sign-in in a real browser (issue 9): on the shop page the visitor turns on
"Signed in as Lan (demo)", and the widget carries the hub-signed identity in its
customData. The assistant then recognises Lan and recalls her stored email only
masked; the full address never appears on the page. Signing out starts a new
conversation, as a guest.

The demo customer, her in-transit order and her email come from the demo data file,
so the test follows data/shop/orders.yml."""

import json

from playwright.async_api import async_playwright, expect
from redis import asyncio as aioredis
import yaml

from contract import keys
from contract.identity import mask_email
from tests.browser.helpers import ARGS, CHROMIUM, ROOT, SHOTS, TIMEOUT

SHOP = yaml.safe_load((ROOT / "data" / "shop" / "orders.yml").read_text(encoding="utf-8"))["shop"]
LAN = next(c for c in SHOP["customers"] if c.get("id") == "C-1001")
LATE_ORDER = next(o for o in SHOP["orders"] if o["email"] == LAN["email"] and o["status"] == "in_transit")
HUB_ENV = dict(HUB_DEMO="1", STILL_HERE_AFTER="600", HUB_SECRET="browser-test")


async def conversation_identity(redis_url, page):
    """The identity the hub recorded for the widget conversation this page is in."""
    stored = json.loads(await page.evaluate("localStorage.getItem('chat_session')") or "{}")
    cid = (stored.get("session_id") or "").rpartition(".")[0]
    redis = aioredis.from_url(redis_url, decode_responses=True)
    try:
        return cid, json.loads(await redis.hget(keys.conversation(cid), "identity") or "{}")
    finally:
        await redis.close(close_connection_pool=True)


async def open_shop(browser, url):
    page = await (await browser.new_context(viewport={"width": 1100, "height": 800})).new_page()
    page.set_default_timeout(TIMEOUT)
    await page.goto(url + "/")
    await expect(page.locator("#demo-sign-in")).to_be_visible()
    await expect(page.locator("#demo-sign-in")).to_contain_text(f"Signed in as {LAN['name']} (demo)")
    return page


async def sign_in(page, on: bool):
    async with page.expect_navigation():
        await page.locator("#demo-signed-in").set_checked(on)
    await expect(page.locator("#demo-signed-in")).to_be_checked(checked=on)


async def open_chat(page):
    await expect(page.locator(".rw-launcher")).to_be_visible()  # the widget has restored its state
    if not await page.locator(".rw-new-message").is_visible():
        await page.locator(".rw-launcher").click()


async def say(page, text):
    box = page.locator(".rw-new-message")
    await box.fill(text)
    await box.press("Enter")


async def test_a_signed_in_customer_is_recalled_masked(browser_hub, assistant):
    SHOTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = None
        try:
            page = await open_shop(browser, browser_hub)
            await sign_in(page, True)
            await open_chat(page)
            bot = page.locator(".rw-response")
            await expect(bot.first).to_be_visible()
            await say(page, f"my parcel for order {LATE_ORDER['order_id']} is late")
            await expect(bot.filter(has_text=LATE_ORDER["order_id"]).first).to_be_visible()

            _, identity = await conversation_identity(assistant.redis_url, page)
            assert identity.get("shop_customer") == LAN["id"]

            await expect(bot.filter(has_text=mask_email(LAN["email"])).first).to_be_visible()
            assert LAN["email"] not in await page.content()
        finally:
            if page is not None:
                await page.screenshot(path=str(SHOTS / "shop-signed-in.png"), full_page=True)
            await browser.close()


async def test_signing_out_starts_a_new_conversation_as_a_guest(browser_hub, assistant):
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = await open_shop(browser, browser_hub)
            await sign_in(page, True)
            await open_chat(page)
            await expect(page.locator(".rw-response").first).to_be_visible()
            await say(page, "hello")
            await expect(page.locator(".rw-response").nth(1)).to_be_visible()
            signed_cid, identity = await conversation_identity(assistant.redis_url, page)
            assert signed_cid and identity.get("shop_customer") == LAN["id"]

            await sign_in(page, False)
            await open_chat(page)
            await expect(page.locator(".rw-response").first).to_be_visible()
            await say(page, "hello again")
            await expect(page.locator(".rw-response").nth(1)).to_be_visible()
            guest_cid, identity = await conversation_identity(assistant.redis_url, page)
            assert guest_cid and guest_cid != signed_cid
            assert identity == {"channel_id": guest_cid}
            assert "hello" not in await page.locator(".rw-client").all_inner_texts()
        finally:
            await browser.close()
