"""The tasks tab in a real browser (issue 25): a guest proves their order in the widget
and takes a replacement; the bot promises it (never "Done:"); the agent's console shows
the Tasks tab with a badge, the task with its customer, order, value, case and a due
timer; the agent claims it and marks it done, and the customer reads the update in the
widget. A task falling overdue while the console is open turns red and sounds the alert,
like the first-response targets. Screenshots go to results/screenshots/."""

import re
import time
import uuid

from playwright.async_api import async_playwright, expect
from redis import asyncio as aioredis

from bot.settings import DEMO_AGENTS, DEMO_LOGIN
from contract import tasks
from tests.browser.helpers import ARGS, CHROMIUM, SHOTS, TIMEOUT, sign_in
from tests.shop import new_customer

HUB_ENV = dict(
    STILL_HERE_AFTER="600", AGENT_ONLINE_SECONDS="60", HUB_SECRET="browser-test", HUB_AGENTS=DEMO_AGENTS
)


async def soon_due_task(redis_url, seconds):
    """A task the action server has just made, due in `seconds`."""
    now = time.time()
    ref = f"SR-{uuid.uuid4().hex[:6].upper()}"
    task = tasks.Task(
        id=tasks.task_id(ref, "voucher_15"),
        remedy="voucher_15",
        case_ref=ref,
        conversation_id=f"rest-{uuid.uuid4().hex[:8]}",
        channel="rest",
        language="en",
        customer=tasks.TaskCustomer(name="Hoa", email="hoa@example.test", verified=True),
        created_at=now,
        due_at=now + seconds,
    )
    redis = aioredis.from_url(redis_url, decode_responses=True)
    try:
        assert await tasks.make(redis, task)
    finally:
        await redis.close(close_connection_pool=True)
    return task


async def test_the_tasks_tab_from_a_promise_to_the_customer_told(browser_hub, assistant):
    SHOTS.mkdir(parents=True, exist_ok=True)
    hub = browser_hub
    thu = new_customer(assistant.redis_url, orders=(("delivered", 480_000),))
    order_id = thu.order.order_id
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            shop = await (await browser.new_context(viewport={"width": 1100, "height": 800})).new_page()
            console = await (await browser.new_context(viewport={"width": 1280, "height": 800})).new_page()
            for page in (shop, console):
                page.set_default_timeout(TIMEOUT)
            await sign_in(console, hub, *DEMO_LOGIN)

            # The customer proves the order and takes the replacement: promised, not "Done:".
            await shop.goto(hub + "/")
            await shop.locator(".rw-launcher").click()
            bot = shop.locator(".rw-response")
            await expect(bot.first).to_be_visible()
            box = shop.locator(".rw-new-message")
            await box.fill(f"the glass set arrived smashed, order {order_id}")
            await box.press("Enter")
            await expect(bot.filter(has_text=f"order {order_id} once I know it's yours")).to_be_visible()
            await box.fill(f"it's {thu.customer.email}")
            await box.press("Enter")
            await expect(bot.filter(has_text=f"found order {order_id}")).to_be_visible()
            await shop.locator(".rw-reply", has_text="Send a replacement").last.click()
            promise = bot.filter(has_text="I've asked our team to send a replacement today")
            await expect(promise).to_be_visible()
            ref = re.search(r"SR-[A-Z0-9]{6}", await promise.first.inner_text()).group(0)
            await expect(bot.filter(has_text=re.compile(r"^Done:"))).to_have_count(0)

            # The console: a Tasks tab with a badge; the task with what the team needs.
            badge = console.locator("#task-badge")
            await expect(badge).to_be_visible()
            await expect(badge).to_have_text(re.compile(r"^[1-9]\d*$"))
            await console.click("#tab-tasks")
            await expect(console.locator("#panel-conversations")).to_be_hidden()
            card = console.locator("#tasks li", has_text=ref)
            await expect(card.locator(".badge.task")).to_have_text("Send a replacement")
            await expect(card).to_contain_text(f"order #{order_id}")
            await expect(card).to_contain_text("order value 480,000 VND")
            await expect(card).to_contain_text(thu.customer.email)
            await expect(card.locator(".timer")).to_have_class(re.compile(r"\bok\b"))
            await expect(card.locator(".timer")).to_contain_text(re.compile(r"due in \d+h \d+m"))
            await console.screenshot(path=str(SHOTS / "tasks-tab-1280.png"), full_page=True)

            await card.get_by_role("button", name="Claim").click()
            await expect(card).to_contain_text("claimed by agent")
            await card.locator("input").fill("sent with GHN 88120")
            await card.get_by_role("button", name="Done").click()
            done = console.locator("#tasks-closed li", has_text=ref)
            await expect(done).to_contain_text("done by agent")
            await expect(done).to_contain_text("customer told: in the chat")
            await expect(console.locator("#tasks li", has_text=ref)).to_have_count(0)

            # The customer reads the update in the widget.
            await expect(
                bot.filter(has_text=f"Update on your case {ref}: A replacement is on its way")
            ).to_be_visible()
            await shop.screenshot(path=str(SHOTS / "tasks-widget-update.png"))

            # A task falling overdue while the console is open: red, and the alert sounds.
            alerts = int(await console.locator("body").get_attribute("data-alerts") or 0)
            late = await soon_due_task(assistant.redis_url, 6)
            late_card = console.locator("#tasks li", has_text=late.case_ref)
            await expect(late_card.locator(".timer")).to_have_class(re.compile(r"\b(ok|soon)\b"))
            await expect(late_card.locator(".timer")).to_have_class(re.compile(r"\blate\b"))
            await expect(late_card.locator(".timer")).to_contain_text("overdue by")
            await expect(console.locator("body")).to_have_attribute(
                "data-alerts", re.compile(rf"^(?!{alerts}$)\d+$")
            )
            await expect(badge).to_have_class(re.compile(r"\blate\b"))
            await console.screenshot(path=str(SHOTS / "tasks-tab-overdue.png"), full_page=True)

            # In Vietnamese, the same tab in the agent's language.
            await console.select_option("#console-lang", "vi")
            await expect(console.locator("#tab-tasks")).to_contain_text("Việc cần làm")
            await expect(late_card.locator(".timer")).to_contain_text("trễ hạn")
        finally:
            await browser.close()
