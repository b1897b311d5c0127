"""End to end in a real browser: Debian's chromium, driven by Playwright.

A customer (a guest, with an order of the test's own) complains in the rasa-webchat
widget on the shop page, asks for a person,
an agent signs in to the console in a second page, sees the queue card (severity badge,
waiting timer), the context in words (and in Vietnamese) and the transcript, claims,
adds an internal note (shown as a note, never to the customer) and replies; the customer sees the reply; the agent hands back and the customer
gets the recap and the CSAT question. Screenshots of both pages are saved under
results/screenshots/ as test artefacts.
"""

import re

from playwright.async_api import async_playwright, expect

from bot.settings import DEMO_AGENTS, DEMO_LOGIN
from tests.browser.helpers import ARGS, CHROMIUM, SHOTS, TIMEOUT
from tests.shop import new_customer

HUB_ENV = dict(  # the demo agent without HUB_DEMO's demo sign-in
    STILL_HERE_AFTER="600", AGENT_ONLINE_SECONDS="60", HUB_SECRET="browser-test", HUB_AGENTS=DEMO_AGENTS
)


async def test_complaint_handoff_agent_reply_and_hand_back_in_a_browser(browser_hub, assistant):
    SHOTS.mkdir(parents=True, exist_ok=True)
    order_id = new_customer(assistant.redis_url, orders=(("delivered", 480_000),)).order.order_id
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            shop = await (await browser.new_context(viewport={"width": 1100, "height": 800})).new_page()
            console = await (await browser.new_context(viewport={"width": 1400, "height": 900})).new_page()
            shop.set_default_timeout(TIMEOUT)
            console.set_default_timeout(TIMEOUT)

            # The customer opens the chat on the shop page and complains.
            await shop.goto(browser_hub + "/")
            await shop.locator(".rw-launcher").click()
            await expect(shop.locator("#demo-sign-in")).to_be_hidden()  # HUB_DEMO is off
            bot = shop.locator(".rw-response")
            await expect(bot.first).to_be_visible()
            box = shop.locator(".rw-new-message")
            await box.fill(f"the glass set arrived smashed!!! order {order_id}")
            await box.press("Enter")
            # A guest: the bot asks for proof before using the order (found or not, the same words).
            await expect(bot.filter(has_text=f"look into order {order_id}")).to_be_visible()
            await shop.locator(".rw-reply", has_text="Talk to a person").last.click()
            await expect(bot.filter(has_text="passing your conversation to a colleague")).to_be_visible()

            # The agent signs in, finds the conversation, sees context and transcript.
            await console.goto(browser_hub + "/agent")
            await expect(console).to_have_url(re.compile(r"/agent/login$"))
            await console.fill("input[name=name]", DEMO_LOGIN[0])
            await console.fill("input[name=password]", DEMO_LOGIN[1])
            await console.click("button[type=submit]")
            await expect(console).to_have_url(re.compile(r"/agent$"))
            # A compact queue card: the severity as a badge, a waiting timer against the target.
            card = console.locator("#queue li", has_text=order_id).first
            await expect(card.locator(".sev")).to_have_text("Medium")
            await expect(card.locator(".timer")).to_contain_text(re.compile(r"waiting (\d+m )?\d+s"))
            await expect(card.locator(".timer")).to_have_class(re.compile(r"\bok\b"))
            await expect(card).to_contain_text("Damaged item · Customer asked for a person")
            await card.click()
            # The context in words, for a person; the raw packet only under "details".
            context = console.locator("#context")
            await expect(context).to_contain_text(order_id)
            await expect(context).to_contain_text("Customer asked for a person")
            await expect(context.locator(".sev-reasons")).to_have_text("angry tone")  # not "(base 2)"
            await expect(context).to_contain_text("The customer got in touch about: damaged item.")
            await expect(context).to_contain_text(
                f"They gave order number {order_id}, not verified as theirs."
            )
            await expect(context).to_contain_text("guest (not verified)")
            await expect(context.locator(".trust-claimed", has_text="claimed")).to_have_count(1)
            assert "customer_asked" not in await context.text_content()
            await expect(console.locator("#raw-packet")).to_contain_text('"reason": "customer_asked"')
            await expect(console.locator("#conv-title")).to_contain_text("Chat widget guest")
            # The console's language is the agent's setting.
            await console.select_option("#console-lang", "vi")
            await expect(context).to_contain_text("Khách yêu cầu gặp nhân viên")
            await expect(card.locator(".sev")).to_have_text("Trung bình")
            await console.select_option("#console-lang", "en")
            await expect(context).to_contain_text("Customer asked for a person")
            await expect(console.locator("#transcript")).to_contain_text(
                f"the glass set arrived smashed!!! order {order_id}"
            )
            await console.click("#claim")
            await expect(console.locator("#conv-meta")).to_contain_text("agent")

            # An internal note shows in the transcript, styled as a note with its author.
            await console.fill("#note-text", "Checked with the courier: the box was crushed.")
            await console.click("#add-note button[type=submit]")
            note = console.locator("#transcript li.from-note")
            await expect(note).to_have_count(1)
            await expect(note).to_contain_text("Checked with the courier: the box was crushed.")
            await expect(note).to_contain_text(f"internal note by {DEMO_LOGIN[0]}")
            await expect(console.locator("#note-text")).to_have_value("")

            # What a customer writes is shown as text in the console, never as HTML.
            hostile = '<img src=x onerror="window.pwned=1"> is it on its way?'
            await box.fill(hostile)
            await box.press("Enter")
            await expect(console.locator("#transcript")).to_contain_text(hostile)
            # A customer of mine wrote: the console alerted (sound, title, notification).
            await expect(console.locator("body")).to_have_attribute("data-alerts", re.compile(r"^[1-9]"))
            assert await console.locator("#transcript img").count() == 0
            assert await console.evaluate("typeof window.pwned") == "undefined"

            # The agent replies; the customer sees it live.
            await console.fill("#reply-text", "So sorry about that! A new set goes out today by express.")
            await console.click("#reply button[type=submit]")
            await expect(bot.filter(has_text="A new set goes out today by express.")).to_be_visible()
            await expect(bot.filter(has_text="has joined")).to_be_visible()

            # Hand back: the bot recaps, thanks and asks the CSAT question.
            await console.fill("#note", "a new glass set goes out today by express")
            await console.click("#handback")
            await expect(
                bot.filter(has_text="To recap: a new glass set goes out today by express")
            ).to_be_visible()
            await expect(bot.filter(has_text="how happy are you")).to_be_visible()
            await expect(shop.locator(".rw-reply", has_text="5").last).to_be_visible()
            # The note never reached the customer.
            assert "crushed" not in await shop.locator(".rw-messages-container").inner_text()
        finally:
            for name, page in (
                ("shop-widget", locals().get("shop")),
                ("agent-console", locals().get("console")),
            ):
                if page is not None:
                    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
            await browser.close()
