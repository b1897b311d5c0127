"""Sessions on the shop page in a real browser (Debian's chromium, Playwright), with the
unmodified rasa-webchat widget: "End chat" revokes the id and the next visitor starts a
new conversation; proving an order gives the widget a new id of the same conversation
and keeps its history; a resume link for another conversation is not followed unless
the customer chooses it."""

import json

from playwright.async_api import async_playwright, expect
from redis import asyncio as aioredis

from bot.aftercare.resume import resume_token
from bot.core.sessions import session_hash
from contract import keys
from tests.browser.helpers import ARGS, CHROMIUM, TIMEOUT
from tests.shop import new_customer

SECRET = "browser-test"
BOT = ".rw-message:not(.rw-typing-indication) .rw-response"
HUB_ENV = dict(STILL_HERE_AFTER="600", HUB_SECRET=SECRET)


async def session_id(page):
    stored = json.loads(await page.evaluate("localStorage.getItem('chat_session')") or "{}")
    return stored.get("session_id") or ""


async def open_chat(page):
    await expect(page.locator(".rw-launcher")).to_be_visible()
    if await page.locator(".rw-conversation-container").count() == 0:
        await page.locator(".rw-launcher").click()
    await expect(page.locator(".rw-new-message")).to_be_visible()
    await expect(page.locator(BOT).first).to_be_visible()  # the greeting


async def say(page, text):
    await page.locator(".rw-new-message").fill(text)
    await page.locator(".rw-new-message").press("Enter")


async def is_session(redis_url, token):
    redis = aioredis.from_url(redis_url, decode_responses=True)
    try:
        return bool(await redis.exists(keys.widget_session(session_hash(token))))
    finally:
        await redis.close(close_connection_pool=True)


async def test_end_chat_revokes_the_session_and_the_next_visitor_starts_afresh(browser_hub, redis_url):
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = await (await browser.new_context()).new_page()
            page.set_default_timeout(TIMEOUT)
            await page.goto(browser_hub + "/")
            await open_chat(page)
            await say(page, "my parcel is late and I'm fed up")
            await expect(page.locator(BOT).filter(has_text="Which order")).to_be_visible()
            first = await session_id(page)
            assert first and await is_session(redis_url, first)
            await expect(page.locator("#end-chat")).to_be_visible()

            async with page.expect_navigation():
                await page.locator("#end-chat").click()
            await open_chat(page)
            # Nothing of the first conversation is on the page, and its id is dead on the hub.
            await expect(page.locator(BOT).filter(has_text="Which order")).to_have_count(0)
            await expect(page.locator(".rw-client")).to_have_count(0)
            second = await session_id(page)
            assert second and second.rpartition(".")[0] != first.rpartition(".")[0]
            assert not await is_session(redis_url, first)
        finally:
            await browser.close()


async def test_proving_the_order_gives_the_widget_a_new_id_and_keeps_its_history(browser_hub, redis_url):
    lan = new_customer(redis_url, orders=(("in_transit", 700_000),))
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = await (await browser.new_context()).new_page()
            page.set_default_timeout(TIMEOUT)
            await page.goto(browser_hub + "/")
            await open_chat(page)
            before = await session_id(page)
            await say(page, f"my parcel is late, order {lan.order.order_id}")
            await expect(page.locator(BOT).filter(has_text="once I know it's yours")).to_be_visible()
            await say(page, f"it's {lan.customer.email}")
            await expect(page.locator(BOT).filter(has_text="that matches")).to_be_visible()
            await page.wait_for_function(
                "old => (JSON.parse(localStorage.getItem('chat_session')) || {}).session_id !== old",
                arg=before,
            )
            after = await session_id(page)
            assert after.rpartition(".")[0] == before.rpartition(".")[0]
            assert not await is_session(redis_url, before) and await is_session(redis_url, after)
            # The same conversation, its history kept and not greeted again.
            await expect(page.locator(BOT).filter(has_text="once I know it's yours")).to_have_count(1)
            await expect(page.locator(BOT).filter(has_text="Tell me what went wrong, or what")).to_have_count(
                1
            )
            await expect(page.locator(BOT).filter(has_text="shop's automated assistant")).to_have_count(1)
            await page.reload()
            await open_chat(page)
            await expect(page.locator(BOT).filter(has_text="that matches")).to_have_count(1)
            assert await session_id(page) == after
        finally:
            await browser.close()


async def test_a_resume_link_for_another_conversation_asks_before_leaving_the_chat_on_the_page(
    browser_hub, redis_url
):
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = await browser.new_context()
            page = await context.new_page()
            page.set_default_timeout(TIMEOUT)
            await page.goto(browser_hub + "/")
            await open_chat(page)
            mine = await session_id(page)
            other = await (await browser.new_context()).new_page()  # someone else's conversation
            await other.goto(browser_hub + "/")
            await open_chat(other)
            theirs = (await session_id(other)).rpartition(".")[0]
            token = resume_token(theirs, SECRET)

            await page.goto(f"{browser_hub}/?resume={token}")
            await expect(page.locator("#resume-ask")).to_be_visible()
            await page.locator("#resume-keep").click()  # the page carries on with its own chat
            await expect(page.locator("#resume-ask")).to_be_hidden()
            await open_chat(page)
            assert await session_id(page) == mine and await is_session(redis_url, mine)

            await page.goto(f"{browser_hub}/?resume={token}")  # the link was not used up
            await page.locator("#resume-open").click()
            await page.wait_for_function(
                "old => (JSON.parse(localStorage.getItem('chat_session')) || {}).session_id !== old", arg=mine
            )
            assert (await session_id(page)).rpartition(".")[0] == theirs
            assert not await is_session(redis_url, mine)  # the chat this page had ended here
        finally:
            await browser.close()
