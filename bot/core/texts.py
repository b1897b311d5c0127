"""The hub's own words to customers (data/hub/messages.yml), in their language, checked
at start-up (contract/words.py): every message and button in every language."""

from pathlib import Path
from typing import Dict, List, Optional

from pydantic import BaseModel, StrictStr

from bot.paths import HUB_WORDS
from contract import words

MESSAGES_FILE = HUB_WORDS / "messages.yml"


class Button(words.Texts):
    """A title per language, and what the button sends."""

    payload: StrictStr


class HubWords(BaseModel):
    hub_messages: Dict[str, words.Texts]
    hub_buttons: Dict[str, List[Button]]


class Texts:
    def __init__(self, path: Path = MESSAGES_FILE) -> None:
        loaded = words.load(path, HubWords)
        self.messages = {key: entry.dict() for key, entry in loaded.hub_messages.items()}
        self.button_sets = {key: [b.dict() for b in entries] for key, entries in loaded.hub_buttons.items()}

    def text(self, key: str, language: Optional[str], **values) -> str:
        return words.pick(self.messages[key], language).format(**values)

    def message(self, key: str, language: Optional[str], **values) -> Dict:
        return {"text": self.text(key, language, **values)}

    def buttons(self, key: str, language: Optional[str]) -> List[Dict[str, str]]:
        """A set of buttons (hub_buttons), titled in `language`."""
        return [{"title": words.pick(b, language), "payload": b["payload"]} for b in self.button_sets[key]]
