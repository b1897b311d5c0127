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
    # The channel's own limits this message counts against, bucket name -> subject
    # (bot/core/limits.py Limits: {"socket": sid, "address": ip}); the core adds the
    # conversation's bucket and byte budget.
    limits: Dict[str, str] = field(default_factory=dict)
    client: str = ""  # a keyed hash of the customer's own address, when the channel sees it (the widget)

    def __post_init__(self) -> None:
        self.message_id = self.message_id or uuid.uuid4().hex
        if self.page_language not in LANGUAGES:
            self.page_language = ""  # anything else is ignored, never an error


class Undeliverable(Exception):
    """The channel may not carry this message now (e.g. Messenger's 24-hour rule, or Zalo
    refusing it): the outbox then takes it elsewhere (core/outbox.py)."""


class Refused(Exception):
    """A limit refused the customer's message before anything was stored (nothing is
    transcribed, nothing reaches the assistant or the agents): `reply` is what to tell
    the customer, in their language, and `wait` when to try again (0: no use trying,
    the conversation's byte budget is spent)."""

    def __init__(self, reply: Message, wait: float = 0.0) -> None:
        super().__init__(reply.get("text", ""))
        self.reply = reply
        self.wait = wait


class ChannelHost(Protocol):
    """What a channel may ask of the core (bot/core/turn.py Turn implements it)."""

    async def handle(self, inbound: Inbound) -> List[Message]:
        """Route one customer message; the replies of this turn (also transcribed).
        Raises Refused, having stored nothing, when a limit refuses it."""

    async def busy(self, inbound: Inbound) -> Message:
        """The polite "one moment" for a message the channel will not pass on (too many
        of its own in flight): nothing is stored."""

    async def attachment(self, inbound: Inbound, attachments: List[Dict[str, Any]]) -> List[Message]:
        """A file or image the customer sent: transcribed and acknowledged (or Refused)."""

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
