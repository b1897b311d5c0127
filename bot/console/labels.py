"""The agent console's words (data/hub/console.yml) and first-response targets, checked
at start-up (contract/words.py): every label in every language, every severity a target,
words for every code the handoff packet may carry.

Remedy names and order statuses are the playbook's own words (data/shop/playbook.yml, or
PLAYBOOK_PATH as for the assistant), so the console names a remedy exactly as the owner
wrote it. `as_json()` is what GET /api/agent/labels serves.
"""

import os
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

from pydantic import BaseModel, Extra, StrictFloat, StrictInt, validator

from bot.paths import HUB_WORDS, SHOP
from contract import words
from contract.handoff import REASONS, SEVERITY_REASONS
from contract.language import LANGUAGES

CONSOLE_FILE = HUB_WORDS / "console.yml"
PLAYBOOK_FILE = SHOP / "playbook.yml"
Group = Dict[str, words.Texts]


class Targets(BaseModel):
    """Minutes to a first reply, per severity."""

    critical: Union[StrictInt, StrictFloat]
    high: Union[StrictInt, StrictFloat]
    medium: Union[StrictInt, StrictFloat]
    low: Union[StrictInt, StrictFloat]
    unknown: Union[StrictInt, StrictFloat]

    @validator("*", pre=True)
    def _minutes(cls, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise ValueError("must be a positive number of minutes")
        return value


class ConsoleWords(BaseModel):
    first_response_minutes: Targets
    labels: Dict[str, Group]

    @validator("labels")
    def _groups_not_empty(cls, value: Dict[str, Group]) -> Dict[str, Group]:
        empty = [group for group, entries in value.items() if not entries]
        if empty:
            raise ValueError(f"label group {empty[0]!r} must map keys to texts")
        return value


class ConsoleFile(BaseModel):
    console: ConsoleWords


def packet_codes(book: ConsoleFile) -> List[words.Problem]:
    """Words for every code the handoff packet may carry (contract/handoff.py)."""
    problems: List[words.Problem] = []
    for group, codes in (("reasons", REASONS), ("severity_reasons", SEVERITY_REASONS)):
        missing = [
            code for code in codes if code != "base" and code not in book.console.labels.get(group, {})
        ]
        if missing:
            problems.append((("console", "labels", group), f"lacks the packet's codes {missing}"))
    return problems


class _Remedy(BaseModel, extra=Extra.ignore):
    label: words.Texts


class _Playbook(BaseModel, extra=Extra.ignore):
    remedies: Dict[str, _Remedy]
    order_status: Group


class PlaybookWords(BaseModel, extra=Extra.ignore):
    """The part of the playbook the console shows (the assistant checks the rest)."""

    playbook: _Playbook


class ConsoleLabels:
    def __init__(self, path: Optional[Path] = None, playbook: Optional[Path] = None) -> None:
        console = words.load(path or CONSOLE_FILE, ConsoleFile, packet_codes).console
        book = words.load(
            playbook or Path(os.environ.get("PLAYBOOK_PATH") or PLAYBOOK_FILE),
            PlaybookWords,  # as actions/
        ).playbook
        self.labels: Dict[str, Dict[str, Dict[str, str]]] = {
            **{
                group: {key: entry.dict() for key, entry in entries.items()}
                for group, entries in console.labels.items()
            },
            "remedies": {rid: remedy.label.dict() for rid, remedy in book.remedies.items()},
            "order_status": {status: entry.dict() for status, entry in book.order_status.items()},
        }
        self.first_response_minutes = console.first_response_minutes.dict()

    def as_json(self) -> Dict[str, Any]:
        return {
            "languages": list(LANGUAGES),
            "labels": self.labels,
            "first_response_minutes": self.first_response_minutes,
        }
