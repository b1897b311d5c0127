"""The agent workspace end to end in a real browser (issue 11): a customer complains in
Vietnamese in the widget; the console of the first agent, already open, sounds the
alert; the agent reads the context in words, claims, answers with a canned reply picked
with "/" (in the customer's language, the order number filled in), adds a note and
transfers the conversation to a second agent, whose console is alerted; the second agent
hands it back, the bot asks the CSAT question and the customer rates it; the reports page
then counts that conversation. Screenshots (console at 1280x800 and at phone width, the
widget, the reports page) go to results/screenshots/."""

import re

from playwright.async_api import async_playwright, expect
from redis import asyncio as aioredis
import yaml

from bot.console.passwords import hash_password
from bot.settings import DEMO_AGENTS, DEMO_LOGIN
from contract import keys
from tests.browser.helpers import ARGS, CHROMIUM, ROOT, SHOTS, TIMEOUT, sign_in
from tests.shop import new_customer

SECOND = ("lan", "second-agent-pass")
DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
HUB_ENV = dict(
    STILL_HERE_AFTER="600",
    AGENT_ONLINE_SECONDS="60",
    HUB_SECRET="browser-test",
    HUB_AGENTS=f"{DEMO_AGENTS},{SECOND[0]}:{hash_password(SECOND[1])}",
)


def vietnamese(response):
    """The Vietnamese text of a response in domain.yml."""
    return next(
        v["text"]
        for v in DOMAIN["responses"][response]
        if any(c.get("value") == "vi" for c in v.get("condition", []))
    )


async def figures(page, hub):
    response = await page.request.get(hub + "/api/agent/reports?days=1")
    assert response.ok
    return await response.json()


def tile(page, label):
    return page.locator(
        ".tile", has=page.locator("span", has_text=re.compile(f"^{re.escape(label)}$"))
    ).locator("strong")


