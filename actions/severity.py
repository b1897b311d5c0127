"""How upset is this customer, and why: a pure function of what we know.

score = the playbook's base severity for the complaint type (0-3)
      + signs of anger in the text (0-2), in English or Vietnamese, typed with or
        without diacritics (the text is folded first), plus ALL CAPS and "!!!"
      + 1 for a gold or VIP customer
      + 1 for a repeat contact (said in the text, or an earlier case on record)
      + 1 for an order worth HIGH_VALUE or more
A safety problem (fire, burns, electric shock, food poisoning) is always critical.

Levels: low (0-1), medium (2-3), high (4), critical (5+). Critical goes to a person.

The reasons are codes (contract/handoff.py SeverityReason), the notes the evidence
("code: what was seen"); words for the reasons are made only where they are shown (the
agent's summary, data/hub/handoff.yml; the console, data/hub/console.yml).
"""

from dataclasses import dataclass, field
import re
from typing import List, Optional

from contract.handoff import Level, Severity, SeverityReason
from contract.text import fold

HIGH_VALUE = 3_000_000  # VND

# Folded (lower-case, no diacritics) phrases.
ANGER = (
    "ridiculous",
    "unacceptable",
    "worst",
    "disgusting",
    "furious",
    "angry",
    "fed up",
    "sick of",
    "joke",
    "scam",
    "useless",
    "terrible",
    "awful",
    "pathetic",
    "wtf",
    "outrageous",
    "disgrace",
    "never again",
    "fraud",
    "incompetent",
    "rip off",
    "ripoff",
    "disaster",
    "nightmare",
    "horrible",
    "appalling",
    "shocking",
    "tham hoa",
    "buc minh",
    "buc qua",
    "lua dao",
    "that vong",
    "lam an kieu gi",
    "lam an the",
    "qua te",
    "te hai",
    "kinh khung",
    "vo trach nhiem",
    "toi te",
    "cau tha",
    "coi thuong",
    "vcl",
    "vkl",
    "dm",
    "qua dang",
    "tuc that",
    "khong chap nhan",
    "ko chap nhan",
    "chan that",
    "chan qua",
)
# Words saying the customer has been in touch before. "Still not here" and "van chua"
# say only that the problem goes on: a first message says that too, and being told
# "sorry you've had to come back to us again" would be wrong.
REPEAT = (
    "again",
    "second time",
    "third time",
    "2nd time",
    "3rd time",
    "already told",
    "already contacted",
    "keep having",
    "once more",
    "lan thu 2",
    "lan thu 3",
    "lan thu hai",
    "lan thu ba",
    "lai nua",
    "nhieu lan",
    "may lan",
    "bao nhieu lan",
    "lai bi",
    "nhan roi ma",
    "hoi roi",
)
SAFETY = (
    "caught fire",
    "on fire",
    "burned",
    "burnt",
    "electric shock",
    "shocked me",
    "food poisoning",
    "poisoned",
    "exploded",
    "smoke came",
    "injured",
    "hospital",
    "chay no",
    "boc chay",
    "bi chay",
    "dien giat",
    "giat dien",
    "ngo doc",
    "phat no",
    "nhap vien",
    "bi thuong",
)


@dataclass
class Assessment:
    level: Level
    score: int
    reasons: List[SeverityReason] = field(default_factory=list)  # codes
    notes: List[str] = field(default_factory=list)  # the evidence: "code: what was seen"

    def as_severity(self) -> Severity:
        """As the case keeps it and the agent gets it (the handoff packet's severity)."""
        return Severity(level=self.level, reasons=self.reasons, notes=self.notes)


def _hits(folded: str, phrases) -> List[str]:
    return [p for p in phrases if re.search(rf"(?<!\w){re.escape(p)}(?!\w)", folded)]


def said_repeat(text: str) -> bool:
    return bool(_hits(fold(text), REPEAT))


# Faces and symbols that say it as plainly as words.
ANGRY_EMOJI = ("😡", "🤬", "😠", "👿", "💢", "😤", "🖕", "😾")


def anger_signs(text: str) -> List[str]:
    """Signs of anger: angry words (either language, with or without marks), angry emoji,
    ALL CAPS, "!!!"."""
    signs = _hits(fold(text), ANGER)
    if any(face in text for face in ANGRY_EMOJI):
        signs.append("angry emoji")
    letters = [c for c in text if c.isalpha()]
    if len(letters) >= 8 and sum(c.isupper() for c in letters) / len(letters) > 0.6:
        signs.append("ALL CAPS")
    if re.search(r"[!?]{3,}", text):
        signs.append("'!!!'")
    return signs


def assess(
    complaint: str,
    base: int,
    text: str,
    tier: str = "standard",
    repeat_on_record: bool = False,
    order_value: Optional[int] = None,
) -> Assessment:
    reasons: List[SeverityReason] = ["base"]
    notes = [f"base: {complaint} ({base})"]
    score = base

    safety = _hits(fold(text), SAFETY)
    anger = anger_signs(text)
    if anger:
        score += min(2, len(anger))
        reasons.append("angry_tone")
        notes.append("angry_tone: " + ", ".join(anger[:4]))
    if tier == "gold" or tier == "vip":
        score += 1
        reasons.append("gold_customer" if tier == "gold" else "vip_customer")
    if repeat_on_record or said_repeat(text):
        score += 1
        reasons.append("repeat_contact")
    if order_value is not None and order_value >= HIGH_VALUE:
        score += 1
        reasons.append("high_value_order")
        notes.append(f"high_value_order: {order_value}")

    if safety:
        reasons.append("safety_risk")
        notes.append("safety_risk: " + ", ".join(safety[:3]))
        return Assessment("critical", max(score, 5), reasons, notes)
    level: Level = "low" if score <= 1 else "medium" if score <= 3 else "high" if score == 4 else "critical"
    return Assessment(level, score, reasons, notes)
