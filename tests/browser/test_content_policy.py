"""The hub's Content-Security-Policy leaves the shop page's widget and the agent console
working: a real browser loads both and reports no policy violation."""

import re

from playwright.async_api import async_playwright, expect

from bot.settings import DEMO_AGENTS, DEMO_LOGIN
from tests.browser.helpers import ARGS, CHROMIUM, TIMEOUT

HUB_ENV = dict(STILL_HERE_AFTER="600", HUB_SECRET="browser-test", HUB_AGENTS=DEMO_AGENTS)


async def test_the_widget_and_the_console_run_under_the_policy_without_violations(browser_hub):
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = await (await browser.new_context()).new_page()
            page.set_default_timeout(TIMEOUT)
            blocked = []
            page.on("console", lambda m: "Content Security Policy" in m.text and blocked.append(m.text))
            response = await page.goto(browser_hub + "/")
            assert "script-src 'self'" in response.headers["content-security-policy"]
            await page.locator(".rw-launcher").click()
            await expect(page.locator(".rw-response").first).to_be_visible()  # socket.io worked
            box = page.locator(".rw-new-message")
            await box.fill("hello")
            await box.press("Enter")
            await expect(page.locator(".rw-response").nth(1)).to_be_visible()

            await page.goto(browser_hub + "/agent")
            await page.fill("input[name=name]", DEMO_LOGIN[0])
            await page.fill("input[name=password]", DEMO_LOGIN[1])
            await page.click("button[type=submit]")
            await expect(page).to_have_url(re.compile(r"/agent$"))
            # The console's module scripts ran: its socket is up (connect-src 'self').
            await expect(page.locator("#live")).to_have_class(re.compile(r"\bok\b"))
            # Only the widget's third-party font stylesheet is refused, on purpose.
            assert [m for m in blocked if "https://fonts.googleapis.com/" not in m] == []
        finally:
            await browser.close()
