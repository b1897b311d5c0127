"""Queueing a conversation for a person, and what the customer is told about it.

The assistant's `{"handoff": ...}` packet (or the hub's own, when the assistant is away)
moves a conversation to QUEUED with its packet; the customer hears their place and when
someone replies: from the queue while agents are online, from the opening hours when
nobody is (SUPPORT_HOURS), with the call-back and email options. A handoff while the
conversation is already queued or with an agent keeps its place and agent.

The assistant's handoff comes twice: its early word, the moment the action decides
(contract/handoff_requests.py: `listen`, `early`), queues the conversation for the agents
while Rasa finishes the turn; the turn's relay of the same packet (`queue`) then queues
nothing again and tells the customer their place. If the turn fails after the early word,
the customer is told so, with the case and the place the early word gave
(`assistant_away`).
"""

import asyncio
import logging
import re
from typing import Any, List, Optional

from bot.core.channel import Message
from bot.core.contacts import follow_up_email
from bot.core.conversation import Conversation, State
from bot.core.conversations import ConversationStore, Enqueued
from bot.core.hours import local_now, parse_hours, reply_by
from bot.core.texts import Texts
from bot.settings import Settings
from contract import handoff, handoff_requests
from contract.case import new_case_ref
from contract.identity import mask_email
from contract.text import fold

log = logging.getLogger(__name__)

# A customer still in the queue taking their request for a person back ("actually never
# mind, you can help me", "thôi không cần gặp nhân viên nữa"), folded. The hub decides it,
# since messages in the queue go to the agents, not the assistant.
TAKE_BACK = (
    r"never ?mind", r"forget (it|that|about it)", r"(you|u) can help( me)?", r"i ll stay (here|with you)",
    r"(don t|dont|do not) need (a |an )?(person|human|agent|someone|anyone|manager) (anymore|any more|after all)",
    r"no need for (a |an )?(person|human|agent|someone|anyone|manager)", r"changed my mind",
    r"cancel (the|my) request", r"stay with (the |you )?(bot|assistant)",
    r"thoi (khong|ko|k) can", r"(khong|ko|k) can (gap )?(nhan vien|nguoi|nv|quan ly) nua",
    r"(ban|em|shop|ad) (giup|ho tro) (minh|em|toi|tui|to) (cung duoc|di|nhe|nha|luon)", r"thoi (de|cu) (ban|em)",
    r"huy yeu cau", r"doi y roi", r"thoi khoi",
)  # fmt: skip
_TAKE_BACK_RE = re.compile(r"(?<![^\W_])(?:" + "|".join(TAKE_BACK) + r")(?![^\W_])")


def folded_words(text: str) -> str:
    """The message's words, folded, one space apart: "Thôi, KHÔNG cần!" -> "thoi khong can"."""
    return " ".join(re.findall(r"[^\W_]+", fold(text)))


def takes_back(text: str) -> bool:
    """Whether a waiting customer's message takes back their request for a person."""
    return bool(_TAKE_BACK_RE.search(folded_words(text)))


# A waiting customer's message that only thanks ("ok thanks", "ok cảm ơn nhé") or says
# "ok", folded: answered as such, not "I've added that to your case".
THANKS = r"(thanks?|thank (you|u)|thx|ty|tks|cam on|camon)"
OK = r"(ok(ay)?|oke|okie|great|perfect|got it|alright|da|vang|dc|duoc)"
COURTESY = r"(so much|a lot|again|very much|shop|ban|em|ad|nhe|nha|nhieu|a|ah|ha|luon|roi)"
_COURTESY_RE = re.compile(rf"({THANKS}|{OK})( {THANKS}| {OK}| {COURTESY})*")
_THANKS_RE = re.compile(rf"(?<![^\W_]){THANKS}(?![^\W_])")


def courtesy(text: str) -> Optional[str]:
    """ "thanks" when a waiting customer's message only thanks (and says "ok"), "ok" when
    it only says "ok", else None."""
    folded = folded_words(text)
    if not folded or _COURTESY_RE.fullmatch(folded) is None:
        return None
    return "thanks" if _THANKS_RE.search(folded) else "ok"


def joined(lead: Optional[Message], message: Message) -> Message:
    """`message` with the text-only `lead` before its text: one chat bubble."""
    if lead is None:
        return message
    return {**message, "text": f"{lead['text']} {message['text']}"}


