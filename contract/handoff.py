"""The handoff packet: what an agent receives when a person takes over (DESIGN.md
"Handoff context"). One type, built by both sides:

- the assistant (actions/handoff.py) when it hands over, and sends it to the hub as the
  custom payload {"handoff": {...}};
- the hub (bot/core/handoffs.py) when the assistant is away, with what it knows.

Each field says which side owns it (`owner(name)`). The assistant never fills the hub's
fields; the hub sets them when it queues the conversation (`HandoffPacket.attach`):

- conversation_id and channel: the hub's;
- the transcript: the hub's too, and never inside the packet. The hub keeps it as the
  conversation's live stream and the console gets it once, beside the packet (GET
  /api/agent/conversations/{id} -> {"packet", "transcript"}).

The summary is in both languages, about the customer in the third person, from
data/hub/handoff.yml. Severity reasons are codes (SEVERITY_REASONS); the console and the
summary put them into words. A packet is read with `read_packet`: one of another schema
version, or one that does not validate, is None, and the console shows it raw.
"""

from functools import lru_cache
from pathlib import Path
import time
from typing import Any, Dict, List, Literal, Mapping, Optional, Union, get_args

from pydantic import BaseModel, Extra, Field, ValidationError, validator

from contract import words
from contract.identity import BY_SHOP_SIGNATURE
from contract.language import LANGUAGES
from contract.words import Texts, pick

SCHEMA_VERSION = 2  # 1 was the untyped dict built twice, before this module
WORDS_FILE = Path(__file__).resolve().parent.parent / "data" / "hub" / "handoff.yml"

ASSISTANT, HUB = "assistant", "hub"
# Why a conversation went to a person.
Reason = Literal[
    "customer_asked",
    "critical_severity",
    "alternatives_declined",
    "no_remedy",
    "order_not_proved",
    "orders_unavailable",
    "not_understood",
    "assistant_unavailable",
]
Level = Literal["low", "medium", "high", "critical", "unknown"]
# Why the severity is what it is ("base": the playbook's starting point for the complaint).
SeverityReason = Literal[
    "base",
    "angry_tone",
    "gold_customer",
    "vip_customer",
    "repeat_contact",
    "high_value_order",
    "safety_risk",
    "assistant_unavailable",
]
Trust = Literal["verified", "claimed"]
REASONS, LEVELS, SEVERITY_REASONS = get_args(Reason), get_args(Level), get_args(SeverityReason)


def _assistant(default: Any = ..., **kwargs: Any) -> Any:
    return Field(default, owner=ASSISTANT, **kwargs)


def _hub(default: Any = ..., **kwargs: Any) -> Any:
    return Field(default, owner=HUB, **kwargs)


class Severity(BaseModel):
    level: Level = "unknown"
    reasons: List[SeverityReason] = []
    notes: List[str] = []  # the assessment's own words (which angry words, which base)


class RemedyAnswer(BaseModel):
    remedy: str
    answer: str


class EarlierCase(BaseModel):
    case_ref: str
    complaint_type: Optional[str] = None
    status: Optional[str] = None
    remedy: Optional[str] = None
    created_at: Optional[float] = None


class Customer(BaseModel):
    """Who the customer is. name/email/phone/tier are on record only for a verified
    customer (agents see them in full, marked verified); a guest has none."""

    id: str = ""
    verified: bool = False
    verified_by: Optional[str] = None  # contract.identity.BY_*
    name: str = ""
    email: str = ""
    phone: str = ""
    tier: Optional[str] = None
    history: List[EarlierCase] = []


class Summary(BaseModel):
    en: str
    vi: str


