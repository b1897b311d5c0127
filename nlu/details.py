"""Rule-based extraction of the details a customer gives: order number, email, phone,
case reference, wanted remedy.

spaCy's tokenizer and Matcher do the work: emails come from the `LIKE_EMAIL` token
attribute, phone numbers and order numbers from token-shape patterns that may span
several tokens ("+84 912 345 678", "# 1048213"), and remedy words from a phrase matcher
over diacritic-folded text, so "hoan tien" and "hoàn tiền" both count. Words that turn
an offer down ("neither", "ko can") are a flag, not an entity (`turns_offer_down`), and
so are the remedies a message names only to refuse ("not a refund": `refused_remedies`).
The same rules serve English and Vietnamese: numbers and emails do not depend on the
language.

Each entity is a dict in Rasa's shape: entity, value (normalised), start, end (character
offsets into the original text).
"""

from functools import lru_cache
import re
from typing import Dict, List, Optional, Set, Tuple

from contract.language import detect_language
from contract.text import fold

# A Vietnamese mobile (03/05/07/08/09 + 8 digits), the same with +84, or any
# international number with a leading "+" and 8-15 digits.
_PHONE_RE = re.compile(r"^(0[35789]\d{8}|\+84[35789]\d{8}|\+\d{8,15})$")
_DIGITS_RE = re.compile(r"^\d+$")
# The case reference the bot gives ("SR-7KQ2MD", contract/case.py new_case_ref).
_CASE_REF_RE = re.compile(r"\bSR-?([A-Z0-9]{6})\b", re.IGNORECASE)

# Words that name a remedy, by family (contract/intents.py REMEDY_FAMILIES, which the
# playbook's remedies name in `families`).
REMEDY_PHRASES = {
    "refund": [
        "refund",
        "money back",
        "reimburse",
        "hoan tien",
        "tra tien",
        "tra lai tien",
        "hoan lai tien",
        "lay lai tien",
    ],
    "replacement": [
        "replacement",
        "replace",
        "new one",
        "exchange",
        "swap",
        "doi hang",
        "doi sp",
        "doi san pham",
        "doi cai moi",
        "gui cai moi",
        "thay the",
    ],
    "reship": [
        "resend",
        "re-send",
        "re send",
        "reship",
        "ship it again",
        "send it again",
        "gui lai",
        "giao lai",
    ],
    "voucher": ["voucher", "coupon", "store credit", "ma giam gia", "phieu giam gia"],
}

# Words that turn down what was offered ("neither, I want my money back"): then the
# remedy named is something other than the offer, even when it shares the offer's family.
DECLINE_PHRASES = [
    "neither",
    "none of",
    "not those",
    "not that",
    "no thanks",
    "don't want",
    "dont want",
    "do not want",
    "rather",
    "instead",
    "forget",
    "khong muon",
    "ko muon",
    "k muon",
    "khong can",
    "ko can",
    "k can",
    "khong lay",
    "ko lay",
    "thay vi",
]


# Words that refuse the remedy named right after them, with how many words may come
# between ("not a refund", "I don't want a new one", "ko can doi hang"). A bare "no" must
# touch the remedy ("no refund"): in "no I want a refund" it answers the offer, and a
# comma, "but" or "ma" ends what a refusal reaches.
REFUSALS = {
    "no": 0,
    "not": 2,
    "never": 2,
    "without": 2,
    "instead of": 2,
    "rather than": 2,
    "no need for": 2,
    "not interested in": 2,
    "don't want": 3,
    "dont want": 3,
    "do not want": 3,
    "don't need": 3,
    "dont need": 3,
    "do not need": 3,
    "khong": 1,
    "ko": 1,
    "k": 1,
    "hok": 1,
    "khg": 1,
    "chang": 1,
    "dung": 1,
    "thay vi": 2,
    "khong muon": 3,
    "ko muon": 3,
    "k muon": 3,
    "khong can": 3,
    "ko can": 3,
    "k can": 3,
    "khong lay": 3,
    "ko lay": 3,
}
_CLAUSE_END_RE = re.compile(r"[,.;:!?()]|\b(?:but|nhung|ma)\b")
_REFUSAL_WORD_RE = re.compile(r"[a-z0-9']+")
# Two remedies joined by one of these share a refusal ("not a refund or a voucher").
_JOINING_WORDS = {"or", "nor", "and", "hay", "hoac", "va"}
_ARTICLES = {"a", "an", "the", "any", "la"}


@lru_cache(maxsize=1)
def _matchers():
    import spacy
    from spacy.matcher import Matcher, PhraseMatcher

    nlp = spacy.blank("xx")
    matcher = Matcher(nlp.vocab)
    matcher.add("email", [[{"LIKE_EMAIL": True}]])
    digits = {"TEXT": {"REGEX": r"^\d{2,5}$"}}
    # "0912 345 678", "+84 912 345 678", "091-234-5678": 2-4 groups of digits.
    matcher.add(
        "phone_split",
        [
            [{"TEXT": {"REGEX": r"^\+?\d{2,4}$"}}, digits, digits],
            [{"TEXT": {"REGEX": r"^\+?\d{2,4}$"}}, digits, digits, digits],
            [{"TEXT": {"REGEX": r"^\+?\d{2,4}$"}}, {"ORTH": "-"}, digits, {"ORTH": "-"}, digits],
        ],
    )
    matcher.add("number", [[{"TEXT": {"REGEX": r"^\+?\d+$"}}]])
    matcher.add("hash_number", [[{"ORTH": "#"}, {"TEXT": {"REGEX": r"^\d+$"}}]])
    remedies = PhraseMatcher(nlp.vocab, attr="LOWER")
    for family, phrases in REMEDY_PHRASES.items():
        remedies.add(family, [nlp.make_doc(p) for p in phrases])
    declines = PhraseMatcher(nlp.vocab, attr="LOWER")
    declines.add("decline", [nlp.make_doc(p) for p in DECLINE_PHRASES])
    return nlp, matcher, remedies, declines


