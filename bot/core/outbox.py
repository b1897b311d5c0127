"""What goes out outside a customer's request: an agent's replies, the team's notices
(joined, transferred, released, resolved, a missed call-back), the bot's hand-back recap
and the "still here" reassurance. Each goes through the conversation's channel, which
may refuse (Undeliverable: Messenger's windows), and then into the transcript.
"""

import time
from typing import Dict, List, Optional

from bot.core.channel import Channel, Message, Undeliverable
from bot.core.conversation import Conversation, State
from bot.core.conversations import ConversationStore
from bot.core.handoffs import Handoffs
from bot.core.rasa_client import HANDBACK_MESSAGE, RasaClient, relayable
from bot.core.texts import Texts
from bot.settings import Settings


class Outbox:
    def __init__(
        self,
        store: ConversationStore,
        rasa: RasaClient,
        texts: Texts,
        handoffs: Handoffs,
        settings: Settings,
        channels: Dict[str, Channel],
    ) -> None:
        self.store = store
        self.rasa = rasa
        self.texts = texts
        self.handoffs = handoffs
        self.settings = settings
        self.channels = channels

    async def push(self, conv: Conversation, messages: List[Message], sender: str) -> None:
        """Deliver first (a channel may refuse: Undeliverable), then transcribe."""
        channel = self.channels.get(conv.channel)
        if channel is not None:
            await channel.push(conv.id, messages, sender)
        for message in messages:
            await self.store.log_message(conv.id, sender, message)

    async def may_push(self, conv: Conversation, sender: str) -> bool:
        channel = self.channels.get(conv.channel)
        return True if channel is None else await channel.allows(conv.id, sender)

    async def window(self, conv: Conversation) -> Optional[Dict]:
        channel = self.channels.get(conv.channel)
        return None if channel is None else await channel.window(conv.id)

    async def notify(self, conv: Conversation, message: Message) -> None:
        """A notice the customer should get if the channel allows it now (else the
        transcript says it was not delivered)."""
        try:
            await self.push(conv, [message], "bot")
        except Undeliverable:
            await self.store.log(conv.id, "system", f"not delivered: {message.get('text', '')}")

    async def notice(self, conv: Conversation, key: str, **values) -> None:
        """One of the hub's notices (data/hub/messages.yml), in the customer's language."""
        await self.notify(conv, self.texts.message(key, conv.language, **values))

    def public_name(self, agent: str, language: str) -> str:
        """What customers see of an agent: their display name, never the login."""
        return self.settings.display_names.get(agent) or self.texts.text("agent_unnamed", language)

    async def agent_joined(self, conv: Conversation, agent: str) -> None:
        await self.notice(conv, "agent_joined", agent=self.public_name(agent, conv.language))

    async def agent_reply(self, conv: Conversation, agent: str, text: str) -> None:
        await self.push(conv, [{"text": text, "agent": self.public_name(agent, conv.language)}], "agent")
        await self.store.agent_replied(conv)

    async def resolve(self, conv: Conversation, agent: str, note: str) -> bool:
        if not await self.store.resolve(conv, agent, note):
            return False
        await self.notice(conv, "resolved")
        return True

    async def hand_back(self, conv: Conversation, agent: str, note: str) -> bool:
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
        if not await self.store.hand_back(conv, agent, note):
            return False
        # The same filtering as every other turn: images kept, a handoff queues again.
        messages, packet = relayable(replies)
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
