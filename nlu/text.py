"""Pure text helpers shared by the NLU components and the actions (no Rasa, no spaCy)."""

import re
import unicodedata

# Vietnamese letters that carry a mark; any of them settles the language at once.
_VI_MARKED = set("ăâđêôơưáàảãạắằẳẵặấầẩẫậéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ")

WORD_RE = re.compile(r"[^\W_]+", re.UNICODE)


def fold(text: str) -> str:
    """Lower-case and strip Vietnamese diacritics: "Đơn hàng" -> "don hang"."""
    text = text.lower().replace("đ", "d")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


def has_vietnamese_marks(text: str) -> bool:
    return any(ch in _VI_MARKED for ch in text.lower())


def words(text: str) -> list:
    return WORD_RE.findall(text.lower())


# Words that only Vietnamese chat uses (typed without marks); enough to tell a language
# when the full detector (nlu/language.py, which needs spaCy) is not at hand.
VI_CHAT_WORDS = frozenset({
    "ko", "hok", "khong", "dc", "duoc", "sp", "oi", "roi", "ntn", "bn", "nv", "mk", "minh",
    "hang", "giao", "tre", "tien", "hoan", "nhan", "chua", "sao", "vay", "nhe", "toi", "em",
    "anh", "chi", "bi", "qua", "giup", "voi", "cho", "lai", "nua", "chao", "cam", "xin", "loi",
})


def looks_vietnamese(text: str) -> bool:
    if has_vietnamese_marks(text):
        return True
    tokens = [fold(w) for w in words(text)]
    return bool(tokens) and sum(t in VI_CHAT_WORDS for t in tokens) * 3 >= len(tokens)
