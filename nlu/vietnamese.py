"""Word features that Vietnamese typed with and without marks share (no Rasa here).

pyvi joins compounds only in text with marks ("nhân_viên"), so "nhan vien" typed without
marks shared no word feature with it. Here every Vietnamese word is reduced to its folded
syllables ("nhân viên" -> "nhan", "vien"), and chat abbreviations are spelled out in the
same folded form ("nv" -> "nhan vien", "ko" -> "khong"). A word n-gram featurizer then
sees the same unigrams and bigrams ("nhan vien") whichever way the customer typed.
"""

from typing import Dict, List

from contract.text import fold

# Folded chat abbreviation -> folded full form (one or more syllables). Applied only to
# Vietnamese messages: "k", "r", "j", "e", "a" mean something else in English.
CHAT_ABBREVIATIONS: Dict[str, str] = {
    # không ("hong" is left out: folded "hỏng", broken, is the same string)
    "ko": "khong",
    "k": "khong",
    "kh": "khong",
    "hok": "khong",
    "hk": "khong",
    "hem": "khong",
    "kg": "khong",
    "khg": "khong",
    "khum": "khong",
    # được
    "dc": "duoc",
    "dk": "duoc",
    "dx": "duoc",
    # people ("a" and "c" are left out: folded "à", "ạ" are particles)
    "nv": "nhan vien",
    "ng": "nguoi",
    "ngta": "nguoi ta",
    "ql": "quan ly",
    "e": "em",
    "mk": "minh",
    "mik": "minh",
    "mjk": "minh",
    "mn": "moi nguoi",
    "ad": "admin",
    # things ("ck" is left out: chat uses it for "chồng" as often as "chuyển khoản")
    "tk": "tai khoan",
    "stk": "so tai khoan",
    "sdt": "so dien thoai",
    "dt": "dien thoai",
    "dh": "don hang",
    "sp": "san pham",
    "tn": "tin nhan",
    "tt": "thanh toan",
    "pass": "mat khau",
    # little words
    "r": "roi",
    "oy": "roi",
    "j": "gi",
    "ji": "gi",
    "vs": "voi",
    "v": "vay",
    "z": "vay",
    "zay": "vay",
    "bn": "bao nhieu",
    "ntn": "nhu the nao",
    "cx": "cung",
    "ns": "noi",
    "lm": "lam",
    "bik": "biet",
    "bit": "biet",
    "wa": "qua",
    "hum": "hom",
    "hnay": "hom nay",
    "hqua": "hom qua",
    "trc": "truoc",
    "ms": "moi",
    "nhiu": "nhieu",
    "oke": "ok",
    "okie": "ok",
}


def vietnamese_lemmas(word: str) -> List[str]:
    """The folded syllables of one Vietnamese word or pyvi compound, abbreviations
    spelled out: "Nhân viên" -> ["nhan", "vien"], "đc" -> ["duoc"], "NV" -> ["nhan", "vien"]."""
    syllables = fold(word).replace("_", " ").split()
    out: List[str] = []
    for syllable in syllables:
        out.extend(CHAT_ABBREVIATIONS.get(syllable, syllable).split())
    return out


def vietnamese_lemma(word: str) -> str:
    """The same as one space-joined string: what a token's lemma holds, so that Rasa's
    word count vectors (which split lemmas on spaces) count each syllable and the bigrams."""
    return " ".join(vietnamese_lemmas(word)) or fold(word)