async def test_vietnamese_complaint_canned_reply_note_transfer_rating_and_report(browser_hub, assistant):
    SHOTS.mkdir(parents=True, exist_ok=True)
    hub = browser_hub
    order_id = new_customer(assistant.redis_url, orders=(("delivered", 480_000),)).order.order_id
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        pages = {}
        try:
            shop = pages["workspace-widget"] = await (
                await browser.new_context(viewport={"width": 1100, "height": 800})
            ).new_page()
            first = pages["workspace-console-1280"] = await (
                await browser.new_context(viewport={"width": 1280, "height": 800})
            ).new_page()
            second = pages["workspace-console-second-agent"] = await (
                await browser.new_context(viewport={"width": 1280, "height": 800})
            ).new_page()
            for page in pages.values():
                page.set_default_timeout(TIMEOUT)

            # Both agents are in their consoles before the customer writes.
            await sign_in(first, hub, *DEMO_LOGIN)
            await sign_in(second, hub, *SECOND)
            before = await figures(first, hub)
            alerts_before = int(await first.locator("body").get_attribute("data-alerts") or 0)

            # The customer complains in Vietnamese (typed without diacritics) and asks for a person.
            await shop.goto(hub + "/")
            await shop.locator(".rw-launcher").click()
            bot = shop.locator(".rw-response")
            await expect(bot.first).to_be_visible()
            box = shop.locator(".rw-new-message")
            await box.fill(f"shop oi binh hoa giao toi bi vo het roi, don {order_id}")
            await box.press("Enter")
            await expect(bot.filter(has_text=order_id).first).to_be_visible()
            await box.fill("cho minh gap nhan vien")
            await box.press("Enter")

            # The first agent hears the alert: a new conversation is waiting.
            card = first.locator("#queue li", has_text=order_id).first
            await expect(card).to_be_visible()
            await expect(first.locator("body")).to_have_attribute(
                "data-alerts", re.compile(rf"^(?!{alerts_before}$)\d+$")
            )
            await expect(card.locator(".lang")).to_have_text("Vietnamese")
            await card.click()
            context = first.locator("#context")
            await expect(context).to_contain_text("Damaged item")
            await expect(context).to_contain_text("Customer asked for a person")
            await expect(context).to_contain_text(
                f"They gave order number {order_id}, not verified as theirs."
            )
            await first.click("#claim")
            await expect(first.locator("#conv-meta")).to_contain_text("with agent")

            # A canned reply: "/" opens the list, a few letters filter it, Enter inserts it
            # in the customer's language with the order number filled in; Enter sends.
            reply = first.locator("#reply-text")
            await reply.click()
            await reply.type("/photo")
            options = first.locator("#canned li[role=option]")
            await expect(options).to_have_count(1)
            await expect(options.first).to_contain_text("Ask for a photo")
            await reply.press("Enter")
            await expect(first.locator("#canned")).to_be_hidden()
            await expect(reply).to_have_value(re.compile(rf"^Anh/chị gửi giúp em ảnh.*{order_id}"))
            await reply.press("Shift+Enter")  # a new line, not a send
            await expect(reply).to_have_value(re.compile(r"\n$"))
            await reply.press("Enter")
            await expect(bot.filter(has_text="Anh/chị gửi giúp em ảnh")).to_be_visible()
            await expect(reply).to_have_value("")

            # An internal note, never shown to the customer.
            await first.fill("#note-text", "Khách gửi ảnh sau; kiểm tra với bên giao hàng.")
            await first.click("#add-note button[type=submit]")
            await expect(first.locator("#transcript li.from-note")).to_have_count(1)
            await first.screenshot(path=str(SHOTS / "workspace-console-1280.png"), full_page=False)

            # Transfer to the second agent, who is online and is alerted.
            second_alerts = int(await second.locator("body").get_attribute("data-alerts") or 0)
            await expect(first.locator("#transfer-to")).to_have_value(SECOND[0])
            await first.click("#transfer")
            await expect(first.locator("#conv-meta")).to_contain_text(f"with {SECOND[0]}")
            await expect(second.locator("body")).to_have_attribute(
                "data-alerts", re.compile(rf"^(?!{second_alerts}$)\d+$")
            )
            mine = second.locator("#mine li", has_text=order_id).first
            await expect(mine).to_be_visible()
            await expect(bot.filter(has_text="Một đồng nghiệp trong đội hỗ trợ sẽ tiếp tục")).to_be_visible()

            # The second agent hands it back; the bot asks for a rating; the customer gives 5.
            await mine.click()
            await second.fill("#note", "khách sẽ gửi ảnh, đổi bình mới")
            await second.click("#handback")
            await expect(bot.filter(has_text=vietnamese("utter_ask_csat")[:20])).to_be_visible()
            await shop.locator(".rw-reply", has_text="5").last.click()
            await expect(bot.filter(has_text=vietnamese("utter_csat_thanks"))).to_be_visible()
            assert (
                "kiểm tra với bên giao hàng" not in await shop.locator(".rw-messages-container").inner_text()
            )

            # The reports page counts it: one more conversation, one more handoff, one
            # more rating (a 5), one more first reply.
            after = await figures(first, hub)
            assert after["conversations"] == before["conversations"] + 1
            assert after["handoffs"]["total"] == before["handoffs"]["total"] + 1
            assert after["csat"]["distribution"]["5"] == before["csat"]["distribution"]["5"] + 1
            assert after["first_response_sla"]["replies"] == before["first_response_sla"]["replies"] + 1
            report = pages["workspace-reports"] = await (
                await browser.new_context(
                    viewport={"width": 1280, "height": 800}, storage_state=await first.context.storage_state()
                )
            ).new_page()
            await report.goto(hub + "/agent/reports?days=1")
            await expect(tile(report, "Conversations")).to_have_text(str(after["conversations"]))
            await expect(report.locator("svg.chart").first).to_be_visible()

            # The console at phone width: one column, still usable.
            phone = pages["workspace-console-phone"] = await (
                await browser.new_context(
                    viewport={"width": 390, "height": 844}, storage_state=await first.context.storage_state()
                )
            ).new_page()
            await phone.goto(hub + "/agent")
            await expect(phone.locator("#queue-section")).to_be_visible()
            width = await phone.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"the console scrolls sideways at phone width ({width}px)"
            # Esc closes the open conversation.
            await first.keyboard.press("Escape")
            await expect(first.locator("#detail")).to_be_hidden()
        finally:
            for name, page in pages.items():
                if name != "workspace-console-1280":
                    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
            await browser.close()
            redis = aioredis.from_url(assistant.redis_url, decode_responses=True)
            await redis.zrem(keys.AGENTS_ONLINE, SECOND[0])
            await redis.close(close_connection_pool=True)
