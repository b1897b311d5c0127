"""What goes out outside a customer's request: an agent's replies, the team's notices
(joined, transferred, released, resolved, a missed call-back, a promise kept or not),
the bot's hand-back recap and the "still here" reassurance.

Each asks the conversation's reply window first (bot/core/windows.py, through the
channel). Inside it, the message goes through the channel and into the transcript.
Outside it, or when the channel refuses (Undeliverable), a follow-up (an agent's reply,
"resolved", a missed call-back) goes elsewhere (`Elsewhere`: by email when the hub can
send email and knows an address, else as a task for the team,
bot/aftercare/followup.py), and a passing notice (joined, transferred) is only noted in
the transcript. Nothing is ever sent to a channel that is bound to refuse it.
"""

import time
from typing import Dict, List, Optional, Protocol

from bot.core import windows
from bot.core.channel import Channel, Message, Undeliverable
from bot.core.conversation import Conversation, State
from bot.core.conversations import ConversationStore
from bot.core.handoffs import Handoffs
from bot.core.rasa_client import HANDBACK_MESSAGE, RasaClient, relayable
from bot.core.texts import Texts
from bot.core.turn_lock import TurnLock
from bot.core.windows import Window
from bot.settings import Settings

IN_CHANNEL = "channel"  # where a follow-up went: the channel, "email", "task" or "note" (Elsewhere)
NOT_DELIVERED = "not_delivered"


class Elsewhere(Protocol):
    """Where a follow-up goes when the customer's channel may not carry it."""

    async def take(
        self, conv: Conversation, messages: List[Message], sender: str, why: str, task: bool = True
    ) -> str:
        """Keep the messages for the customer (transcribed, marked as held) and arrange
        another way to reach them: "email", else "task" (a call-back task for the team)
        or, when `task` is False (a notice nobody must act on), "note"."""


