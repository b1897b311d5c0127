"""contract/words.py: every owner-edited word file is read one way, and refused with its
file, line and entry; "this language, else English" is said once."""

from typing import Dict, List

from pydantic import BaseModel
import pytest

from bot.core.texts import Texts
from contract import words


class Sample(BaseModel):
    greetings: Dict[str, words.Texts]
    buttons: List[words.Texts]


class OnlyName(words.Texts):
    _only = words.only_placeholders("name")


GOOD = """\
greetings:
  hello: {en: "Hello {name}", vi: "Chào {name}"}
buttons:
  - {en: "Yes", vi: "Có"}
"""


def test_pick_is_this_language_else_english():
    entry = {"en": "Hello", "vi": "Chào"}
    assert words.pick(entry, "vi") == "Chào"
    assert words.pick(entry, None) == "Hello" and words.pick(entry, "fr") == "Hello"


def test_placeholders_are_read_and_broken_braces_refused():
    assert words.placeholders("Hi {name}, case {case}; {{literal}}") == ["name", "case"]
    for broken in ("Hi {name", "Hi {name!r}", "Hi {0}", "Hi {}"):
        with pytest.raises(ValueError):
            words.placeholders(broken)


@pytest.mark.parametrize(
    "change, where",
    [
        (('vi: "Chào {name}"', 'vn: "Chào {name}"'), r"line 2 \(greetings\.hello\.vi\): is missing"),
        (('vi: "Chào {name}"', 'vi: "  "'), r"line 2 \(greetings\.hello\.vi\): must be a non-empty text"),
        (
            ('{en: "Yes", vi: "Có"}', '{en: "Yes", vi: "Có", fr: "Oui"}'),
            r"line 4 \(buttons\.\[0\]\.fr\): unknown key",
        ),
        (('{en: "Yes", vi: "Có"}', '{en: 7, vi: "Có"}'), r"line 4 \(buttons\.\[0\]\.en\): str type expected"),
        (("buttons:", "knobs:"), r"line 3 \(knobs\): unknown key|\(buttons\): is missing"),
    ],
)
def test_a_bad_file_names_the_file_the_line_and_the_entry(change, where):
    assert words.parse(GOOD, "sample.yml", Sample)
    with pytest.raises(words.WordFileError, match=rf"sample\.yml, {where}"):
        words.parse(GOOD.replace(*change), "sample.yml", Sample)


def test_every_problem_is_reported_at_once_and_checks_add_their_own():
    bad = GOOD.replace('vi: "Chào {name}"', 'vi: ""').replace('vi: "Có"', "")

    def no_hello(book: Sample):
        return [(("greetings", "hello"), "not allowed")] if "hello" in book.greetings else []

    with pytest.raises(words.WordFileError) as refused:
        words.parse(bad, "sample.yml", Sample, no_hello)
    assert str(refused.value).count("\n") == 1  # two problems, one line each
    good_but_checked = pytest.raises(words.WordFileError, match=r"line 2 \(greetings\.hello\): not allowed")
    with good_but_checked:
        words.parse(GOOD, "sample.yml", Sample, no_hello)


def test_a_texts_subclass_may_allow_only_some_placeholders():
    assert OnlyName(en="Hi {name}", vi="Chào {name}")
    with pytest.raises(ValueError, match=r"unknown placeholder \{case\}; use only \{name\}"):
        OnlyName(en="Hi {case}", vi="Chào")


def test_not_yaml_or_not_a_mapping_is_refused_plainly():
    with pytest.raises(words.WordFileError, match=r"sample\.yml: not valid YAML"):
        words.parse("greetings: [", "sample.yml", Sample)
    with pytest.raises(words.WordFileError, match=r"sample\.yml, line 1 \(top level\): expected a mapping"):
        words.parse("- a list", "sample.yml", Sample)


def test_the_hubs_messages_are_refused_naming_the_line(tmp_path):
    from bot.core.texts import MESSAGES_FILE

    broken = tmp_path / "messages.yml"
    broken.write_text(
        MESSAGES_FILE.read_text(encoding="utf-8").replace(
            '- {payload: /followup_email, en: "Email me", vi: "Gửi email cho tôi"}',
            '- {payload: /followup_email, en: "Email me"}',
        ),
        encoding="utf-8",
    )
    with pytest.raises(
        words.WordFileError,
        match=r"messages\.yml, line \d+ \(hub_buttons\.followup_buttons\.\[1\]\.vi\): is missing",
    ):
        Texts(broken)
    texts = Texts()
    assert texts.buttons("followup_buttons", "vi")[0] == {
        "title": "Gọi lại cho tôi",
        "payload": "/followup_call",
    }
    assert texts.text("one_moment", "fr") == texts.text("one_moment", "en")