class HandoffPacket(BaseModel):
    version: int = _assistant(SCHEMA_VERSION)
    case_ref: str = _assistant(description="the case the customer is told about")
    language: str = _assistant(description="echoes the hub's decision (contract/language.py)")
    reason: Reason = _assistant(description="why a person takes over")
    intents: List[str] = _assistant([])
    complaint_type: Optional[str] = _assistant(None)
    details: Dict[str, str] = _assistant({}, description="every detail gathered")
    details_trust: Dict[str, Trust] = _assistant({}, description="each detail verified or claimed")
    order: Optional[Dict[str, Any]] = _assistant(None, description="the customer's order, proved theirs")
    claimed_order: Optional[Dict[str, Any]] = _assistant(
        None, description="the order named but not proved theirs, for the agent to check"
    )
    severity: Severity = _assistant(Severity())
    repeat_contact: bool = _assistant(False)
    remedies: List[RemedyAnswer] = _assistant([])
    customer: Customer = _assistant(Customer())
    summary: Summary = _assistant()
    created_at: float = Field(default_factory=time.time, owner=ASSISTANT)
    conversation_id: str = _hub("")
    channel: str = _hub("")

    class Config:
        extra = "forbid"  # a field nobody owns is a mistake, not a feature

    @validator("version")
    def _version(cls, value: int) -> int:
        if value != SCHEMA_VERSION:
            raise ValueError(f"schema version {value}, this hub reads {SCHEMA_VERSION}")
        return value

    @validator("language")
    def _language(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError(f"must be one of {LANGUAGES}")
        return value

    def attach(self, conversation_id: str, channel: str) -> "HandoffPacket":
        """The hub's fields, set by the hub (whatever the assistant may have said)."""
        return self.copy(update={"conversation_id": conversation_id, "channel": channel})

    def payload(self) -> Dict[str, Any]:
        """As JSON-ready data: the custom payload, the stored packet."""
        return self.dict()

    def key(self) -> str:
        """This handoff's name: its case and the moment it was decided. The hub queues a
        handoff once by it, whether its early word or the turn's relay comes first."""
        return f"{self.case_ref}@{self.created_at!r}"


def owner(name: str) -> str:
    """Which side fills a packet field: ASSISTANT or HUB."""
    return HandoffPacket.__fields__[name].field_info.extra["owner"]


def read_packet(data: Any) -> Optional[HandoffPacket]:
    """The typed packet, or None for anything else (another schema version, a packet
    that does not validate): the caller keeps it raw."""
    if not isinstance(data, Mapping):
        return None
    try:
        return HandoffPacket.parse_obj(data)
    except ValidationError:
        return None


# --- the summary, in both languages ---------------------------------------------------


class SummaryWords(BaseModel):
    """data/hub/handoff.yml: the agent's summary, in every language."""

    about: Texts
    complaints: Dict[str, Texts]
    order: Texts
    claimed_order: Texts
    order_not_found: Texts
    no_order: Texts
    severity: Texts
    severity_why: Texts
    severity_levels: Dict[str, Texts]
    severity_reasons: Dict[str, Texts]
    offered: Texts
    nothing_offered: Texts
    answers: Dict[str, Texts]
    handed_over: Texts
    reasons: Dict[str, Texts]
    assistant_unavailable: Texts

    class Config:
        extra = Extra.forbid


class _SummaryFile(BaseModel):
    handoff_summary: SummaryWords


def _every_code(file: _SummaryFile) -> List[words.Problem]:
    """Words for every reason the packet may carry."""
    found = file.handoff_summary
    problems: List[words.Problem] = []
    for group, codes in (("reasons", REASONS), ("severity_reasons", SEVERITY_REASONS)):
        missing = [code for code in codes if code != "base" and code not in getattr(found, group)]
        if missing:
            problems.append((("handoff_summary", group), f"no words for {missing}"))
    return problems


@lru_cache(maxsize=1)
def summary_words(path: Path = WORDS_FILE) -> SummaryWords:
    """data/hub/handoff.yml, checked (contract/words.py): every entry in every language."""
    return words.load(path, _SummaryFile, _every_code).handoff_summary


def _say(entry: Texts, lang: str, **values: Any) -> str:
    return entry[lang].format(**values)


def _word(group: Mapping[str, Union[Texts, Mapping[str, str]]], key: Optional[str], lang: str) -> str:
    entry = group.get(key or "")
    return entry[lang] if entry else str(key or "")


def summarise(
    packet: HandoffPacket,
    lang: str,
    order_status: Optional[Mapping[str, Union[Texts, Mapping[str, str]]]] = None,
    remedy_names: Optional[Mapping[str, Union[Texts, Mapping[str, str]]]] = None,
) -> str:
    """One paragraph for the agent in `lang`, from the packet's fields. order_status and
    remedy_names are the playbook's words for those, when the caller has the playbook."""
    w = summary_words()
    complaint = packet.complaint_type if packet.complaint_type in w.complaints else "unknown"
    parts = [_say(w.about, lang, complaint=w.complaints[complaint][lang])]
    order, given = packet.order, packet.details.get("order_id")
    if order:
        items = order.get("items")
        parts.append(
            _say(
                w.order,
                lang,
                order_id=order.get("order_id", ""),
                items=pick(items, lang) if isinstance(items, dict) else items or "",
                status=_word(order_status or {}, order.get("status"), lang),
            )
        )
    elif packet.claimed_order:
        parts.append(_say(w.claimed_order, lang, order_id=given or packet.claimed_order.get("order_id")))
    elif given:
        parts.append(_say(w.order_not_found, lang, order_id=given))
    else:
        parts.append(_say(w.no_order, lang))
    reasons = [_word(w.severity_reasons, code, lang) for code in packet.severity.reasons if code != "base"]
    parts.append(
        _say(
            w.severity,
            lang,
            level=_word(w.severity_levels, packet.severity.level, lang),
            why=_say(w.severity_why, lang, reasons="; ".join(reasons)) if reasons else "",
        )
    )
    if packet.remedies:
        parts.append(
            _say(
                w.offered,
                lang,
                remedies=", ".join(
                    f"{_word(remedy_names or {}, r.remedy, lang)} ({_word(w.answers, r.answer, lang)})"
                    for r in packet.remedies
                ),
            )
        )
    else:
        parts.append(_say(w.nothing_offered, lang))
    parts.append(_say(w.handed_over, lang, reason=_word(w.reasons, packet.reason, lang)))
    return " ".join(parts)


def summaries(packet: HandoffPacket, **playbook_words: Any) -> Summary:
    return Summary(**{lang: summarise(packet, lang, **playbook_words) for lang in LANGUAGES})


def assistant_away(
    conversation_id: str,
    channel: str,
    identity: Mapping[str, Any],
    language: str,
    case_ref: str,
    why: str,
    last_message: str,
) -> HandoffPacket:
    """The hub's packet when the assistant does not answer: what the hub knows (who,
    through the channel's identity; the transcript is beside it), summarised in both
    languages, with a case reference of its own. Only the shop's signature verifies a
    customer here, as for the assistant (a PSID alone recalls nothing)."""
    verified_by = BY_SHOP_SIGNATURE if identity.get("shop_customer") else None
    packet = HandoffPacket(
        case_ref=case_ref,
        language=language,
        reason="assistant_unavailable",
        severity=Severity(level="medium", reasons=["assistant_unavailable"], notes=[why]),
        customer=Customer(
            id=str(identity.get("shop_customer") or ""),
            verified=verified_by is not None,
            verified_by=verified_by,
        ),
        summary=Summary(en="", vi=""),
    ).attach(conversation_id, channel)
    said = summary_words()
    return packet.copy(
        update={
            "summary": Summary(
                **{
                    lang: _say(said.assistant_unavailable, lang, why=why, last=last_message)
                    for lang in LANGUAGES
                }
            )
        }
    )