class Outbox:
    def __init__(
        self,
        store: ConversationStore,
        rasa: RasaClient,
        texts: Texts,
        handoffs: Handoffs,
        settings: Settings,
        channels: Dict[str, Channel],
        elsewhere: Optional[Elsewhere] = None,
        lock: Optional[TurnLock] = None,
    ) -> None:
        self.store = store
        self.rasa = rasa
        self.texts = texts
        self.handoffs = handoffs
        self.settings = settings
        self.channels = channels
        self.elsewhere = elsewhere
        self.lock = lock

    async def push(
        self,
        conv: Conversation,
        messages: List[Message],
        sender: str,
        follow_up: bool = True,
        must_reach: bool = False,
    ) -> str:
        """Deliver in the channel while its window allows `sender`, then transcribe; else
        a follow-up goes elsewhere and a passing notice is noted as not delivered.
        `must_reach`: a bot's follow-up the customer is owed (a promise kept), which,
        like an agent's words, becomes a task for the team when there is no email.
        Returns where it went: IN_CHANNEL, "email", "task" or NOT_DELIVERED."""
        channel = self.channels.get(conv.channel)
        if channel is not None:
            window = await channel.window(conv.id)
            if not windows.allows(window, sender):
                why = closed(conv.channel, window)
                return await self._not_now(conv, messages, sender, why, follow_up, must_reach)
            try:
                await channel.push(conv.id, messages, sender)
            except Undeliverable as refused:
                return await self._not_now(conv, messages, sender, str(refused), follow_up, must_reach)
        for message in messages:
            await self.store.log_message(conv.id, sender, message)
        return IN_CHANNEL

    async def _not_now(
        self,
        conv: Conversation,
        messages: List[Message],
        sender: str,
        why: str,
        follow_up: bool,
        must_reach: bool = False,
    ) -> str:
        if follow_up and self.elsewhere is not None:  # a person's words need a person to act
            task = sender == "agent" or must_reach
            return await self.elsewhere.take(conv, messages, sender, why, task=task)
        if follow_up:
            raise Undeliverable(why)
        for message in messages:
            await self.store.log(conv.id, "system", f"not delivered ({why}): {message.get('text', '')}")
        return NOT_DELIVERED

    async def may_push(self, conv: Conversation, sender: str) -> bool:
        return windows.allows(await self.window(conv), sender)

    async def window(self, conv: Conversation) -> Optional[Window]:
        channel = self.channels.get(conv.channel)
        return None if channel is None else await channel.window(conv.id)

    async def notify(
        self, conv: Conversation, message: Message, follow_up: bool = False, must_reach: bool = False
    ) -> str:
        """A notice the customer should get: in the channel if its window allows it now;
        otherwise a follow-up goes elsewhere, and a passing notice is only noted."""
        return await self.push(conv, [message], "bot", follow_up=follow_up, must_reach=must_reach)

    async def notice(self, conv: Conversation, key: str, follow_up: bool = False, **values) -> str:
        """One of the hub's notices (data/hub/messages.yml), in the customer's language."""
        return await self.notify(conv, self.texts.message(key, conv.language, **values), follow_up)

    def public_name(self, agent: str, language: str) -> str:
        """What customers see of an agent: their display name, never the login."""
        return self.settings.display_names.get(agent) or self.texts.text("agent_unnamed", language)

    async def agent_joined(self, conv: Conversation, agent: str) -> None:
        """ "Anna from our team has joined", after the conversation's turn in progress: an
        agent can claim a handoff the moment the assistant decides it (the early word,
        contract/handoff_requests.py), while the assistant is still finishing the turn that
        says "I'm passing you to a colleague"; the customer reads them in that order."""
        held = await self.lock.acquire(conv.id) if self.lock is not None else None
        try:
            await self.notice(conv, "agent_joined", agent=self.public_name(agent, conv.language))
        finally:
            if held is not None:
                await held.release()

    async def agent_reply(self, conv: Conversation, agent: str, text: str) -> str:
        """The agent's reply: in the channel, or by email or as a task outside its window."""
        went = await self.push(
            conv, [{"text": text, "agent": self.public_name(agent, conv.language)}], "agent"
        )
        await self.store.agent_replied(conv)
        return went

    async def resolve(self, conv: Conversation, agent: str, note: str) -> bool:
        if not await self.store.resolve(conv, agent, note):
            return False
        await self.notice(conv, "resolved", follow_up=True)
        return True

    async def hand_back(self, conv: Conversation, agent: str, note: str) -> bool:
        """Back to the bot, which recaps, thanks and asks the CSAT question."""
        if not await self.may_push(conv, "bot"):
            raise Undeliverable("the bot may not write to this customer any more; resolve it instead")
        # A turn of the conversation at Rasa like any other: one at a time (core/turn_lock.py).
        held = await self.lock.acquire(conv.id) if self.lock is not None else None
        try:
            replies = await self.rasa.send(
                conv.id,
                HANDBACK_MESSAGE,
                {
                    "channel": conv.channel,
                    "identity": conv.identity,
                    "handback": {"agent": self.settings.display_names.get(agent, ""), "note": note},
                },
            )
        finally:
            if held is not None:
                await held.release()
        if not await self.store.hand_back(conv, agent, note):
            return False
        # The same filtering as every other turn: images kept, a handoff queues again.
        messages, packet = relayable(replies)
        # Back with the assistant, on every channel: it says it is automated.
        messages = [self.texts.message("automated_again", conv.language), *messages]
        await self.push(conv, messages, "bot")
        if packet is not None:
            queued = await self.handoffs.queue(conv, packet)  # transcribed there
            channel = self.channels.get(conv.channel)
            if channel is not None:
                await channel.push(conv.id, queued, "bot")
        return True

    async def reassure_waiting(self) -> int:
        """Tell customers queued longer than STILL_HERE_AFTER that we are still here."""
        sent = 0
        now = time.time()
        for position, conv in enumerate(await self.store.queue(), start=1):
            if conv.state is not State.QUEUED or now - conv.queued_at < self.settings.still_here_after:
                continue
            if not await self.may_push(conv, "bot"):
                continue
            if await self.store.mark_reassured(conv.id, self.settings.still_here_after):
                await self.push(
                    conv, [self.texts.message("still_here", conv.language, position=position)], "bot"
                )
                sent += 1
        return sent


def closed(channel: str, window: Optional[Window]) -> str:
    """Why a channel's window refuses: "the zalo window is closed (quota)"."""
    state = window.state if window is not None else windows.CLOSED
    reason = f" ({window.reason})" if window is not None and window.reason else ""
    return f"the {channel} window is {state.replace('_', ' ')}{reason}"
