"""The shop's help pages beside the reply box, in a real browser (issue 26: "the agent
console can search the same pages, to answer a customer with a link"): two customers ask
for a person over the hub's REST channel, one in Vietnamese and one in English; the agent
searches the help pages in each conversation's language (by keyboard in one), inserts a
section, which lands in the reply box with its absolute link and is sent only when the
agent sends it; a search with no match says so, and the hub's refusal shows as an error.
An unsent reply stays with its conversation when the agent opens another.
A screenshot goes to results/screenshots/."""

import re
import uuid

from playwright.async_api import async_playwright, expect
import requests

from bot.settings import DEMO_AGENTS, DEMO_LOGIN
from bot.web.help_pages import link
from contract.help import help_dir, load_pages
from tests.browser.helpers import ARGS, CHROMIUM, SHOTS, TIMEOUT, sign_in

HUB_ENV = dict(
    STILL_HERE_AFTER="600", AGENT_ONLINE_SECONDS="60", HUB_SECRET="browser-test", HUB_AGENTS=DEMO_AGENTS
)
# The pages the hub reads (the tests' own, tests/data/help: HELP_PAGES_DIR), by their link.
SECTIONS = {link(s): s for sections in load_pages(help_dir()).values() for s in sections}


def queued(hub, message):
    """A customer over REST who asks for a person: their conversation's id."""
    sender = f"help-{uuid.uuid4().hex[:8]}"
    response = requests.post(
        f"{hub}/webhooks/rest/webhook", json={"sender": sender, "message": message}, timeout=60
    )
    response.raise_for_status()
    return f"rest-{sender}"


async def test_an_agent_answers_from_the_help_pages_with_a_link(browser_hub):
    SHOTS.mkdir(parents=True, exist_ok=True)
    hub = browser_hub
    vietnamese = queued(hub, "hoàn tiền chậm quá, cho mình gặp nhân viên")
    english = queued(hub, "my refund is late, I want to talk to someone")
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            console = await (await browser.new_context(viewport={"width": 1280, "height": 800})).new_page()
            console.set_default_timeout(TIMEOUT)
            await sign_in(console, hub, *DEMO_LOGIN)
            query, lang, results = (
                console.locator("#help-q"),
                console.locator("#help-lang"),
                console.locator("#help-results li"),
            )
            reply = console.locator("#reply-text")
            sent = console.locator("#transcript li.from-agent")

            # The Vietnamese conversation: its help pages are the Vietnamese ones. Before
            # the agent claims it, a section can be read but not inserted.
            await console.locator(f'#queue [data-id="{vietnamese}"]').click()
            await expect(lang).to_have_value("vi")
            await query.fill("hoàn tiền bao lâu")
            await query.press("Enter")
            await expect(results.first).to_contain_text("Đổi trả ·")  # the page's title
            await expect(results.first.get_by_role("button")).to_be_disabled()
            await console.click("#claim")
            await expect(console.locator("#conv-meta")).to_contain_text(f"with {DEMO_LOGIN[0]}")
            await expect(results.first.get_by_role("button")).to_be_enabled()

            # What the agent has typed stays; the section follows after a blank line. By
            # keyboard: from the search box, Tab past the language and Search to Insert.
            await reply.fill("Dạ, anh/chị xem giúp em:")
            best = SECTIONS[await results.first.get_attribute("data-link")]
            assert best.language == "vi" and best.title == "Đổi trả"
            await expect(results.first).to_contain_text(best.heading)
            await expect(results.first.locator(".help-text")).to_have_text(best.text)
            await query.focus()
            for _ in range(3):
                await console.keyboard.press("Tab")
            await expect(results.first.get_by_role("button", name="Insert")).to_be_focused()
            await console.keyboard.press("Enter")
            await expect(reply).to_be_focused()
            url = f"{hub}{link(best)}"
            assert re.fullmatch(r"http://[^/]+/help/vi/doi-tra#[a-z0-9-]+", url)
            await expect(reply).to_have_value(f"Dạ, anh/chị xem giúp em:\n\n{best.text}\n{url}")
            await expect(sent).to_have_count(0)  # in the box, not sent until the agent sends it
            await reply.press("Enter")
            await expect(sent).to_have_count(1)
            await expect(sent).to_contain_text(url)

            # Nothing found is said so; Esc in the search box closes the results only.
            await query.fill("xylophone")
            await query.press("Enter")
            await expect(results).to_have_count(1)
            await expect(results.first).to_have_text("Nothing on the help pages for “xylophone”")
            await query.press("Escape")
            await expect(console.locator("#help-results")).to_be_hidden()
            await expect(console.locator("#detail")).to_be_visible()

            # The English conversation starts afresh in English; a section inserted into
            # the empty reply box is its text and link alone.
            await console.locator(f'#queue [data-id="{english}"]').click()
            await expect(lang).to_have_value("en")
            await expect(query).to_have_value("")
            await expect(console.locator("#help-results")).to_be_hidden()
            await console.click("#claim")
            await expect(console.locator("#conv-meta")).to_contain_text(f"with {DEMO_LOGIN[0]}")
            await query.fill("refund")
            await query.press("Enter")
            found = results.filter(has_text="How long does a refund take?")
            await expect(found).to_have_count(1)
            await expect(found).to_contain_text("Returns · How long does a refund take?")
            section = SECTIONS[await found.get_attribute("data-link")]
            await found.scroll_into_view_if_needed()
            await console.screenshot(path=str(SHOTS / "console-help-search.png"))
            await found.get_by_role("button", name="Insert").click()
            await expect(reply).to_have_value(
                f"{section.text}\n{hub}/help/en/returns#how-long-does-a-refund-take"
            )
            await expect(reply).to_be_focused()
            await expect(sent).to_have_count(0)

            # Each conversation keeps its own unsent reply: opening another one never
            # carries it there (Enter would send it to the wrong customer).
            draft = await reply.input_value()
            await console.locator(f'#mine [data-id="{vietnamese}"]').click()
            await expect(lang).to_have_value("vi")
            await expect(reply).to_have_value("")
            await console.locator(f'#mine [data-id="{english}"]').click()
            await expect(lang).to_have_value("en")
            await expect(reply).to_have_value(draft)

            # The other language on request; the hub's refusal is shown as the console's error.
            await lang.select_option("vi")
            await query.fill("refund")
            await query.press("Enter")
            await expect(results.first).to_have_text("Nothing on the help pages for “refund”")
            await console.evaluate(
                "() => { const s = document.getElementById('help-lang'); s.append(new Option('fr', 'fr')); s.value = 'fr'; }"
            )
            await query.press("Enter")
            await expect(console.locator("#help-error")).to_have_text("'lang' must be one of en, vi")
            await expect(console.locator("#help-results")).to_be_hidden()
        finally:
            await browser.close()
