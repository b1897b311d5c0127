"""The hub's own words to customers, from data/hub/messages.yml, in their language."""

from pathlib import Path
from typing import Dict, List, Optional

import yaml

from bot.paths import HUB_WORDS
from contract.language import LANGUAGES

MESSAGES_FILE = HUB_WORDS / "messages.yml"


class Texts:
    def __init__(self, path: Path = MESSAGES_FILE) -> None:
        self.messages = yaml.safe_load(path.read_text(encoding="utf-8"))["hub_messages"]
        for key, value in self.messages.items():
            entries = value if isinstance(value, list) else [value]
            for entry in entries:
                missing = [lang for lang in LANGUAGES if not entry.get(lang)]
                if missing:
                    raise ValueError(f"{path}: message {key!r} lacks {missing}")

    def text(self, key: str, language: Optional[str], **values) -> str:
        entry = self.messages[key]
        return entry.get(language or "en", entry["en"]).format(**values)

    def message(self, key: str, language: Optional[str], **values) -> Dict:
        return {"text": self.text(key, language, **values)}

    def followup_buttons(self, language: Optional[str]) -> List[Dict[str, str]]:
        return [
            {"title": b.get(language or "en", b["en"]), "payload": b["payload"]}
            for b in self.messages["followup_buttons"]
        ]
