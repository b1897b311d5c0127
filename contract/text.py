"""Pure text helpers shared by the NLU components, the language decision and the actions
(no Rasa, no spaCy): the lowest layer, so that contract/language.py may use them."""

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
