"""The inbound turn: every customer message, whatever the channel, goes to Rasa while
the bot has the conversation, to the agents once it is queued or owned, and is never
lost when Rasa is away. Turn is the ChannelHost every channel is given.

A message is transcribed first (with its dedupe marker, in one step), then routed; the
marker says "handled" only once the turn has finished, so a retry of a message whose
turn failed midway is routed again, never dropped as a redelivery.

On every channel, the first reply of a new conversation starts by saying, in a short line,
that this is the shop's automated assistant (data/hub/messages.yml automated_intro): the
hub is the one that knows a conversation is new, whatever the channel and whatever the
first message (a greeting, a complaint, a photo, or Rasa being away).

A customer still in the queue who takes their request for a person back ("never mind,
you can help me", bot/core/handoffs.py `takes_back`) leaves it (ConversationStore.withdraw:
the consoles are told) and the assistant carries on (/cancel_handoff).

Every customer message keeps the conversation's proof of who the customer is alive for
another idle time (contract/memory.py), those an agent answers too; a lapsed one stays
lapsed.
"""

import time
from typing import Any, Dict, List, Mapping, Optional, Protocol, Set, Tuple

from bot.core import limits
from bot.core.channel import Channel, Inbound, Message
from bot.core.conversation import Conversation, State
from bot.core.conversations import ConversationStore
from bot.core.handoffs import Handoffs, takes_back
from bot.core.outgoing import acknowledge
from bot.core.rasa_client import (
    CANCEL_HANDOFF,
    RasaClient,
    RasaUnavailable,
    for_rasa,
    proof_link_requests,
    relayable,
)
from bot.core.texts import Texts
from contract import memory
from contract.language import decide


class QueuedDialog(Protocol):
    """A short exchange the hub holds itself while the customer waits for a person
    (aftercare/choices.py: "Call me back", "Email me")."""

    async def answer(self, conv: Conversation, text: str) -> Optional[Message]:
        """The reply when this message belongs to the exchange, else None."""


class OwnerLinkOffer(Protocol):
    """The owner's way past a proof lock (aftercare/owner_link.py): the assistant asked
    for a one-time link to the email on an order."""

    async def offer(self, conv: Conversation, request_id: str) -> Optional[Message]:
        """What the customer is told about it (the same for any order number), or None
        when no link can be sent from here (no mail, or not the widget)."""


