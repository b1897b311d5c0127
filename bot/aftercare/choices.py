"""What a waiting customer may choose while no person has answered yet: "Call me back"
(a short dialogue for the number and a time window, aftercare/callback.py) or "Email
me". Email goes only to an address we know is theirs (verified) or one they confirm:
"Email me" with an address typed earlier asks "shall we write to …?" (Yes, or type
another); without one it asks for one, and the address they then type is the one they
confirmed. The turn (core/turn.py) offers this every message while the conversation is
queued."""

from typing import Optional

from bot.aftercare.callback import CallBacks
from bot.core.channel import Message
from bot.core.contacts import EMAIL, email_of, follow_up_email
from bot.core.conversation import Conversation
from bot.core.conversations import ConversationStore
from bot.core.texts import Texts
from contract.identity import mask_email

EMAIL_ME = "/followup_email"
EMAIL_YES = "/followup_email_yes"


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
        text = text.strip()
        if text == EMAIL_ME:
            return await self._email_me(conv)
        if conv.followup == "email" and not follow_up_email(conv.handoff(), conv.followup_email):
            return await self._address(conv, text)
        return None

    async def _email_me(self, conv: Conversation) -> Message:
        await self.store.update(conv.id, followup="email")
        await self.store.publish({"type": "queue", "conversation_id": conv.id})
        if follow_up_email(conv.handoff(), conv.followup_email):
            return self.texts.message("followup_email", conv.language)
        candidate = email_of(conv.handoff(), await self.store.transcript(conv.id))
        if not candidate:
            return self.texts.message("followup_email_ask", conv.language)
        return {  # typed in this conversation: shown whole, so they can check it
            **self.texts.message("followup_email_confirm", conv.language, email=candidate),
            "buttons": self.texts.buttons("followup_email_yes", conv.language),
        }

    async def _address(self, conv: Conversation, text: str) -> Optional[Message]:
        """After "Email me": yes to the address offered, or an address typed now."""
        if text == EMAIL_YES:
            address = email_of(conv.handoff(), await self.store.transcript(conv.id))
        else:
            found = EMAIL.search(text)
            address = found.group(0) if found else ""
        if not address:
            return None
        await self.store.update(conv.id, followup_email=address)
        await self.store.log(
            conv.id, "system", f"email follow-up to {mask_email(address)}, confirmed by the customer"
        )
        await self.store.publish({"type": "queue", "conversation_id": conv.id})
        return self.texts.message("followup_email", conv.language)
