"""contract/help.py: help pages split into sections by heading, plain text as a customer is
sent it, and lexical matching that folds Vietnamese diacritics; and the shop's own pages
(data/shop/help) are all readable, in both languages, topic for topic."""

from pathlib import Path

import pytest

from contract import help as pages_of
from contract.help import HELP_DIR, HelpPageError, Lexical, load_pages, load_words, parse_page, search, stem

ROOT = Path(__file__).resolve().parent.parent
TEST_PAGES = ROOT / "tests" / "data" / "help"

PAGE = """\
# Delivery

Intro before any section.

## Where we deliver
We deliver **everywhere** in Vietnam, see [our map](https://shop.example/map).

- Hanoi
* Da Nang

### A detail
Still part of "Where we deliver".

## Empty section

## Fees
Free over 500,000 VND.
"""


def test_a_page_is_its_title_and_a_section_per_heading():
    sections = parse_page(PAGE, "en", "delivery")
    assert [s.heading for s in sections] == ["Delivery", "Where we deliver", "Fees"]  # empty skipped
    intro, where, fees = sections
    assert {s.title for s in sections} == {"Delivery"} and intro.text == "Intro before any section."
    assert where.text.splitlines() == [
        "We deliver everywhere in Vietnam, see our map (https://shop.example/map).",
        "",
        "- Hanoi",
        "- Da Nang",
        "",
        "### A detail",
        'Still part of "Where we deliver".',
    ]
    assert (
        where.anchor == "delivery#where-we-deliver"
        and where.line == 5
        and fees.text == "Free over 500,000 VND."
    )


ASKED_PAGE = """\
# Refunds

## How long does a refund take?
<!-- asked:
- when do I get my money back
- how many days until the money is back on my card
-->
3-5 working days. <!-- check with the bank in May -->

## How will I be refunded?
The way you paid.

## Is the delivery fee refunded?
Yes, when it was our mistake.
"""


def test_the_owners_comments_are_never_sent_and_asked_lines_are_kept_apart():
    timing, way, fee = parse_page(ASKED_PAGE, "en", "refunds")
    assert timing.text == "3-5 working days." and way.text == "The way you paid."
    assert timing.asked == ("when do I get my money back", "how many days until the money is back on my card")
    assert way.asked == ()
    # Matched like the heading: "money back" is only in the asked lines.
    assert Lexical([timing, way, fee]).best("money back?")[0][0] is timing


def test_a_page_without_a_title_is_refused_naming_the_file():
    with pytest.raises(HelpPageError, match="x.md, line 1"):
        parse_page("## Fees\nFree.\n", "en", "x", "x.md")


def test_anchors_fold_vietnamese_headings():
    [section] = parse_page("# Giao hàng\n## Phí giao hàng bao nhiêu?\nMiễn phí.\n", "vi", "giao-hang")
    assert section.anchor == "giao-hang#phi-giao-hang-bao-nhieu"


def test_english_endings_are_stemmed_and_vietnamese_left_alone():
    assert [
        stem(w) for w in ("tracking", "tracked", "tracks", "dropped", "deliveries", "kettles", "boxes")
    ] == ["track", "track", "track", "drop", "delivery", "kettle", "box"]
    assert [stem(w) for w in ("address", "status", "giao", "huong", "using")] == [
        "address",
        "status",
        "giao",
        "huong",
        "using",
    ]


def test_lexical_matching_folds_diacritics_and_ignores_question_words():
    pages = load_pages(TEST_PAGES)
    lexical = Lexical(pages["vi"])
    for asked in ("giao hàng mất bao lâu", "giao hang mat bao lau", "GIAO HANG MAT BAO LAU???"):
        assert lexical.best(asked)[0][0].anchor == "giao-hang#giao-hang-mat-bao-lau"
    # Only question words in common with every heading: nothing matches on them alone.
    assert Lexical(pages["en"]).best("what is it, how do you do that?") == []


def test_groups_of_words_bring_in_what_the_page_calls_it():
    pages = load_pages(TEST_PAGES)
    plain = Lexical(pages["en"])
    grouped = Lexical(pages["en"], [["abroad", "singapore"]])
    assert not plain.best("can you send it to singapore")
    assert grouped.best("can you send it to singapore")[0][0].anchor == "delivery#do-you-deliver-to-my-city"


def test_search_in_one_language_or_all():
    pages = load_pages(TEST_PAGES)
    only_vi = search(pages, "Đà Nẵng", "vi")
    assert only_vi and {s.language for s, _ in only_vi} == {"vi"}
    both = {s.language for s, _ in search(pages, "Da Nang", None, limit=10)}
    assert both == {"en", "vi"}


def test_the_shops_pages_are_readable_topic_for_topic_in_both_languages():
    found = load_pages(HELP_DIR)
    assert len(found["en"]) >= 20 and len(found["vi"]) >= 20
    pages = {lang: sorted({s.page for s in sections}) for lang, sections in found.items()}
    assert len(pages["en"]) == len(pages["vi"]) == 7
    # The same sections in both (a page each topic, its sections in the same order).
    assert len(found["en"]) == len(found["vi"])
    assert all(s.text and s.heading for sections in found.values() for s in sections)
    anchors = [s.anchor for sections in found.values() for s in sections]
    assert len(anchors) == len(set(anchors))


def test_the_shops_pages_agree_with_the_hub_and_the_playbook():
    """The pages quote what the rest of the shop does: the team's hours (SUPPORT_HOURS'
    default) and the playbook's refund and call-back times."""
    from bot.settings import Settings

    text = {lang: " ".join(s.text for s in sections) for lang, sections in load_pages(HELP_DIR).items()}
    start, end = Settings.__fields__["support_hours"].default.split("-")
    for lang in ("en", "vi"):
        assert f"{start} " in text[lang] and f" {end}" in text[lang]
        assert "3-5" in text[lang]  # the playbook's refund: 3-5 working days
    assert "within 2 hours" in text["en"] and "trong vòng 2 giờ" in text["vi"]  # priority_callback


def test_the_words_file_groups_words_per_language():
    groups = load_words(HELP_DIR)
    assert set(groups) == {"en", "vi"} and all(len(g) >= 2 for lang in groups for g in groups[lang])
    # A folder without its own words file uses the shop's.
    assert load_words(TEST_PAGES) == groups
    assert pages_of.WORDS_FILE == "words.yml"
