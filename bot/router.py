"""Routes every customer message: to Rasa while the bot has the conversation, to the
agents once it is queued or owned, and never loses a word when Rasa is away.

Channels (widget, REST, Messenger) normalise what arrives into an `Inbound` and deliver
what goes out; `push` reaches a customer outside a request (agent replies, reassurance).

Rasa reads any text starting with "/" as an intent. Customers may send only the
payloads of the bot's own buttons that way; anything else (e.g. "/agent_handback",
meant for the hub) reaches Rasa as plain text without its slashes.
"""

from dataclasses import dataclass, field
import logging
import re
import time
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Protocol, Set, Tuple
import uuid

from bot import limits
from bot.catchup import acknowledge
from bot.contacts import email_of
from bot.conversations import Conversation, ConversationStore
from bot.hours import local_now, parse_hours, reply_by
from bot.rasa_client import RasaClient, RasaUnavailable
from bot.settings import Settings
from bot.texts import Texts
from contract import handoff
from contract.case import new_case_ref
from contract.identity import mask_email
from contract.intents import COMPLAINT_TYPES
from contract.language import LANGUAGES, decide

if TYPE_CHECKING:  # bot.callback needs the router's types, not the other way round
    from bot.callback import CallBacks

log = logging.getLogger(__name__)
FOLLOWUP_PAYLOADS = {"/followup_call": "call", "/followup_email": "email"}
HANDBACK_MESSAGE = "/agent_handback"
CUSTOMER_INTENTS = frozenset(
    {"greet", "affirm", "deny", "request_human", "choose_remedy", "rate", "inform"}
    # the "which of these?" buttons (actions/triage.py)
    | set(COMPLAINT_TYPES)
)

INTENT_NAME_RE = re.compile(r"/([^{@]+)")  # how Rasa reads the intent name after the "/"
LEADING_SLASHES_RE = re.compile(r"^[\s/]+")


def for_rasa(text: str) -> str:
    """The customer's text as Rasa may see it: a button payload, or plain text."""
    text = text.strip()
    match = INTENT_NAME_RE.match(text)
    if match is None or match.group(1).strip() in CUSTOMER_INTENTS:
        return text
    return LEADING_SLASHES_RE.sub("", text) or "?"  # only slashes: Rasa still needs some text


@dataclass
class Inbound:
    """One customer message, whatever channel it came from."""

    channel: str
    conversation_id: str
    text: str
    identity: Dict[str, Any] = field(default_factory=dict)
    message_id: str = ""
    page_language: str = ""  # the shop page's language, when the channel knows it

    def __post_init__(self) -> None:
        self.message_id = self.message_id or uuid.uuid4().hex
        if self.page_language not in LANGUAGES:
            self.page_language = ""  # anything else is ignored, never an error


class Undeliverable(Exception):
    """The channel may not carry this message now (e.g. Messenger's 24-hour rule)."""


class Channel(Protocol):
    """What every channel (bot/widget.py, bot/rest.py, bot/messenger.py) offers the router."""

    async def push(self, conversation_id: str, messages: List[Dict[str, Any]], sender: str = "bot") -> None:
        """Deliver outside a customer's request, or raise Undeliverable."""

    async def allows(self, conversation_id: str, sender: str) -> bool:
        """Whether `sender` ("bot" or "agent") may write to this customer now."""

    async def window(self, conversation_id: str) -> Optional[Dict[str, Any]]:
        """Where the conversation stands in the channel's time rules (None: no rule)."""

    def describe(self) -> Dict[str, Any]:
        """What the channel is, for /health: {"name", "delivery", "time_rule"}."""


def relayable(replies: List[Dict[str, Any]]) -> Tuple[List[Dict[str, Any]], Optional[Any]]:
    """Rasa's replies as the messages a customer may get (text, buttons, image) and the
    handoff packet, if one came (the custom payload {"handoff": ...}, for agents only)."""
    messages, packet = [], None
    for reply in replies:
        custom = reply.get("custom") or {}
        if isinstance(custom, dict) and "handoff" in custom:
            packet = custom["handoff"]
            continue
        message = {k: reply[k] for k in ("text", "buttons", "image") if reply.get(k)}
        if message:
            messages.append(message)
    return messages, packet


def joined(lead: Optional[Dict[str, Any]], message: Dict[str, Any]) -> Dict[str, Any]:
    """`message` with the text-only `lead` before its text: one chat bubble."""
    if lead is None:
        return message
    return {**message, "text": f"{lead['text']} {message['text']}"}


