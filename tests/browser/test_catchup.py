"""Catch-up in a real browser (Debian's chromium, driven by Playwright), with the
unmodified rasa-webchat widget on the shop page: a reload in the middle of a turn, and
a page closed while an agent replies, lose nothing and show nothing twice."""

import aiohttp
from playwright.async_api import async_playwright, expect
from redis import asyncio as aioredis

from bot.aftercare.resume import resume_token
from bot.settings import DEMO_AGENTS, DEMO_LOGIN
from contract import keys
from tests.browser.helpers import ARGS, CHROMIUM, TIMEOUT

SECRET = "browser-test"
BOT = ".rw-message:not(.rw-typing-indication) .rw-response"  # not the "typing…" bubble
# STILL_HERE_AFTER long enough that no reassurance interleaves; the demo agent without
# HUB_DEMO's demo sign-in.
HUB_ENV = dict(STILL_HERE_AFTER="600", AGENT_ONLINE_SECONDS="60", HUB_SECRET=SECRET, HUB_AGENTS=DEMO_AGENTS)


async def outgoing(redis_url, cid):
    redis = aioredis.from_url(redis_url, decode_responses=True)
    try:
        return [
            e["text"]
            for _, e in await redis.xrange(keys.transcript(cid))
            if e["from"] in ("bot", "agent") and e["text"]
        ]
    finally:
        await redis.close(close_connection_pool=True)


async def conversation_id(page):
    session = await page.evaluate("JSON.parse(localStorage.getItem('chat_session')).session_id")
    return session.rpartition(".")[0]


async def shown(page):
    return [t.strip() for t in await page.locator(BOT).all_inner_texts()]


def assert_each_once(expected, seen):
    """Every transcript message is shown exactly once (the widget renders markdown, so
    compare on the start of each text)."""
    for text in expected:
        start = text.replace("*", "").replace("_", "")[:30]
        assert sum(s.replace("*", "").replace("_", "").startswith(start) for s in seen) == 1, (text, seen)


async def open_chat(page):
    """Open the widget once it is connected (it may come back open after a reload)."""
    await expect(page.locator(".rw-launcher")).to_be_visible()  # shown once connected
    if await page.locator(".rw-conversation-container").count() == 0:
        await page.locator(".rw-launcher").click()
    await expect(page.locator(".rw-new-message")).to_be_visible()


async def open_shop(context, url, path="/"):
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT)
    await page.goto(url + path)
    await open_chat(page)
    return page


async def test_a_reload_in_the_middle_of_a_turn_shows_every_message_of_the_turn(browser_hub, redis_url):
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = await browser.new_context()
            shop = await open_shop(context, browser_hub)
            bot = shop.locator(BOT)
            await expect(bot.first).to_be_visible()  # the greeting
            before = await bot.count()
            await shop.locator(".rw-new-message").fill("the glass set arrived smashed, order 2207718")
            await shop.locator(".rw-new-message").press("Enter")
            await expect(bot).to_have_count(before + 1)  # the first message of the turn
            cid = await conversation_id(shop)
            everything = await outgoing(redis_url, cid)
            assert len(everything) > before + 1  # the turn has more to show: this is mid-turn
            await shop.reload()
            await open_chat(shop)
            await expect(bot).to_have_count(len(everything))
            assert_each_once(everything, await shown(shop))
        finally:
            await browser.close()


async def test_a_page_closed_while_the_agent_replies_shows_the_reply_when_reopened(browser_hub, redis_url):
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = await browser.new_context()
            shop = await open_shop(context, browser_hub)
            bot = shop.locator(BOT)
            box = shop.locator(".rw-new-message")
            await box.fill("the espresso machine from order 3391042 won't turn on anymore")
            await box.press("Enter")
            await shop.locator(".rw-reply", has_text="Talk to a person").last.click()
            await expect(bot.filter(has_text="passing your conversation to a colleague")).to_be_visible()
            cid = await conversation_id(shop)
            everything = await outgoing(redis_url, cid)
            await expect(bot).to_have_count(len(everything))  # all shown before leaving
            await shop.close()

            # The agent claims and replies while the customer is away.
            async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as agent:
                response = await agent.post(
                    browser_hub + "/api/agent/login", json={"name": DEMO_LOGIN[0], "password": DEMO_LOGIN[1]}
                )
                assert response.status == 200
                assert (await agent.post(f"{browser_hub}/api/agent/conversations/{cid}/claim")).status == 200
                response = await agent.post(
                    f"{browser_hub}/api/agent/conversations/{cid}/messages",
                    json={"text": "A technician will call you today."},
                )
                assert response.status == 200

            shop = await open_shop(context, browser_hub)
            bot = shop.locator(BOT)
            await expect(bot.filter(has_text="A technician will call you today.")).to_have_count(1)
            everything = await outgoing(redis_url, cid)
            await expect(bot).to_have_count(len(everything))
            assert_each_once(everything, await shown(shop))

            # The link from a follow-up email reopens the same conversation on another
            # device (a fresh browser context), with everything the team said.
            elsewhere = await open_shop(
                await browser.new_context(), browser_hub, "/?resume=" + resume_token(cid, SECRET)
            )
            await expect(
                elsewhere.locator(BOT).filter(has_text="A technician will call you today.")
            ).to_have_count(1)
            assert await conversation_id(elsewhere) == cid
            assert "resume" not in elsewhere.url
        finally:
            await browser.close()
