"""The port between the core and its channels (the widget, REST, Messenger, Zalo), as Rasa
gives each input channel one `on_new_message`: a channel gets a ChannelHost, the few
calls it needs, and offers the core a Channel, the few it needs back. A channel never
holds the core itself, nor reaches the conversation store past its host.
"""

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Protocol
import uuid

from bot.core.windows import Window
from contract.language import LANGUAGES

Message = Dict[str, Any]  # {"text"?, "buttons"?, "image"?, "agent"?, "id"?}


@dataclass
class Inbound:
    """One customer message, whatever channel it came from."""

    channel: str
    conversation_id: str
    text: str
    identity: Dict[str, Any] = field(default_factory=dict)
    message_id: str = ""
    page_language: str = ""  # the shop page's language, when the channel knows it
    client: str = ""  # a keyed hash of the customer's own address, when the channel sees it (the widget)

    def __post_init__(self) -> None:
        self.message_id = self.message_id or uuid.uuid4().hex
        if self.page_language not in LANGUAGES:
            self.page_language = ""  # anything else is ignored, never an error


class Undeliverable(Exception):
    """The channel may not carry this message now (e.g. Messenger's 24-hour rule, or Zalo
    refusing it): the outbox then takes it elsewhere (core/outbox.py)."""


class ChannelHost(Protocol):
    """What a channel may ask of the core (bot/core/turn.py Turn implements it)."""

    async def handle(self, inbound: Inbound) -> List[Message]:
        """Route one customer message; the replies of this turn (also transcribed)."""

    async def hold(self, inbound: Inbound) -> List[Message]:
        """Keep a message without acting on it yet (too many in flight): "one moment"."""

    async def attachment(self, inbound: Inbound, attachments: List[Dict[str, Any]]) -> List[Message]:
        """A file or image the customer sent: transcribed and acknowledged."""

    async def language_of(self, conversation_id: str) -> Optional[str]:
        """The conversation's language, or None for one not started yet."""

    async def last_customer_at(self, conversation_id: str) -> float:
        """When the customer last wrote (0: never), for the channel's time rules."""

    async def seen(self, conversation_id: str, message_id: Any) -> None:
        """The customer's widget rendered everything up to this message."""


class Channel(Protocol):
    """What every channel offers the core."""

    async def push(self, conversation_id: str, messages: List[Message], sender: str = "bot") -> None:
        """Deliver outside a customer's request, or raise Undeliverable."""

    async def allows(self, conversation_id: str, sender: str) -> bool:
        """Whether `sender` ("bot" or "agent") may write to this customer now."""

    async def window(self, conversation_id: str) -> Optional[Window]:
        """Where the conversation stands in the channel's reply window (core/windows.py;
        None: the channel has no window)."""

    def describe(self) -> Dict[str, Any]:
        """What the channel is, for /health: {"name", "delivery", "time_rule"}."""