class Router:
    def __init__(
        self,
        store: ConversationStore,
        rasa: RasaClient,
        texts: Texts,
        settings: Settings,
        channels: Optional[Dict[str, Channel]] = None,
    ) -> None:
        self.store = store
        self.rasa = rasa
        self.texts = texts
        self.settings = settings
        self.channels: Dict[str, Channel] = channels or {}
        self.callbacks: Optional[CallBacks] = None  # set by the app
        self._routing: Set[Tuple[str, str]] = set()  # (conversation, message id) being routed here

    async def handle(self, inbound: Inbound) -> List[Dict[str, Any]]:
        """Process one customer message; returns the replies for this turn."""
        cid = inbound.conversation_id
        conv = await self.store.get_or_create(cid, inbound.channel, inbound.identity)
        seen = await self.store.log_inbound(cid, inbound.text, inbound.message_id)
        key = (cid, inbound.message_id)
        # "taken": transcribed by an attempt that failed before its end (e.g. Redis went
        # away): the retry is routed again rather than answered with nothing, unless that
        # attempt is still running here (a duplicate sent at the same time).
        if seen not in ("new", "taken") or key in self._routing:
            return []  # a redelivery of something already handled
        self._routing.add(key)
        try:
            replies = await self._route(conv, inbound)
        finally:
            self._routing.discard(key)
        await self.store.handled(cid, inbound.message_id)
        return replies

    async def _route(self, conv: Conversation, inbound: Inbound) -> List[Dict[str, Any]]:
        cid = conv.id
        language = decide(inbound.text, conv.language)  # the one decision (contract/language.py)
        if language != conv.language:
            conv.language = language
            await self.store.update(cid, language=language)
        if await limits.hit(self.store.redis, limits.MESSAGES_PER_CONVERSATION, cid) is not None:
            return await self._one_moment(conv)  # transcribed above: nothing is lost
        if conv.state == "closed":
            conv.state = "bot"  # a new contact after a resolved case starts with the bot
            await self.store.update(cid, state="bot")
        if conv.state == "bot":
            return await self._to_rasa(conv, inbound)
        if conv.state == "queued":
            return await self._while_queued(conv, inbound)
        return []  # owned by an agent: the console shows it live

    async def hold(self, inbound: Inbound) -> List[Dict[str, Any]]:
        """Keep a message without acting on it yet (the customer's channel has too many
        messages in flight): transcribed for the agents, and a polite "one moment"."""
        conv = await self.store.get_or_create(inbound.conversation_id, inbound.channel, inbound.identity)
        if await self.store.log_inbound(conv.id, inbound.text, inbound.message_id) != "new":
            return []
        replies = await self._one_moment(conv)
        await self.store.handled(conv.id, inbound.message_id)
        return replies

    async def _one_moment(self, conv: Conversation) -> List[Dict[str, Any]]:
        reply = self.texts.message("one_moment", conv.language)
        await self.store.log(conv.id, "bot", reply["text"])
        return [reply]

    async def _to_rasa(self, conv: Conversation, inbound: Inbound) -> List[Dict[str, Any]]:
        metadata = {"channel": conv.channel, "identity": inbound.identity, "message_id": inbound.message_id}
        if inbound.page_language:  # the greeting's language until the customer writes
            metadata["page_language"] = inbound.page_language
        try:
            replies = await self.rasa.send(conv.id, for_rasa(inbound.text), metadata)
            if not replies:
                raise RasaUnavailable("no reply (is the action server up?)")
        except RasaUnavailable as error:
            return await self._assistant_unavailable(conv, str(error))
        return await self._relay(conv, replies)

    async def _relay(self, conv: Conversation, replies: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        out, packet = relayable(replies)
        # A handoff is one message: the assistant's handoff line (plain text, last) and the
        # hub's word on when someone replies, which only the hub knows (queue or hours).
        lead = out.pop() if packet is not None and out and set(out[-1]) == {"text"} else None
        for message in out:
            await self._transcribe(conv, "bot", message)
        if packet is not None:  # its language only echoes the hub's (contract/language.py)
            out += await self._queue(conv, packet, lead)
        return out

    async def _transcribe(self, conv: Conversation, sender: str, message: Dict[str, Any]) -> None:
        await self.store.log(
            conv.id, sender, message.get("text", ""), {k: v for k, v in message.items() if k != "text"}
        )

    async def _queue(
        self, conv: Conversation, packet: Any, lead: Optional[Dict[str, Any]] = None
    ) -> List[Dict[str, Any]]:
        """Queue for a person with the packet. The hub's own fields are set here; a packet
        this hub cannot read (another schema version) is kept raw, for the console to show.
        `lead`, a text-only message, opens the reply (one message, transcribed once)."""
        typed = handoff.read_packet(packet)
        if typed is not None:
            typed = typed.attach(conv.id, conv.channel)
            stored = typed.payload()
        else:
            log.warning(
                "handoff packet of %s is not schema %s: kept as it came", conv.id, handoff.SCHEMA_VERSION
            )
            stored = {
                **(packet if isinstance(packet, dict) else {"raw": packet}),
                "conversation_id": conv.id,
                "channel": conv.channel,
            }
        severity = typed.severity.level if typed else "medium"
        if not await self.store.enqueue(conv.id, severity, stored, conv.language):
            return await self._already_handed_off(conv, lead)
        position = await self.store.position(conv.id)
        if await self.store.agents_online(self.settings.agent_online_seconds):
            message = self.texts.message(
                "queued", conv.language, position=position, minutes=position * self.settings.minutes_per_case
            )
        else:
            when = self._reply_by(conv.language, position)
            email = email_of(typed) if self.settings.email_enabled else ""
            key = (
                "no_agent_online"
                if not self.settings.email_enabled
                else "no_agent_online_email_known"
                if email
                else "no_agent_online_email_unknown"
            )
            message = {
                **self.texts.message(key, conv.language, reply_by=when, email=mask_email(email)),
                "buttons": self.texts.followup_buttons(conv.language),
            }
        message = joined(lead, message)
        await self.store.log(
            conv.id, "bot", message["text"], {k: v for k, v in message.items() if k != "text"}
        )
        return [message]

    async def _already_handed_off(
        self, conv: Conversation, lead: Optional[Dict[str, Any]] = None
    ) -> List[Dict[str, Any]]:
        """A handoff while the conversation is already queued or with an agent (a repeat,
        or concurrent messages): its place and agent stay, nothing new reaches the agents."""
        current = await self.store.get(conv.id)
        if current is None or current.state != "queued":
            # An agent has it: the console shows the customer's messages live.
            if lead is not None:
                await self.store.log(conv.id, "bot", lead["text"])
            return [lead] if lead is not None else []
        reply = joined(lead, await self._added_to_case(conv))
        await self.store.log(conv.id, "bot", reply["text"])
        return [reply]

    def _reply_by(self, language: str, position: int) -> str:
        """When a person will reply while nobody is online: from the opening hours."""
        return reply_by(
            local_now(self.settings.support_utc_offset),
            parse_hours(self.settings.support_hours),
            self.settings.minutes_per_case * max(position, 1) + 30,
            language,
            self.texts,
        )

    async def _added_to_case(self, conv: Conversation) -> Dict[str, Any]:
        position = await self.store.position(conv.id)
        # The same word on when as the handoff gave: never "in about 20 minutes" to
        # someone told the team is back tomorrow morning.
        if await self.store.agents_online(self.settings.agent_online_seconds):
            wait = self.texts.text(
                "queued", conv.language, position=position, minutes=position * self.settings.minutes_per_case
            )
        else:
            wait = self.texts.text(
                "queued_offline", conv.language, reply_by=self._reply_by(conv.language, position)
            )
        return {"text": self.texts.text("added_to_case", conv.language) + " " + wait}

    async def _assistant_unavailable(self, conv: Conversation, why: str) -> List[Dict[str, Any]]:
        """Rasa is away: apologise at once and queue for a person with what we have (the
        same packet type as the assistant's, summarised in both languages)."""
        transcript = await self.store.transcript(conv.id)
        last = next((t["text"] for t in reversed(transcript) if t["from"] == "customer"), "")
        packet = handoff.assistant_away(
            conv.id, conv.channel, conv.identity, conv.language, new_case_ref(), why, last
        )
        apology = self.texts.message("assistant_unavailable", conv.language, case_ref=packet.case_ref)
        await self.store.log(conv.id, "bot", apology["text"])
        return [apology] + await self._queue(conv, packet.payload())

    async def _while_queued(self, conv: Conversation, inbound: Inbound) -> List[Dict[str, Any]]:
        choice = FOLLOWUP_PAYLOADS.get(inbound.text.strip())
        callback = await self.callbacks.handle(conv, inbound.text) if self.callbacks else None
        if callback is not None:  # "Call me back" and its questions
            reply = callback
        elif choice:
            await self.store.update(conv.id, followup=choice)
            await self.store.publish({"type": "queue", "conversation_id": conv.id})
            reply = self.texts.message(f"followup_{choice}", conv.language)
            if choice == "email" and not email_of(conv.handoff(), await self.store.transcript(conv.id)):
                reply = self.texts.message("followup_email_ask", conv.language)
        else:
            reply = await self._added_to_case(conv)
        await self.store.log(conv.id, "bot", reply["text"], {k: v for k, v in reply.items() if k != "text"})
        return [reply]

    # --- outside a customer's request: agents and reassurance ------------------------

    async def push(self, conv: Conversation, messages: List[Dict[str, Any]], sender: str) -> None:
        """Deliver first (a channel may refuse: Undeliverable), then transcribe."""
        channel = self.channels.get(conv.channel)
        if channel is not None:
            await channel.push(conv.id, messages, sender)
        for message in messages:
            await self._transcribe(conv, sender, message)

    async def may_push(self, conv: Conversation, sender: str) -> bool:
        channel = self.channels.get(conv.channel)
        return True if channel is None else await channel.allows(conv.id, sender)

    async def window(self, conv: Conversation) -> Optional[Dict[str, Any]]:
        channel = self.channels.get(conv.channel)
        return None if channel is None else await channel.window(conv.id)

    # --- what channels need from the store, through the router ------------------------

    async def conversation(self, cid: str) -> Optional[Conversation]:
        return await self.store.get(cid)

    async def last_customer_at(self, cid: str) -> float:
        return await self.store.last_customer_at(cid)

    async def seen(self, cid: str, message_id: Any) -> None:
        """The customer's widget rendered this message (bot/catchup.py)."""
        await acknowledge(self.store.redis, cid, message_id)

    async def attachment(self, inbound: Inbound, attachments: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """A file or image the customer sent (Messenger): transcribed with what it was,
        and acknowledged (the bot says what it can take); a redelivery is ignored."""
        if not await self.store.first_time(inbound.conversation_id, inbound.message_id):
            return []
        conv = await self.store.get_or_create(inbound.conversation_id, inbound.channel, inbound.identity)
        await self.store.log(
            conv.id, "customer", inbound.text, {"attachments": attachments}, message_id=inbound.message_id
        )
        reply = self.texts.message("attachment_received", conv.language)
        await self._transcribe(conv, "bot", reply)
        return [reply]

    async def _courtesy(self, conv: Conversation, message: Dict[str, Any]) -> None:
        """A notice the customer should get if the channel allows it now."""
        try:
            await self.push(conv, [message], "bot")
        except Undeliverable:
            await self.store.log(conv.id, "system", f"not delivered: {message.get('text', '')}")

    async def notify(self, conv: Conversation, message: Dict[str, Any]) -> None:
        """A notice from the team (e.g. a missed call-back), if the channel allows it now."""
        await self._courtesy(conv, message)

    def public_name(self, agent: str, language: str) -> str:
        """What customers see of an agent: their display name, never the login."""
        return self.settings.display_names.get(agent) or self.texts.text("agent_unnamed", language)

    async def agent_joined(self, conv: Conversation, agent: str) -> None:
        await self._courtesy(
            conv,
            self.texts.message("agent_joined", conv.language, agent=self.public_name(agent, conv.language)),
        )

    async def agent_reply(self, conv: Conversation, agent: str, text: str) -> None:
        await self.push(conv, [{"text": text, "agent": self.public_name(agent, conv.language)}], "agent")

    async def resolve(self, conv: Conversation, agent: str, note: str) -> None:
        await self.store.release(conv.id, agent, "closed", note)
        await self._courtesy(conv, self.texts.message("resolved", conv.language))

    async def hand_back(self, conv: Conversation, agent: str, note: str) -> None:
        """Back to the bot, which recaps, thanks and asks the CSAT question."""
        if not await self.may_push(conv, "bot"):
            raise Undeliverable("the bot may not write to this customer any more; resolve it instead")
        replies = await self.rasa.send(
            conv.id,
            HANDBACK_MESSAGE,
            {
                "channel": conv.channel,
                "identity": conv.identity,
                "handback": {"agent": self.settings.display_names.get(agent, ""), "note": note},
            },
        )
        await self.store.release(conv.id, agent, "bot", note)
        # The same filtering as every other turn: images kept, a handoff queues again.
        messages, packet = relayable(replies)
        await self.push(conv, messages, "bot")
        if packet is not None:
            queued = await self._queue(conv, packet)  # transcribed there
            channel = self.channels.get(conv.channel)
            if channel is not None:
                await channel.push(conv.id, queued, "bot")

    async def reassure_waiting(self) -> int:
        """Tell customers queued longer than STILL_HERE_AFTER that we are still here."""
        sent = 0
        now = time.time()
        for position, conv in enumerate(await self.store.queue(), start=1):
            if conv.state != "queued" or now - conv.queued_at < self.settings.still_here_after:
                continue
            if not await self.may_push(conv, "bot"):
                continue
            if await self.store.mark_reassured(conv.id, self.settings.still_here_after):
                await self.push(
                    conv, [self.texts.message("still_here", conv.language, position=position)], "bot"
                )
                sent += 1
        return sent