class Turn:
    def __init__(
        self,
        store: ConversationStore,
        rasa: RasaClient,
        texts: Texts,
        handoffs: Handoffs,
        while_queued: Optional[QueuedDialog] = None,
        channels: Optional[Mapping[str, Channel]] = None,
        owner_links: Optional[OwnerLinkOffer] = None,
        proof_idle: Optional[int] = None,  # seconds (SESSION_IDLE_MINUTES)
    ) -> None:
        self.store = store
        self.rasa = rasa
        self.texts = texts
        self.handoffs = handoffs
        self.while_queued = while_queued
        self.channels = channels if channels is not None else {}
        self.owner_links = owner_links
        self.proof_idle = proof_idle
        self._routing: Set[Tuple[str, str]] = set()  # (conversation, message id) being routed here

    async def handle(self, inbound: Inbound) -> List[Message]:
        """Process one customer message; returns the replies for this turn."""
        cid = inbound.conversation_id
        conv = await self.store.get_or_create(cid, inbound.channel, inbound.identity)
        await memory.touch_proof(self.store.redis, cid, time.time(), self.proof_idle)
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

    async def _route(self, conv: Conversation, inbound: Inbound) -> List[Message]:
        # The one decision (contract/language.py); until the customer writes something
        # telling, a new conversation has the page's language (its first line, too).
        before = inbound.page_language if conv.just_created and inbound.page_language else conv.language
        language = decide(inbound.text, before)
        if language != conv.language:
            conv.language = language
            await self.store.update(conv.id, language=language)
        if await limits.hit(self.store.redis, limits.MESSAGES_PER_CONVERSATION, conv.id) is not None:
            return await self._one_moment(conv)  # transcribed above: nothing is lost
        if conv.state is State.CLOSED:
            await self.store.reopen(conv)
        if conv.state is State.BOT:
            return await self._introduce(conv) + await self._to_rasa(conv, inbound)
        if conv.state is State.QUEUED:
            if takes_back(inbound.text) and await self.store.withdraw(conv):
                return await self._to_rasa(conv, inbound, instead=CANCEL_HANDOFF)
            return await self._while_queued(conv, inbound)
        return []  # owned by an agent: the console shows it live

    async def hold(self, inbound: Inbound) -> List[Message]:
        """Keep a message without acting on it yet (the customer's channel has too many
        messages in flight): transcribed for the agents, and a polite "one moment"."""
        conv = await self.store.get_or_create(inbound.conversation_id, inbound.channel, inbound.identity)
        if await self.store.log_inbound(conv.id, inbound.text, inbound.message_id) != "new":
            return []
        replies = await self._one_moment(conv)
        await self.store.handled(conv.id, inbound.message_id)
        return replies

    async def _one_moment(self, conv: Conversation) -> List[Message]:
        reply = self.texts.message("one_moment", conv.language)
        await self.store.log(conv.id, "bot", reply["text"])
        return [reply]

    async def _introduce(self, conv: Conversation) -> List[Message]:
        """ "You're chatting with the shop's automated assistant", first thing in a new
        conversation, on every channel."""
        if not conv.just_created:
            return []
        intro = self.texts.message("automated_intro", conv.language)
        await self.store.log_message(conv.id, "bot", intro)
        return [intro]

    async def _to_rasa(self, conv: Conversation, inbound: Inbound, instead: str = "") -> List[Message]:
        """The customer's message to the assistant (`instead`: what the hub sends in its
        place, e.g. /cancel_handoff)."""
        metadata = {"channel": conv.channel, "identity": inbound.identity, "message_id": inbound.message_id}
        if inbound.page_language:  # the greeting's language until the customer writes
            metadata["page_language"] = inbound.page_language
        if inbound.client:  # counting wrong proofs per address (contract/identity.py)
            metadata["client"] = inbound.client
        try:
            replies = await self.rasa.send(conv.id, instead or for_rasa(inbound.text), metadata)
            if not replies:
                raise RasaUnavailable("no reply (is the action server up?)")
        except RasaUnavailable as error:
            return await self.handoffs.assistant_away(conv, str(error))
        out, packet = await self._relayable(conv, replies)
        # A handoff is one message: the assistant's handoff line (plain text, last) and the
        # hub's word on when someone replies, which only the hub knows (queue or hours).
        lead = out.pop() if packet is not None and out and set(out[-1]) == {"text"} else None
        for message in out:
            await self.store.log_message(conv.id, "bot", message)
        if packet is not None:  # its language only echoes the hub's (contract/language.py)
            out += await self.handoffs.queue(conv, packet, lead)
        return out

    async def _relayable(
        self, conv: Conversation, replies: List[Message]
    ) -> Tuple[List[Message], Optional[Any]]:
        """The assistant's replies for the customer, with what the hub says for it in
        its place (the owner's one-time link), and the handoff packet if one came."""
        out: List[Message] = []
        packet = None
        for reply in replies:
            for request_id in proof_link_requests([reply]):
                offered = await self.owner_links.offer(conv, request_id) if self.owner_links else None
                out += [offered] if offered is not None else []
            messages, found = relayable([reply])
            out += messages
            packet = found if found is not None else packet
        return out, packet

    async def _while_queued(self, conv: Conversation, inbound: Inbound) -> List[Message]:
        reply = await self.while_queued.answer(conv, inbound.text) if self.while_queued else None
        if reply is None:
            reply = await self.handoffs.added_to_case(conv)
        await self.store.log_message(conv.id, "bot", reply)
        return [reply]

    async def attachment(self, inbound: Inbound, attachments: List[Dict[str, Any]]) -> List[Message]:
        """A file or image the customer sent (Messenger): transcribed with what it was,
        and acknowledged (the bot says what it can take); a redelivery is ignored."""
        if not await self.store.first_time(inbound.conversation_id, inbound.message_id):
            return []
        conv = await self.store.get_or_create(inbound.conversation_id, inbound.channel, inbound.identity)
        await self.store.log(
            conv.id, "customer", inbound.text, {"attachments": attachments}, message_id=inbound.message_id
        )
        intro = await self._introduce(conv)
        reply = self.texts.message("attachment_received", conv.language)
        await self.store.log_message(conv.id, "bot", reply)
        return [*intro, reply]

    # --- the rest of what a channel may ask (core/channel.py ChannelHost) -------------

    async def language_of(self, conversation_id: str) -> Optional[str]:
        conv = await self.store.get(conversation_id)
        return conv.language if conv else None

    async def last_customer_at(self, conversation_id: str) -> float:
        return await self.store.last_customer_at(conversation_id)

    async def seen(self, conversation_id: str, message_id: Any) -> None:
        await acknowledge(self.store.redis, conversation_id, message_id)
