"""The shop's recovery playbook (data/shop/playbook.yml): loading, validation, remedy choice.

A bad playbook is refused with `PlaybookError`, whose message names the file, the line
and the entry. `python -m actions.playbook [PATH]` checks a file and exits non-zero on
a bad one.

The actions read the playbook through `shop_playbook()`: loaded on first use (from
PLAYBOOK_PATH, else the shop's file), never at import. The action server's first use is
at start-up: rasa_sdk makes one of each action as it starts, and a PlaybookAction
(actions/base.py) loads the playbook when it is made, so the server refuses to start
with a bad playbook, naming the file and the line, and a broken edit never reaches
customers.
"""

from functools import lru_cache
import os
from pathlib import Path
import sys
from typing import Any, Dict, List, Literal, Optional

from pydantic import BaseModel, Extra, StrictBool, root_validator, validator

from contract import words
from contract.intents import COMPLAINT_TYPES, REMEDY_FAMILIES
from contract.language import LANGUAGES
from contract.words import Texts

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "data" / "shop" / "playbook.yml"
COMPLAINTS = (*COMPLAINT_TYPES, "cancel_order")  # each needs its playbook entry
DETAILS = ("order_id", "email")
TIERS = ("standard", "silver", "gold", "vip")
LABELS = ("talk_to_person", "yes_that_one", "something_else", "skip_detail", "another_order")
API_CALLS = ("cancel", "refund")  # what an `api` remedy may ask of the order backend (OrderActions)


class PlaybookError(words.WordFileError):
    """A bad playbook; the message names the file, the line and the entry."""


# --- the playbook's shape, checked by pydantic ------------------------------------------
# A new section is a new field on Playbook (and a model of its own); sections nobody
# reads yet are ignored. Remedies and rules refuse unknown keys: a
# typo there would silently change what customers are offered.


def _amount(value: Any) -> Optional[int]:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"expected a non-negative number, got {value!r}")
    return int(value)


def _choices(value: Any, allowed) -> Optional[List[str]]:
    if value is None:
        return None
    if not isinstance(value, list) or not value:
        raise ValueError("expected a non-empty list")
    unknown = [item for item in value if item not in allowed]
    if unknown:
        raise ValueError(f"unknown value {unknown[0]!r}; expected one of {sorted(allowed)}")
    return value


