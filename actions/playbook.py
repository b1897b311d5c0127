"""The shop's recovery playbook (data/shop/playbook.yml): loading, validation, remedy choice.

A bad playbook is refused with `PlaybookError`, whose message names the file, the line
and the entry. `python -m actions.playbook [PATH]` checks a file and exits non-zero on
a bad one; the action server loads it at start-up (actions/complaint.py imports
`PLAYBOOK`), so a broken edit never reaches customers.
"""

from dataclasses import dataclass, field
import os
from pathlib import Path
import sys
from typing import Any, Dict, List, Optional, Tuple

import yaml

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "data" / "shop" / "playbook.yml"
LANGUAGES = ("en", "vi")
COMPLAINTS = (
    "complain_delivery", "complain_damaged", "complain_wrong_item", "complain_defect",
    "complain_billing", "complain_refund", "complain_staff", "complain_wait",
    "complain_account", "cancel_order",
)
DETAILS = ("order_id", "email")
TIERS = ("standard", "silver", "gold", "vip")
LABELS = ("talk_to_person", "yes_that_one", "something_else", "skip_detail", "another_order")
RULE_KEYS = {"remedy", "order_status", "min_value", "max_value", "tier", "repeat"}


class PlaybookError(ValueError):
    pass


@dataclass
class Remedy:
    id: str
    label: Dict[str, str]
    offer: Dict[str, str]
    done: Dict[str, str]
    approval_limit: Optional[int]  # None: the bot may always grant it

    def within_limit(self, order_value: Optional[int]) -> bool:
        if self.approval_limit is None:
            return True
        return order_value is not None and order_value <= self.approval_limit


@dataclass
class RemedyRule:
    remedy: str
    order_status: Optional[List[str]] = None
    min_value: Optional[int] = None
    max_value: Optional[int] = None
    tier: Optional[List[str]] = None
    repeat: Optional[bool] = None

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


@dataclass
class ComplaintRules:
    intent: str
    apologise_for: Optional[Dict[str, str]]  # a noun phrase: "about <apologise_for>"
    severity: int
    details: List[str]
    remedies: List[RemedyRule] = field(default_factory=list)
    sorry_that: Optional[Dict[str, str]] = None  # the apology: "I'm sorry <sorry_that>"
    label: Optional[Dict[str, str]] = None  # its name on the "which of these?" buttons


@dataclass
class Understanding:
    """When to ask "which of these?" rather than guess (actions/triage.py)."""

    complaint_at_least: float = 0.5  # P(complaint) from which a message is a complaint
    close_ratio: float = 0.3  # second complaint type at least this times the first: ask
    item_words: Dict[str, List[str]] = field(default_factory=dict)  # per language: what the shop sells


@dataclass
class Playbook:
    currency: str
    remedies: Dict[str, Remedy]
    complaints: Dict[str, ComplaintRules]
    order_status: Dict[str, Dict[str, str]]
    labels: Dict[str, Dict[str, str]]
    understanding: Understanding = field(default_factory=Understanding)

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
        """Remedies matching a remedy id or a family word from NLU ("refund", "reship")."""
        if wanted in self.remedies:
            return [self.remedies[wanted]]
        return [r for r in self.remedies.values() if r.id.startswith(wanted) or wanted in r.id]


def _line_index(node: yaml.Node, path: Tuple = (), index: Optional[Dict] = None) -> Dict:
    """Map each path in the YAML document to its 1-based line."""
    index = {} if index is None else index
    index[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            _line_index(value, path + (key.value,), index)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _line_index(item, path + (i,), index)
    return index


class _Checker:
    def __init__(self, source: str, lines: Dict) -> None:
        self.source = source
        self.lines = lines

    def fail(self, path: Tuple, problem: str) -> None:
        line = None
        for cut in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:cut]))
            if line:
                break
        where = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in path) or "top level"
        raise PlaybookError(f"{self.source}, line {line} ({where}): {problem}")

    def mapping(self, value: Any, path: Tuple) -> Dict:
        if not isinstance(value, dict):
            self.fail(path, "expected a mapping")
        return value

    def texts(self, value: Any, path: Tuple) -> Dict[str, str]:
        value = self.mapping(value, path)
        for lang in LANGUAGES:
            if not isinstance(value.get(lang), str) or not value[lang].strip():
                self.fail(path, f"needs a non-empty '{lang}' text")
        return value

    def share(self, value: Any, path: Tuple) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
            self.fail(path, f"expected a number above 0 and at most 1, got {value!r}")
        return float(value)

    def number(self, value: Any, path: Tuple, optional: bool = True) -> Optional[int]:
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            self.fail(path, f"expected a non-negative number, got {value!r}")
        return int(value)

    def choices(self, value: Any, allowed, path: Tuple) -> List[str]:
        if not isinstance(value, list) or not value:
            self.fail(path, "expected a non-empty list")
        for i, item in enumerate(value):
            if item not in allowed:
                self.fail(path + (i,), f"unknown value {item!r}; expected one of {sorted(allowed)}")
        return value


