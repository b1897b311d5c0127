"""The one language decision, per message, for the hub and the assistant alike.

Both sides call `decide(text, current)`: the hub (bot/core/turn.py) for the conversation it
keeps, and the NLU pipeline (nlu/components.py LanguageDetector, then the `language`
slot) for the assistant. Same function, same word lists, same answer.

Vietnamese is often typed without diacritics ("hang giao tre qua"), so marks alone are
not enough: unmarked words are compared against spaCy's English and Vietnamese stop-word
lists (Vietnamese folded to plain ASCII) plus the chat and shop words customers use. A
message with no evidence either way (an email, a number, "ok") keeps the language the
conversation had: detection is sticky.

Which decision wins: the hub's. It sees every message of the conversation (also the ones
written while queued or with an agent, which never reach the assistant), and it decides
with this same function, so the assistant's `language` in the handoff packet can only
echo it; the packet never changes the conversation's language.
"""

from functools import lru_cache
import importlib.util
from pathlib import Path
import re
from typing import FrozenSet, Optional, Tuple

from contract.text import fold, has_vietnamese_marks, words

LANGUAGES = ("en", "vi")
DEFAULT = "en"

_NOT_LANGUAGE = re.compile(r"\S+@\S+|https?://\S+|[#+]?\d[\d .-]*")
# Folded two-word phrases that are Vietnamese although each word alone is ambiguous.
_VI_PHRASES = ("cam on", "xin loi", "ok shop", "oi shop", "shop oi", "ad oi")

# Chat and shop words that spaCy's lists do not hold.
_VI_EXTRA = {
    "ko",
    "k",
    "hok",
    "khong",
    "dc",
    "duoc",
    "sp",
    "shop",
    "oi",
    "ad",
    "j",
    "r",
    "roi",
    "ntn",
    "bn",
    "dt",
    "tk",
    "nv",
    "mk",
    "minh",
    "e",
    "vs",
    "hang",
    "don",
    "giao",
    "tre",
    "tra",
    "tien",
    "hoan",
    "doi",
    "nhan",
    "chua",
    "sao",
    "gi",
    "vay",
    "the",
    "nha",
    "nhe",
    "a",
    "ak",
    "ah",
    "uk",
    "um",
    "cam",
    "on",
    "xin",
    "loi",
    "toi",
    "ban",
    "em",
    "anh",
    "chi",
    "bi",
    "vo",
    "hong",
    "hu",
    "nhu",
    "lam",
    "qua",
    "luon",
    "mua",
    "gui",
    "giup",
    "voi",
    "cho",
    "lai",
    "ma",
    "van",
    "nua",
    "day",
    "kia",
    "nay",
    "do",
    "chao",
    "tam",
    "biet",
    "dang",
    "nhap",
    "sai",
    "thieu",
    "phi",
    "nguoi",
    "gap",
    "muon",
    "huy",
    "hoi",
}
_EN_EXTRA = {
    "order",
    "parcel",
    "package",
    "refund",
    "item",
    "charged",
    "arrived",
    "late",
    "broken",
    "wrong",
    "money",
    "please",
    "hi",
    "hello",
    "thanks",
    "yes",
    "no",
    "delivery",
    "still",
    "never",
    "got",
    "want",
    "person",
    "agent",
    "human",
}
# Places in Vietnam, folded: a name says nothing about the language of the sentence it
# is in ("do you ship to Da Nang?", "is the Hà Nội showroom open?"), so it is set aside
# before the language is decided, marks and all.
_PLACES = (
    "viet nam",
    "vietnam",
    "ha noi",
    "hanoi",
    "ho chi minh",
    "tp hcm",
    "tphcm",
    "hcmc",
    "sai gon",
    "saigon",
    "da nang",
    "danang",
    "hai phong",
    "haiphong",
    "can tho",
    "hue",
    "nha trang",
    "da lat",
    "dalat",
    "vung tau",
    "phu quoc",
    "con dao",
    "ha long",
    "halong",
    "quang ninh",
    "bac ninh",
    "binh duong",
    "dong nai",
    "thu duc",
    "tan binh",
    "hoan kiem",
    "ba dinh",
    "cau giay",
    "quy nhon",
    "buon ma thuot",
    "thanh hoa",
    "nghe an",
    "ha tinh",
    "khanh hoa",
    "lam dong",
    "long an",
    "tien giang",
    "ben tre",
    "an giang",
    "kien giang",
    "ca mau",
    "bac lieu",
    "soc trang",
    "hai duong",
    "hung yen",
    "nam dinh",
    "thai binh",
    "ninh binh",
    "ha nam",
    "thai nguyen",
    "lao cai",
    "sa pa",
    "sapa",
    "ha giang",
    "cao bang",
    "lang son",
    "dien bien",
    "son la",
    "yen bai",
    "tuyen quang",
    "phu tho",
    "vinh phuc",
    "bac giang",
    "quang binh",
    "quang tri",
    "quang nam",
    "hoi an",
    "quang ngai",
    "binh dinh",
    "phu yen",
    "ninh thuan",
    "binh thuan",
    "phan thiet",
    "mui ne",
    "kon tum",
    "gia lai",
    "pleiku",
    "dak lak",
    "dak nong",
    "binh phuoc",
    "tay ninh",
    "ba ria",
    "dong thap",
    "vinh long",
    "tra vinh",
    "hau giang",
    "hoa binh",
    "lai chau",
    "bac kan",
)
_PLACE_RE = re.compile(
    r"(?<![^\W_])(?:" + "|".join(re.escape(p).replace(r"\ ", r"[\s.-]*") for p in _PLACES) + r")(?![^\W_])"
)