def _hours(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ValueError(f"expected a positive number of hours, got {value!r}")
    return float(value)


class Remedy(BaseModel):
    id: str = ""  # its key in the playbook
    label: Texts
    offer: Texts
    done: Texts  # said once it is carried out (by the backend, or when its task is done)
    promise: Texts  # said when it becomes a task: what the team will do, and that we'll write
    approval_limit: Optional[int] = None  # None: the bot may always grant it
    families: List[str] = []  # what a customer asking in words gets it by ("refund", ...)
    to_account: StrictBool = False  # paid into the shop account: verified customers only
    # How it is carried out: a task for the team (the default), or by the order backend
    # (`api`: api_calls in order, each an OrderActions call; on failure, a task).
    carried_out: Literal["task", "api"] = "task"
    api_calls: List[str] = []
    due_hours: float = 24.0  # a task is due this long after it is made

    class Config:
        extra = Extra.forbid

    _limit = validator("approval_limit", pre=True, allow_reuse=True)(_amount)
    _due = validator("due_hours", pre=True, allow_reuse=True)(_hours)

    @validator("families", pre=True)
    def _families(cls, value: Any) -> List[str]:
        return _choices(value, REMEDY_FAMILIES) or []

    @validator("api_calls", pre=True)
    def _api_calls(cls, value: Any) -> List[str]:
        calls = _choices(value, API_CALLS) or []
        if len(set(calls)) != len(calls):
            raise ValueError("each call at most once")
        return calls

    @root_validator(skip_on_failure=True)
    def _api_needs_calls(cls, values: Dict[str, Any]) -> Dict[str, Any]:
        if values.get("carried_out") == "api" and not values.get("api_calls"):
            raise ValueError(f"carried_out: api needs api_calls, a list of {list(API_CALLS)}")
        if values.get("carried_out") != "api" and values.get("api_calls"):
            raise ValueError("api_calls only with carried_out: api")
        return values

    @property
    def by_api(self) -> bool:
        return self.carried_out == "api"

    def within_limit(self, order_value: Optional[int]) -> bool:
        if self.approval_limit is None:
            return True
        return order_value is not None and order_value <= self.approval_limit


class RemedyRule(BaseModel):
    remedy: str
    order_status: Optional[List[str]] = None  # checked against the playbook's statuses
    min_value: Optional[int] = None
    max_value: Optional[int] = None
    tier: Optional[List[str]] = None
    repeat: Optional[StrictBool] = None

    class Config:
        extra = Extra.forbid

    _values = validator("min_value", "max_value", pre=True, allow_reuse=True)(_amount)

    @validator("order_status", pre=True)
    def _statuses(cls, value: Any) -> Optional[List[str]]:
        if value is not None and (not isinstance(value, list) or not value):
            raise ValueError("expected a non-empty list")
        return value

    @validator("tier", pre=True)
    def _tiers(cls, value: Any) -> Optional[List[str]]:
        return _choices(value, TIERS)

    @root_validator(skip_on_failure=True)
    def _range(cls, values: Dict[str, Any]) -> Dict[str, Any]:
        low, high = values.get("min_value"), values.get("max_value")
        if low is not None and high is not None and low > high:
            raise ValueError("min_value is above max_value")
        return values

    def applies(self, status: Optional[str], value: Optional[int], tier: str, repeat: bool) -> bool:
        if self.order_status is not None and status not in self.order_status:
            return False
        if self.min_value is not None and (value is None or value < self.min_value):
            return False
        if self.max_value is not None and (value is None or value > self.max_value):
            return False
        if self.tier is not None and tier not in self.tier:
            return False
        if self.repeat is not None and repeat != self.repeat:
            return False
        return True


class ComplaintRules(BaseModel):
    intent: str = ""  # its key in the playbook
    apologise_for: Optional[Texts] = None  # a noun phrase: "about <apologise_for>"
    severity: int
    details: List[str] = []
    remedies: List[RemedyRule]
    sorry_that: Optional[Texts] = None  # the apology: "I'm sorry <sorry_that>"
    label: Optional[Texts] = None  # its name on the "which of these?" buttons

    class Config:
        extra = Extra.forbid

    @validator("severity", pre=True)
    def _severity(cls, value: Any) -> int:
        if isinstance(value, bool) or value not in (0, 1, 2, 3):
            raise ValueError(f"severity must be 0, 1, 2 or 3, got {value!r}")
        return value

    @validator("details", pre=True)
    def _details(cls, value: Any) -> List[str]:
        if not isinstance(value, list) or any(d not in DETAILS for d in value):
            raise ValueError(f"details must be a list of {list(DETAILS)}")
        return value

    @validator("remedies", pre=True)
    def _some(cls, value: Any) -> Any:
        if not isinstance(value, list) or not value:
            raise ValueError("needs a non-empty list of remedies")
        return value

    @validator("sorry_that", "label", always=True)
    def _complaint_words(cls, value: Any, values: Dict[str, Any], field: Any) -> Any:
        # A complaint (something to apologise for) also needs its apology and its label.
        if value is None and values.get("apologise_for") is not None:
            raise ValueError(f"a complaint needs its '{field.name}' texts")
        return value


class Phrases(BaseModel):
    """The small words the actions put between texts, per language: how a list of
    options or of details is joined, and how each stored detail is named (with "{}")."""

    one_of: Texts  # before the last of several options: ", or "
    all_of: Texts  # before the last of several things: ", and "
    order_id: Texts
    email: Texts
    phone: Texts

    class Config:
        extra = Extra.forbid

    @validator("order_id", "email", "phone")
    def _has_slot(cls, value: Texts) -> Texts:
        if any("{}" not in text for text in value.values()):
            raise ValueError("each text needs a {} where the detail goes")
        return value


class Understanding(BaseModel):
    """When to ask "which of these?" rather than guess (actions/triage.py)."""

    complaint_at_least: float = 0.5  # P(complaint) from which a message is a complaint
    close_ratio: float = 0.3  # second complaint type at least this times the first: ask
    item_words: Dict[str, List[str]] = {}  # per language: what the shop sells

    class Config:
        extra = Extra.forbid

    @validator("complaint_at_least", "close_ratio", pre=True)
    def _share(cls, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
            raise ValueError(f"expected a number above 0 and at most 1, got {value!r}")
        return float(value)

    @validator("item_words", pre=True)
    def _words(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            raise ValueError(f"expected a list of words per language {list(LANGUAGES)}")
        for lang, listed in value.items():
            if lang not in LANGUAGES:
                raise ValueError(
                    f"unknown language {lang!r}; expected a list of words per language {list(LANGUAGES)}"
                )
            if not isinstance(listed, list) or not all(isinstance(w, str) and w.strip() for w in listed):
                raise ValueError(f"{lang}: expected a list of non-empty words")
        return value


class Playbook(BaseModel):
    currency: str = "VND"  # what order values and approval limits are counted in (ISO 4217)
    remedies: Dict[str, Remedy]
    complaints: Dict[str, ComplaintRules]
    order_status: Dict[str, Texts]
    labels: Dict[str, Texts]
    understanding: Understanding = Understanding()
    phrases: Phrases
    trace_due_hours: float = 24.0  # asking the carrier to trace a lost parcel: a task due then

    _trace_due = validator("trace_due_hours", pre=True, allow_reuse=True)(_hours)

    class Config:
        extra = Extra.ignore

    @validator("remedies")
    def _remedy_ids(cls, value: Dict[str, Remedy]) -> Dict[str, Remedy]:
        if not value:
            raise ValueError("no remedies defined")
        for rid, remedy in value.items():
            remedy.id = rid
        return value

    @validator("complaints")
    def _every_complaint(cls, value: Dict[str, ComplaintRules]) -> Dict[str, ComplaintRules]:
        missing = [intent for intent in COMPLAINTS if intent not in value]
        if missing:
            raise ValueError(f"missing entry for {missing[0]}")
        unknown = [intent for intent in value if intent not in COMPLAINTS]
        if unknown:
            raise ValueError(f"unknown complaint {unknown[0]!r}; expected one of {list(COMPLAINTS)}")
        for intent, rules in value.items():
            rules.intent = intent
        return value

    @validator("labels")
    def _every_label(cls, value: Dict[str, Texts]) -> Dict[str, Texts]:
        missing = [name for name in LABELS if name not in value]
        if missing:
            raise ValueError(f"missing label {missing[0]!r}")
        return value

    def eligible(
        self, intent: str, status: Optional[str], value: Optional[int], tier: str, repeat: bool
    ) -> List[Remedy]:
        """Remedies whose conditions hold, in the playbook's order of preference."""
        chosen: List[Remedy] = []
        for rule in self.complaints[intent].remedies:
            remedy = self.remedies[rule.remedy]
            if remedy not in chosen and rule.applies(status, value, tier, repeat):
                chosen.append(remedy)
        return chosen

    def find(self, wanted: str) -> List[Remedy]:
        """The remedy with that id (a button's payload) first, then the remedies of that
        family (a word the customer typed, from NLU), in file order. Both come as the same
        entity, and a family may share its name with a remedy: "doi hang" (replacement)
        must find the shop's exchange too."""
        exact = [self.remedies[wanted]] if wanted in self.remedies else []
        return exact + [r for r in self.remedies.values() if wanted in r.families and r not in exact]


class _PlaybookFile(BaseModel):
    playbook: Playbook


def _cross_references(file: _PlaybookFile) -> List[words.Problem]:
    """What pydantic cannot see alone: rules name defined remedies and statuses."""
    book = file.playbook
    problems: List[words.Problem] = []
    for intent, rules in book.complaints.items():
        for i, rule in enumerate(rules.remedies):
            at = ("playbook", "complaints", intent, "remedies", i)
            if rule.remedy not in book.remedies:
                problems.append(
                    (at + ("remedy",), f"unknown remedy {rule.remedy!r}; defined: {sorted(book.remedies)}")
                )
            for j, status in enumerate(rule.order_status or []):
                if status not in book.order_status:
                    problems.append(
                        (
                            at + ("order_status", j),
                            f"unknown value {status!r}; expected one of {sorted(book.order_status)}",
                        )
                    )
    return problems


def parse_playbook(text: str, source: str = "playbook") -> Playbook:
    """The playbook in `text`, checked (contract/words.py: every problem with its line)."""
    return words.parse(text, source, _PlaybookFile, _cross_references, PlaybookError).playbook


def load_playbook(path: Optional[Path] = None) -> Playbook:
    path = Path(path or os.environ.get("PLAYBOOK_PATH") or DEFAULT_PATH)
    return parse_playbook(path.read_text(encoding="utf-8"), str(path))


@lru_cache(maxsize=1)
def shop_playbook() -> Playbook:
    """The playbook the actions follow, loaded and checked once, on first use."""
    return load_playbook()


def main(argv: List[str]) -> int:
    try:
        book = load_playbook(Path(argv[0]) if argv else None)
    except (PlaybookError, OSError) as error:
        print(f"playbook refused: {error}", file=sys.stderr)
        return 1
    print(f"playbook ok: {len(book.remedies)} remedies, {len(book.complaints)} complaint types")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