def _entity(name: str, value: str, start: int, end: int) -> Dict:
    return {"entity": name, "value": value, "start": start, "end": end}


def _read_match(label: str, doc, start: int, end: int) -> Optional[Tuple[str, str, int, int]]:
    """What one match of the detail matcher is: (kind, value, start, end), or None."""
    span = doc[start:end]
    if label == "email":
        value = span.text.lower().strip(".,;")
        return "email", value, span.start_char, span.start_char + len(span.text.rstrip(".,;"))
    if label == "hash_number":
        # "#1048213": the number is the order id, the "#" stays outside the entity.
        number = doc[start + 1]
        return "order_id", number.text, number.idx, number.idx + len(number)
    compact = re.sub(r"[\s.-]", "", span.text)
    if _PHONE_RE.match(compact):
        return "phone", compact, span.start_char, span.end_char
    if label == "number" and _DIGITS_RE.match(compact) and len(compact) >= 4:
        # Any other standalone number of 4+ digits is offered as an order number; the
        # details form checks it and explains what looks wrong (too short, unknown).
        return "order_id", compact, span.start_char, span.end_char
    return None


def extract_details(text: str) -> List[Dict]:
    """All details found in `text`, without overlaps, in reading order."""
    nlp, matcher, remedy_matcher, _ = _matchers()
    doc = nlp.make_doc(text)
    found: List[Dict] = []
    taken: Set[int] = set()

    def claim(span) -> bool:
        chars = set(range(span.start_char, span.end_char))
        if chars & taken:
            return False
        taken.update(chars)
        return True

    for ref in _CASE_REF_RE.finditer(text):
        taken.update(range(ref.start(), ref.end()))
        found.append(_entity("case_ref", "SR-" + ref.group(1).upper(), ref.start(), ref.end()))
    # Longest spans first, so a split phone beats its parts.
    for match_id, start, end in sorted(matcher(doc), key=lambda m: (m[1] - m[2], m[1])):
        detail = _read_match(nlp.vocab.strings[match_id], doc, start, end)
        if detail is not None and claim(doc[start:end]):
            found.append(_entity(*detail))

    folded_doc = nlp.make_doc(fold(text))
    if len(folded_doc.text) == len(text):  # offsets stay valid only if folding kept lengths
        for match_id, start, end in sorted(remedy_matcher(folded_doc), key=lambda m: m[1] - m[2]):
            span = folded_doc[start:end]
            if claim(span):
                found.append(_entity("remedy", nlp.vocab.strings[match_id], span.start_char, span.end_char))
    return sorted(found, key=lambda e: e["start"])


# What a detail's value becomes for the intent classifier: its kind, in the message's
# language. The digits of an order number or the letters of an email say nothing about
# what the customer wants, yet as n-grams and in the sentence embedding they pulled
# "hang don 2207718 bi vo, sdt 0987654321" towards `inform` (a bare detail).
MASKS = {
    "en": {"order_id": "order number", "email": "email", "phone": "phone number"},
    "vi": {"order_id": "mã đơn", "email": "email", "phone": "số điện thoại"},
}


@lru_cache(maxsize=4096)
def mask_details(text: str) -> str:
    """`text` with each order number, email and phone replaced by the name of its kind
    ("order 2207718 arrived broken" -> "order order number arrived broken")."""
    names = MASKS["vi" if detect_language(text) == "vi" else "en"]
    found = [e for e in extract_details(text) if e["entity"] in names]
    for detail in sorted(found, key=lambda e: -e["start"]):
        text = text[: detail["start"]] + names[detail["entity"]] + text[detail["end"] :]
    return text


def turns_offer_down(text: str) -> bool:
    """Whether `text` declines what was offered ("neither, I want my money back"). Kept
    out of the entities: Rasa's conversation tests would count it as an unannotated one."""
    nlp, _, _, declines = _matchers()
    return bool(declines(nlp.make_doc(fold(text))))


def _refused_before(prefix: str) -> bool:
    """Whether a refusal in `prefix` (folded text up to a remedy word) reaches that word."""
    clause = _CLAUSE_END_RE.split(prefix)[-1]
    tokens = _REFUSAL_WORD_RE.findall(clause.replace("\u2019", "'"))
    for cue, reach in REFUSALS.items():
        cue_words = cue.split()
        for at in range(len(tokens) - len(cue_words) + 1):
            if tokens[at : at + len(cue_words)] == cue_words and len(tokens) - at - len(cue_words) <= reach:
                return True
    return False


def refused_remedies(text: str) -> List[str]:
    """The remedy families `text` names only to refuse them, in reading order: "no, not a
    refund" refuses the refund; "I don't want a replacement, I want my money back" the
    replacement and not the refund."""
    folded = fold(text)
    refused: List[str] = []
    previous_end, previous_refused = 0, False
    for found in extract_details(text):
        if found["entity"] != "remedy":
            continue
        between = _REFUSAL_WORD_RE.findall(folded[previous_end : found["start"]])
        joined = bool(between) and between[0] in _JOINING_WORDS and set(between[1:]) <= _ARTICLES
        if previous_end and joined:
            is_refused = previous_refused  # "not a refund or a voucher"
        else:
            # Only the words since the last remedy: in "not a refund, a replacement" the
            # refusal is the refund's.
            is_refused = _refused_before(folded[previous_end : found["start"]])
        if is_refused:
            refused.append(found["value"])
        previous_end, previous_refused = found["end"], is_refused
    return refused