class Handoffs:
    def __init__(self, store: ConversationStore, texts: Texts, settings: Settings) -> None:
        self.store = store
        self.texts = texts
        self.settings = settings

    async def queue(self, conv: Conversation, packet: Any, lead: Optional[Message] = None) -> List[Message]:
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
        key = typed.key() if typed else ""
        # Queued by this handoff's early word (Enqueued.BEFORE): told as if queued now.
        if not await self.store.enqueue(conv.id, severity, stored, conv.language, key):
            return await self._already_handed_off(conv, lead)
        message = joined(lead, await self._queued(conv, typed))
        await self.store.log_message(conv.id, "bot", message)
        return [message]

    async def listen(self, words: asyncio.Queue) -> None:
        """Queue every early handoff word (a queue of keys.HANDOFF_REQUESTS, EventHub)
        until the hub stops."""
        while True:
            word = await words.get()
            kind = word.get("type") if isinstance(word, dict) else None
            if kind == "shutdown":
                return
            if kind == "reconnected":  # words missed meanwhile: the turns' relays queue them
                continue
            try:
                await self.early(word)
            except Exception as error:  # Redis away: the turn's relay queues it
                log.warning("early handoff word not queued: %s", error)

    async def early(self, word: Any) -> bool:
        """The assistant's handoff, queued before its turn ends, for the agents alone (the
        customer hears their place from the turn's relay). Only a conversation the hub has,
        and one the bot has: queued or with an agent, it stays. True if queued now."""
        found = handoff_requests.read_request(word)
        if found is None:
            log.warning("an early handoff word that is not one: ignored")
            return False
        cid, packet = found
        conv = await self.store.get(cid)
        if conv is None or conv.state is not State.BOT:
            return False
        typed = packet.attach(conv.id, conv.channel)
        queued = await self.store.enqueue(
            conv.id, typed.severity.level, typed.payload(), conv.language, typed.key(), existing=True
        )
        return queued is Enqueued.NOW

    async def _queued(self, conv: Conversation, packet: Optional[handoff.HandoffPacket]) -> Message:
        """Their place and when: from the queue, or from the opening hours when nobody is
        online (with the call-back and email options)."""
        position = await self.store.position(conv.id)
        if await self.store.agents_online(self.settings.agent_online_seconds):
            return self.texts.message(
                "queued", conv.language, position=position, minutes=position * self.settings.minutes_per_case
            )
        email = follow_up_email(packet, conv.followup_email) if self.settings.email_enabled else ""
        if not self.settings.email_enabled:
            key = "no_agent_online"
        else:
            key = "no_agent_online_email_known" if email else "no_agent_online_email_unknown"
        when = self.reply_by(conv.language, position)
        return {
            **self.texts.message(key, conv.language, reply_by=when, email=mask_email(email)),
            "buttons": self.texts.buttons("followup_buttons", conv.language),
        }

    async def _already_handed_off(self, conv: Conversation, lead: Optional[Message] = None) -> List[Message]:
        """A handoff while the conversation is already queued or with an agent (a repeat,
        or concurrent messages): its place and agent stay, nothing new reaches the agents."""
        current = await self.store.get(conv.id)
        if current is None or current.state is not State.QUEUED:
            # An agent has it: the console shows the customer's messages live.
            if lead is not None:
                await self.store.log(conv.id, "bot", lead["text"])
            return [lead] if lead is not None else []
        reply = joined(lead, await self.added_to_case(conv))
        await self.store.log(conv.id, "bot", reply["text"])
        return [reply]

    def reply_by(self, language: str, position: int) -> str:
        """When a person will reply while nobody is online: from the opening hours."""
        return reply_by(
            local_now(self.settings.support_utc_offset),
            parse_hours(self.settings.support_hours),
            self.settings.minutes_per_case * max(position, 1) + 30,
            language,
            self.texts,
        )

    async def added_to_case(self, conv: Conversation, said: str = "") -> Message:
        """What a customer waiting in the queue hears when they write (`said`): their
        message is with their case (to a thank-you, "you're welcome"; to an "ok", "noted"),
        and when someone replies."""
        position = await self.store.position(conv.id)
        # The same word on when as the handoff gave: never "in about 20 minutes" to
        # someone told the team is back tomorrow morning.
        if await self.store.agents_online(self.settings.agent_online_seconds):
            wait = self.texts.text(
                "queued", conv.language, position=position, minutes=position * self.settings.minutes_per_case
            )
        else:
            wait = self.texts.text(
                "queued_offline", conv.language, reply_by=self.reply_by(conv.language, position)
            )
        kind = courtesy(said)
        key = {"thanks": "welcome_while_queued", "ok": "noted_while_queued"}.get(kind or "", "added_to_case")
        return {"text": f"{self.texts.text(key, conv.language)} {wait}"}

    async def assistant_away(self, conv: Conversation, why: str) -> List[Message]:
        """Rasa is away: apologise at once and queue for a person with what we have (the
        same packet type as the assistant's, summarised in both languages). When the
        assistant had handed over in this turn before it failed (its early word queued
        it: the turn began with the bot), the queue keeps the assistant's packet, and the
        customer hears its case."""
        current = await self.store.get(conv.id)
        early = current.handoff() if current is not None and current.state is not State.BOT else None
        if early is not None:
            packet = early
        else:
            transcript = await self.store.transcript(conv.id)
            last = next((t["text"] for t in reversed(transcript) if t["from"] == "customer"), "")
            packet = handoff.assistant_away(
                conv.id, conv.channel, conv.identity, conv.language, new_case_ref(), why, last
            )
        apology = self.texts.message("assistant_unavailable", conv.language, case_ref=packet.case_ref)
        await self.store.log(conv.id, "bot", apology["text"])
        return [apology] + await self.queue(conv, packet.payload())
