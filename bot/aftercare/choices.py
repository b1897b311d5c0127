"""What a waiting customer may choose while no person has answered yet: "Call me back"
(a short dialogue for the number and a time window, aftercare/callback.py) or "Email
me" (the reply goes to the address in the case, or the customer is asked for one).
The turn (core/turn.py) offers this every message while the conversation is queued."""

from typing import Optional

from bot.aftercare.callback import CallBacks
from bot.core.channel import Message
from bot.core.contacts import email_of
from bot.core.conversation import Conversation
from bot.core.conversations import ConversationStore
from bot.core.texts import Texts

EMAIL_ME = "/followup_email"


class FollowUpChoices:
    def __init__(self, store: ConversationStore, texts: Texts, callbacks: CallBacks) -> None:
        self.store = store
        self.texts = texts
        self.callbacks = callbacks

    async def answer(self, conv: Conversation, text: str) -> Optional[Message]:
        """The reply when the message is a choice or a step of the call-back, else None."""
        callback = await self.callbacks.handle(conv, text)
        if callback is not None:
            return callback
        if text.strip() != EMAIL_ME:
            return None
        await self.store.update(conv.id, followup="email")
        await self.store.publish({"type": "queue", "conversation_id": conv.id})
        if not email_of(conv.handoff(), await self.store.transcript(conv.id)):
            return self.texts.message("followup_email_ask", conv.language)
        return self.texts.message("followup_email", conv.language)