def without_places(text: str) -> str:
    """`text` with the names of places in Vietnam taken out (found without diacritics,
    so "Hà Nội", "Ha Noi" and "hanoi" alike)."""
    folded = fold(text)
    if len(folded) != len(text):  # folding changed the length (rare): keep the text
        return text
    kept, last = [], 0
    for match in _PLACE_RE.finditer(folded):
        kept.append(text[last : match.start()])
        last = match.end()
    return "".join(kept) + text[last:] if kept else text


# English words whose folded Vietnamese twin is too common to count for Vietnamese.
_AMBIGUOUS = {
    "a",
    "an",
    "on",
    "the",
    "do",
    "to",
    "me",
    "ma",
    "cam",
    "day",
    "van",
    "hong",
    "chi",
    "em",
    "shop",
    "ok",
    "oi",
    "r",
    "e",
    "k",
    "j",
}


def _spacy_stop_words(lang: str) -> FrozenSet[str]:
    """spaCy's stop-word list for `lang`, read from its module file alone: importing the
    spacy package would pull in thinc and TensorFlow (17 s, ~470 MB), too much for the hub."""
    spec = importlib.util.find_spec("spacy")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("spaCy is not installed: its stop-word lists decide the language")
    path = Path(list(spec.submodule_search_locations)[0]) / "lang" / lang / "stop_words.py"
    module_spec = importlib.util.spec_from_file_location(f"_stop_words_{lang}", path)
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return frozenset(module.STOP_WORDS)


@lru_cache(maxsize=1)
def lexicons() -> Tuple[FrozenSet[str], FrozenSet[str]]:
    """(Vietnamese words, English words), folded, without the words both could be."""
    vietnamese = {fold(w) for w in _spacy_stop_words("vi") if w and "_" not in w} | _VI_EXTRA
    english = set(_spacy_stop_words("en")) | _EN_EXTRA
    overlap = vietnamese & english
    return frozenset(vietnamese - overlap - _AMBIGUOUS), frozenset(english - overlap - _AMBIGUOUS)


def detect_language(text: str) -> Optional[str]:
    """ "vi", "en", or None when the text gives no evidence."""
    if text.lstrip().startswith("/"):
        return None  # a button's payload ("/request_human"): Rasa parses no language there either
    text = without_places(text)
    if has_vietnamese_marks(text):
        return "vi"
    tokens = [fold(w) for w in words(_NOT_LANGUAGE.sub(" ", text))]
    if not tokens:
        return None
    vietnamese, english = lexicons()
    folded = " ".join(tokens)
    vi_hits = sum(1 for t in tokens if t in vietnamese)
    vi_hits += sum(2 for phrase in _VI_PHRASES if phrase in folded)
    en_hits = sum(1 for t in tokens if t in english)
    if vi_hits == en_hits:
        return None
    return "vi" if vi_hits > en_hits else "en"


def spoken(language: Optional[str]) -> str:
    """`language` if the assistant speaks it, else DEFAULT."""
    return language if language in LANGUAGES else DEFAULT


def decide(text: str, current: Optional[str]) -> str:
    """The conversation's language after this message: what the message shows, else the
    language it had (else DEFAULT)."""
    return detect_language(text) or spoken(current)
