"""The agent console's words (data/hub/console.yml) and first-response targets,
validated at start-up: every label needs every language, every severity a target.

Remedy names and order statuses are the playbook's own words (data/shop/playbook.yml, or PLAYBOOK_PATH
as for the assistant), so the console
names a remedy exactly as the owner wrote it. `as_json()` is what GET /api/agent/labels
serves: {"languages", "labels": {group: {key: {lang: text}}}, "first_response_minutes"}.
"""

import os
from pathlib import Path
from typing import Any, Dict, Optional

import yaml

from bot.paths import HUB_WORDS, SHOP
from contract.handoff import REASONS, SEVERITY_REASONS
from contract.language import LANGUAGES

CONSOLE_FILE = HUB_WORDS / "console.yml"
PLAYBOOK_FILE = SHOP / "playbook.yml"
SEVERITIES = ("critical", "high", "medium", "low", "unknown")


class ConsoleLabels:
    def __init__(self, path: Optional[Path] = None, playbook: Optional[Path] = None) -> None:
        path = path or CONSOLE_FILE
        playbook = playbook or Path(os.environ.get("PLAYBOOK_PATH") or PLAYBOOK_FILE)  # as actions/
        data = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("console")
        if not isinstance(data, dict):
            raise ValueError(f"{path}: needs a top-level 'console' mapping")
        groups = data.get("labels")
        if not isinstance(groups, dict) or not groups:
            raise ValueError(f"{path}: needs 'console.labels', groups of labels")
        for group, entries in groups.items():
            if not isinstance(entries, dict) or not entries:
                raise ValueError(f"{path}: label group {group!r} must map keys to texts")
            for key, entry in entries.items():
                self._check(path, f"{group}.{key}", entry)
        # Words for every code the handoff packet may carry (contract/handoff.py).
        for group, codes in (("reasons", REASONS), ("severity_reasons", SEVERITY_REASONS)):
            missing = [code for code in codes if code != "base" and code not in groups.get(group, {})]
            if missing:
                raise ValueError(f"{path}: label group {group!r} lacks the packet's codes {missing}")
        targets = data.get("first_response_minutes")
        if not isinstance(targets, dict):
            raise ValueError(f"{path}: needs 'console.first_response_minutes'")
        for severity in SEVERITIES:
            minutes = targets.get(severity)
            if isinstance(minutes, bool) or not isinstance(minutes, (int, float)) or minutes <= 0:
                raise ValueError(
                    f"{path}: first_response_minutes.{severity} must be a positive number of minutes"
                )
        book = yaml.safe_load(playbook.read_text(encoding="utf-8"))["playbook"]
        self.labels: Dict[str, Dict[str, Dict[str, str]]] = {
            **groups,
            "remedies": {rid: dict(r["label"]) for rid, r in book["remedies"].items()},
            "order_status": {status: dict(words) for status, words in book["order_status"].items()},
        }
        for group in ("remedies", "order_status"):
            for key, entry in self.labels[group].items():
                self._check(playbook, f"{group}.{key}", entry)
        self.first_response_minutes = {s: targets[s] for s in SEVERITIES}

    @staticmethod
    def _check(path: Path, name: str, entry: Any) -> None:
        if not isinstance(entry, dict):
            raise ValueError(f"{path}: label {name!r} must give a text per language {list(LANGUAGES)}")
        missing = [
            lang for lang in LANGUAGES if not isinstance(entry.get(lang), str) or not entry[lang].strip()
        ]
        if missing:
            raise ValueError(f"{path}: label {name!r} lacks {missing}")

    def as_json(self) -> Dict[str, Any]:
        return {
            "languages": list(LANGUAGES),
            "labels": self.labels,
            "first_response_minutes": self.first_response_minutes,
        }
