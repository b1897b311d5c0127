"""Console quality: every word the console pages use exists in data/hub/console.yml in
both languages (validated at start-up), the sign-in page gets its words before sign-in,
and the pages write text only through textContent."""

from pathlib import Path
import re

import pytest

from bot.console.labels import ConsoleLabels

STATIC = Path(__file__).resolve().parents[2] / "bot" / "static"
LABELS = ConsoleLabels().labels
# The console's ES modules (agent.html loads console/main.js, which imports the rest).
CONSOLE_SCRIPTS = sorted(str(path.relative_to(STATIC)) for path in (STATIC / "console").glob("*.js"))


def used(pattern, *files):
    return {key for name in files for key in re.findall(pattern, (STATIC / name).read_text(encoding="utf-8"))}


@pytest.mark.parametrize(
    "group, keys",
    [
        (
            "ui",
            used(r'data-(?:label|placeholder|aria-label)="(\w+)"', "agent.html")
            | used(r'\bui\("(\w+)"', *CONSOLE_SCRIPTS),
        ),
        ("login", used(r'data-word="(\w+)"', "login.html") | used(r'\bword\("(\w+)"', "login.js")),
    ],
)
def test_every_word_the_pages_use_is_in_both_languages(group, keys):
    assert keys, "the pattern found nothing: the test would prove nothing"
    missing = sorted(keys - set(LABELS[group]))
    assert not missing, f"{group} lacks {missing} in data/hub/console.yml"
    for key in keys:
        assert LABELS[group][key]["en"] and LABELS[group][key]["vi"]


def test_text_reaches_the_pages_only_through_text_content():
    assert "console/main.js" in CONSOLE_SCRIPTS, "the console's modules were not found"
    for name in (*CONSOLE_SCRIPTS, "login.js", "shop.js"):
        source = (STATIC / name).read_text(encoding="utf-8")
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"):
            assert sink not in source, f"{name} uses {sink}"


async def test_the_sign_in_page_gets_its_words_before_sign_in(make_hub_fake):
    hub = await make_hub_fake()
    response = await hub.get("/api/agent/login/words")
    assert response.status == 200
    words = (await response.json())["words"]
    assert words["sign_in"] == {"en": "Sign in", "vi": "Đăng nhập"}
    assert set(words) == set(LABELS["login"])  # that group only: nothing else before sign-in


async def test_the_console_modules_are_served_as_javascript(hub_fake):
    # A browser runs a module script only when it comes with a JavaScript MIME type
    # (the hub also sends nosniff); the page's <script type="module"> names main.js.
    javascript = ("text/javascript", "application/javascript")
    page = (STATIC / "agent.html").read_text(encoding="utf-8")
    assert '<script type="module" src="/static/console/main.js">' in page
    for name in CONSOLE_SCRIPTS:
        response = await hub_fake.get(f"/static/{name}")
        assert response.status == 200, name
        assert response.content_type in javascript, f"{name}: {response.content_type}"
        # Checked again at every load (304 when unchanged): after a deploy, never old and
        # new modules together from a browser's cache.
        assert response.headers.get("Cache-Control") == "no-cache", name
        modified = response.headers["Last-Modified"]
        again = await hub_fake.get(f"/static/{name}", headers={"If-Modified-Since": modified})
        assert again.status == 304, name
