"""What the browser modules share: Debian's chromium and how it is started, the
timeouts, where screenshots go, and an agent signing in to the console. Each module's
hub comes from the `browser_hub` fixture (conftest.py)."""

from pathlib import Path
import re
import shutil

from playwright.async_api import expect

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "results" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
TIMEOUT = 60_000
expect.set_options(timeout=TIMEOUT)  # the widget reveals bot messages one by one


async def sign_in(page, hub, name, password):
    """An agent signs in to the console and its live socket is up."""
    await page.goto(hub + "/agent")
    await page.fill("input[name=name]", name)
    await page.fill("input[name=password]", password)
    await page.click("button[type=submit]")
    await expect(page).to_have_url(re.compile(r"/agent$"))
    await expect(page.locator("#live")).to_have_class(re.compile(r"\bok\b"))  # its socket is up
