"""The inbound turn: every customer message, whatever the channel, goes to Rasa while
the bot has the conversation, to the agents once it is queued or owned, and is never
lost when Rasa is away. Turn is the ChannelHost every channel is given.

Before anything is stored, the message passes the limits (bot/core/limits.py): its
conversation's bucket and byte budget, and the channel's own (the widget's socket and
address), in one check; refused, it is not stored anywhere and the customer is told
"one moment" (Refused). Then it is transcribed (with its dedupe marker, in one step)
and routed; the marker says "handled" only once the turn has finished, so a retry of
a message whose turn failed midway is routed again, never dropped as a redelivery.

The whole turn, from transcribing to the end of Rasa's answer, holds the conversation
(bot/core/turn_lock.py): on any number of hubs, a conversation's turns run one after the
other, in the order they came, so Rasa never sees two messages of one conversation at
once, and a duplicate sent to two hubs at the same time is routed once (the second finds
it handled). A message that waits too long for the turns before it (`TurnLock.wait`) is
treated like a refused one (`hold`): nothing stored, "one moment, please send it again".
Turns in flight are counted, so a stopping hub can let them finish (`drain`).

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

import asyncio
import logging
import time
from typing import Any, Dict, List, Mapping, Optional, Protocol, Set, Tuple

from redis.exceptions import RedisError

from bot.core.channel import Channel, Inbound, Message, Refused
from bot.core.conversation import Conversation, State
from bot.core.conversations import ConversationStore
from bot.core.handoffs import Handoffs, takes_back
from bot.core.limits import Limits
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
from bot.core.turn_lock import TurnLock
from contract import memory
from contract.language import decide

log = logging.getLogger(__name__)


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
        limits: Limits,
        lock: TurnLock,
        while_queued: Optional[QueuedDialog] = None,
        channels: Optional[Mapping[str, Channel]] = None,
        owner_links: Optional[OwnerLinkOffer] = None,
        proof_idle: Optional[int] = None,  # seconds (SESSION_IDLE_MINUTES)
    ) -> None:
        self.store = store
        self.limits = limits
        self.rasa = rasa
        self.texts = texts
        self.handoffs = handoffs
        self.lock = lock
        self.while_queued = while_queued
        self.channels = channels if channels is not None else {}
        self.owner_links = owner_links
        self.proof_idle = proof_idle
        self._routing: Set[Tuple[str, str]] = set()  # (conversation, message id) being routed here
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def handle(self, inbound: Inbound) -> List[Message]:
        """Process one customer message; returns the replies for this turn. Raises
        Refused, having stored nothing, when a limit refuses it."""
        await self.admit(inbound)
        self._in_flight += 1
        self._idle.clear()
        try:
            held = await self.lock.acquire(inbound.conversation_id)
            if held is None:
                log.warning(
                    "a message of %s waited too long for its turn: sent again", inbound.conversation_id
                )
                return await self.hold(inbound)
            try:
                return await self._handle(inbound)
            finally:
                await held.release()
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                self._idle.set()

    async def drain(self, timeout: float) -> int:
        """Wait up to `timeout` seconds for the turns in flight; how many are left."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except asyncio.TimeoutError:
            pass
        return self._in_flight

    async def _handle(self, inbound: Inbound) -> List[Message]:
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
        """A message that waited too long for the turns before it: like a refused one,
        nothing of it is stored and the customer is asked to send it again."""
        return [await self.busy(inbound)]

    async def admit(self, inbound: Inbound) -> None:
        """The limits, before anything of the message is stored: one token from the
        conversation's bucket and the channel's, and its size from the conversation's
        byte budget, or Refused with the polite reply (nothing taken, nothing stored)."""
        cid = inbound.conversation_id
        refusal = await self.limits.take(
            {"conversation": cid, **inbound.limits},
            conversation=cid,
            size=len(inbound.text.encode("utf-8", "surrogatepass")),
        )
        if refusal is None:
            return
        key = "conversation_full" if refusal.reason == "budget" else "one_moment"
        raise Refused(self.texts.message(key, await self._language(inbound)), refusal.wait)

    async def busy(self, inbound: Inbound) -> Message:
        """ "One moment" for a message the channel does not pass on (too many of its
        own in flight): nothing is stored; the customer sends it again."""
        return self.texts.message("one_moment", await self._language(inbound))

    async def _language(self, inbound: Inbound) -> str:
        """The language to answer a message in, reading only: what it shows, else the
        conversation's (when Redis can say), else the page's."""
        try:
            conv = await self.store.get(inbound.conversation_id)
        except RedisError:  # only the wording depends on it: "one moment" is said anyway
            conv = None
        return decide(inbound.text, conv.language if conv else inbound.page_language or None)

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
            reply = await self.handoffs.added_to_case(conv, inbound.text)
        await self.store.log_message(conv.id, "bot", reply)
        return [reply]

    async def attachment(self, inbound: Inbound, attachments: List[Dict[str, Any]]) -> List[Message]:
        """A file or image the customer sent (Messenger): transcribed with what it was,
        and acknowledged (the bot says what it can take); a redelivery is ignored.
        Raises Refused, having stored nothing, when a limit refuses it."""
        await self.admit(inbound)
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