def parse_playbook(text: str, source: str = "playbook") -> Playbook:
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise PlaybookError(f"{source}: not valid YAML: {error}") from error
    check = _Checker(source, _line_index(node) if node is not None else {})
    root = check.mapping(data, ())
    book = check.mapping(root.get("playbook"), ("playbook",))
    p = ("playbook",)

    statuses = check.mapping(book.get("order_status"), p + ("order_status",))
    for status, texts in statuses.items():
        check.texts(texts, p + ("order_status", status))
    labels = check.mapping(book.get("labels"), p + ("labels",))
    for name in LABELS:
        check.texts(labels.get(name), p + ("labels", name))

    remedies: Dict[str, Remedy] = {}
    for rid, entry in check.mapping(book.get("remedies"), p + ("remedies",)).items():
        at = p + ("remedies", rid)
        entry = check.mapping(entry, at)
        unknown = set(entry) - {"label", "offer", "done", "approval_limit"}
        if unknown:
            check.fail(at, f"unknown keys {sorted(unknown)}")
        remedies[rid] = Remedy(
            id=rid,
            label=check.texts(entry.get("label"), at + ("label",)),
            offer=check.texts(entry.get("offer"), at + ("offer",)),
            done=check.texts(entry.get("done"), at + ("done",)),
            approval_limit=check.number(entry.get("approval_limit"), at + ("approval_limit",)),
        )
    if not remedies:
        check.fail(p + ("remedies",), "no remedies defined")

    complaints: Dict[str, ComplaintRules] = {}
    section = check.mapping(book.get("complaints"), p + ("complaints",))
    for intent in COMPLAINTS:
        if intent not in section:
            check.fail(p + ("complaints",), f"missing entry for {intent}")
    for intent, entry in section.items():
        at = p + ("complaints", intent)
        if intent not in COMPLAINTS:
            check.fail(at, f"unknown complaint {intent!r}; expected one of {list(COMPLAINTS)}")
        entry = check.mapping(entry, at)
        apologise = entry.get("apologise_for")
        severity = entry.get("severity")
        if isinstance(severity, bool) or severity not in (0, 1, 2, 3):
            check.fail(at + ("severity",), f"severity must be 0, 1, 2 or 3, got {severity!r}")
        details = entry.get("details", [])
        if not isinstance(details, list) or any(d not in DETAILS for d in details):
            check.fail(at + ("details",), f"details must be a list of {list(DETAILS)}")
        rules = entry.get("remedies")
        if not isinstance(rules, list) or not rules:
            check.fail(at + ("remedies",), "needs a non-empty list of remedies")
        parsed = []
        for i, rule in enumerate(rules):
            rat = at + ("remedies", i)
            rule = check.mapping(rule, rat)
            unknown = set(rule) - RULE_KEYS
            if unknown:
                check.fail(rat, f"unknown keys {sorted(unknown)}; allowed: {sorted(RULE_KEYS)}")
            if rule.get("remedy") not in remedies:
                check.fail(rat + ("remedy",),
                           f"unknown remedy {rule.get('remedy')!r}; defined: {sorted(remedies)}")
            low = check.number(rule.get("min_value"), rat + ("min_value",))
            high = check.number(rule.get("max_value"), rat + ("max_value",))
            if low is not None and high is not None and low > high:
                check.fail(rat, "min_value is above max_value")
            repeat = rule.get("repeat")
            if repeat is not None and not isinstance(repeat, bool):
                check.fail(rat + ("repeat",), "repeat must be true or false")
            parsed.append(RemedyRule(
                remedy=rule["remedy"],
                order_status=(check.choices(rule["order_status"], statuses, rat + ("order_status",))
                              if "order_status" in rule else None),
                min_value=low,
                max_value=high,
                tier=check.choices(rule["tier"], TIERS, rat + ("tier",)) if "tier" in rule else None,
                repeat=repeat,
            ))
        unknown = set(entry) - {"apologise_for", "sorry_that", "label", "severity", "details", "remedies"}
        if unknown:
            check.fail(at, f"unknown keys {sorted(unknown)}")
        # A complaint (something to apologise for) also needs its apology and its label.
        complaint = apologise is not None
        complaints[intent] = ComplaintRules(
            intent=intent,
            apologise_for=None if apologise is None else check.texts(apologise, at + ("apologise_for",)),
            severity=severity,
            details=details,
            remedies=parsed,
            sorry_that=check.texts(entry.get("sorry_that"), at + ("sorry_that",)) if complaint else None,
            label=check.texts(entry.get("label"), at + ("label",)) if complaint else None,
        )
    knobs = check.mapping(book.get("understanding", {}), p + ("understanding",))
    unknown = set(knobs) - {"complaint_at_least", "close_ratio", "item_words"}
    if unknown:
        check.fail(p + ("understanding",), f"unknown keys {sorted(unknown)}")
    words = check.mapping(knobs.get("item_words", {}), p + ("understanding", "item_words"))
    for lang, listed in words.items():
        at = p + ("understanding", "item_words", lang)
        if lang not in LANGUAGES or not isinstance(listed, list) or not all(
                isinstance(w, str) and w.strip() for w in listed):
            check.fail(at, f"expected a list of words per language {list(LANGUAGES)}")
    understanding = Understanding(item_words=words, **{
        name: check.share(knobs[name], p + ("understanding", name))
        for name in knobs if name != "item_words"})
    return Playbook(
        currency=str(book.get("currency", "VND")),
        remedies=remedies,
        complaints=complaints,
        order_status=statuses,
        labels=labels,
        understanding=understanding,
    )


def load_playbook(path: Optional[Path] = None) -> Playbook:
    path = Path(path or os.environ.get("PLAYBOOK_PATH", DEFAULT_PATH))
    return parse_playbook(path.read_text(encoding="utf-8"), str(path))


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
