"""Per-message language detection for English and Vietnamese.

Vietnamese is often typed without diacritics ("hang giao tre qua"), so marks alone
are not enough: unmarked words are compared against spaCy's English and Vietnamese
stop-word lists (Vietnamese folded to plain ASCII) plus the chat abbreviations
customers use. A message with no evidence either way (an email, a number, "ok")
returns None, so the caller keeps the language it had: detection is sticky.
"""

import re
from functools import lru_cache
from typing import Optional

from nlu.text import fold, has_vietnamese_marks, words


_NOT_LANGUAGE = re.compile(r"\S+@\S+|https?://\S+|[#+]?\d[\d .-]*")
# Folded two-word phrases that are Vietnamese although each word alone is ambiguous.
_VI_PHRASES = ("cam on", "xin loi", "ok shop", "oi shop", "shop oi", "ad oi")

# Chat and shop words that spaCy's lists do not hold.
_VI_EXTRA = {
    "ko", "k", "hok", "khong", "dc", "duoc", "sp", "shop", "oi", "ad", "j", "r", "roi",
    "ntn", "bn", "dt", "tk", "nv", "mk", "minh", "e", "vs", "hang", "don", "giao", "tre",
    "tra", "tien", "hoan", "doi", "nhan", "chua", "sao", "gi", "vay", "the", "nha", "nhe",
    "a", "ak", "ah", "uk", "um", "cam", "on", "xin", "loi", "toi", "ban", "em", "anh", "chi",
    "bi", "vo", "hong", "hu", "nhu", "lam", "qua", "luon", "mua", "gui", "giup", "voi",
    "cho", "lai", "ma", "van", "nua", "day", "kia", "nay", "do", "chao", "tam", "biet",
    "dang", "nhap", "sai", "thieu", "phi", "nguoi", "gap", "muon", "huy", "hoi",
}
# English words whose folded Vietnamese twin is too common to count for Vietnamese.
_AMBIGUOUS = {"a", "an", "on", "the", "do", "to", "me", "ma", "cam", "day", "van", "hong",
              "chi", "em", "shop", "ok", "oi", "r", "e", "k", "j"}


@lru_cache(maxsize=1)
def _lexicons():
    from spacy.lang.en.stop_words import STOP_WORDS as english_stop
    from spacy.lang.vi.stop_words import STOP_WORDS as vietnamese_stop

    vietnamese = {fold(w) for w in vietnamese_stop if w and "_" not in w} | _VI_EXTRA
    english = set(english_stop) | {
        "order", "parcel", "package", "refund", "item", "charged", "arrived", "late",
        "broken", "wrong", "money", "please", "hi", "hello", "thanks", "yes", "no",
        "delivery", "still", "never", "got", "want", "person", "agent", "human",
    }
    overlap = vietnamese & english
    return vietnamese - overlap - _AMBIGUOUS, english - overlap - _AMBIGUOUS


def detect_language(text: str) -> Optional[str]:
    """Return "vi", "en", or None when the text gives no evidence."""
    if has_vietnamese_marks(text):
        return "vi"
    text = _NOT_LANGUAGE.sub(" ", text)
    tokens = [fold(w) for w in words(text)]
    if not tokens:
        return None
    vietnamese, english = _lexicons()
    folded = " ".join(tokens)
    vi_hits = sum(1 for t in tokens if t in vietnamese)
    vi_hits += sum(2 for phrase in _VI_PHRASES if phrase in folded)
    en_hits = sum(1 for t in tokens if t in english)
    if vi_hits == en_hits:
        return None
    return "vi" if vi_hits > en_hits else "en"
