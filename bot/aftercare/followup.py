"""Email follow-up: an agent's reply (or the team's word on a promise: a task done or
not, aftercare/promises.py) that the customer's widget has not shown within
FOLLOW_UP_AFTER seconds is emailed to them, once, in their language, with the case
reference and a link that reopens the conversation (aftercare/resume.py).

The address is one we know is the customer's (a verified customer's on record, or the
details' email marked verified), or else the one the customer confirmed after choosing
"Email me" (core/contacts.py follow_up_email), or else the shop's address of the verified
customer a promise in this conversation was made to (contract/tasks.py customer_email: a
conversation the bot handled alone has no packet). An address only typed is never
written to.

On a channel with a reply window (Messenger, Zalo: bot/core/windows.py), a follow-up the
window no longer allows (an agent's late reply, "resolved", a missed call-back) is kept
in the transcript marked as held (`FollowUpElsewhere`, the outbox's Elsewhere) and
emailed at once to the customer's address (verified or confirmed, as above); without
one, or without email, it becomes a task for the team (aftercare/callback.py `reach`).

Across hub processes: every process hears each transcribed agent reply (core/events.py)
and schedules the conversation in keys.FOLLOW_UP_DUE; the process that wins the
conversation's lock (keys.follow_up_lock) sends; keys.emailed(cid) holds the last
reply emailed, so a reply is never sent twice. Every attempt and failure is written to
the transcript as a "system" entry; failures are retried with a growing delay.
"""

import logging
import time
from typing import Any, Dict, List, Optional

from bot.aftercare.callback import CallBacks
from bot.aftercare.mail import Mailer, MailError
from bot.aftercare.resume import resume_link
from bot.core.channel import Message
from bot.core.contacts import follow_up_email
from bot.core.conversation import Conversation
from bot.core.conversations import ConversationStore
from bot.core.outgoing import acknowledged, id_key
from bot.core.texts import Texts
from bot.settings import Settings
from contract import keys, tasks
from contract.identity import mask_email
from contract.language import spoken

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
RETRY_SECONDS = 30
LOCK_SECONDS = 120  # longer than one SMTP attempt (aftercare/mail.py SEND_TIMEOUT)


WIDGET = "web"
HELD_BY = "held_by"  # on a transcript entry the channel could not carry: "email" or "task"
PROMISE = "promise"  # on the team's word about a promise: the task's id (aftercare/promises.py)


def entry_time(entry_id: str) -> float:
    return id_key(entry_id)[0] / 1000


def owed(entry: Dict[str, Any]) -> bool:
    """A message the customer must get, by email if the widget does not show it in time:
    an agent's reply, or the team's word on a promise (aftercare/promises.py)."""
    data = entry.get("data") or {}
    return entry.get("from") == "agent" or (entry.get("from") == "bot" and bool(data.get(PROMISE)))


async def address_of(store: ConversationStore, conv: Conversation) -> str:
    """Where to email this conversation's customer: a verified or confirmed address, or
    the verified customer's a promise here was made to ("" for none)."""
    return follow_up_email(conv.handoff(), conv.followup_email) or await tasks.customer_email(
        store.redis, conv.id
    )


class FollowUpElsewhere:
    """Where a follow-up goes when the customer's channel may not carry it (the outbox's
    Elsewhere): by email when the hub can send email and the case has an address, else
    a task for the team. Either way it is in the transcript, marked as held."""

    def __init__(self, store: ConversationStore, settings: Settings, callbacks: CallBacks, clock=time.time):
        self.store = store
        self.settings = settings
        self.callbacks = callbacks
        self.clock = clock

    async def take(
        self, conv: Conversation, messages: List[Message], sender: str, why: str, task: bool = True
    ) -> str:
        address = ""
        if self.settings.email_enabled:
            address = await address_of(self.store, conv)
        by = "email" if address else "task" if task else "note"
        for message in messages:
            await self.store.log_message(conv.id, sender, {**message, "held": conv.channel, HELD_BY: by})
        if by == "email":
            await self.store.log(
                conv.id, "system", f"not sent on {conv.channel} ({why}): emailing {mask_email(address)}"
            )
            await self.store.redis.zadd(keys.FOLLOW_UP_DUE, {conv.id: self.clock()})
        elif by == "task":
            await self.callbacks.reach(conv, why)
        else:
            await self.store.log(
                conv.id, "system", f"not sent on {conv.channel} ({why}) and no email to send it to"
            )
        return by


class EmailFollowUp:
    def __init__(
        self,
        store: ConversationStore,
        texts: Texts,
        settings: Settings,
        secret: str,
        mailer: Mailer,
        clock=time.time,
    ) -> None:
        self.store = store
        self.redis = store.redis
        self.texts = texts
        self.settings = settings
        self.secret = secret
        self.mailer = mailer
        self.clock = clock

    async def schedule(self, cid: str, at: float, replace: bool = False) -> None:
        await self.redis.zadd(keys.FOLLOW_UP_DUE, {cid: at}, nx=not replace)

    async def listen(self, events) -> None:
        """Schedule a check for every agent reply transcribed (events: a console queue)."""
        while True:
            event = await events.get()
            if event.get("type") == "shutdown":
                return
            if event.get("type") == "message" and owed(event.get("message") or {}):
                await self.schedule(event["conversation_id"], self.clock() + self.settings.follow_up_after)

    async def run_once(self) -> int:
        """Handle every conversation that is due; returns how many emails were sent."""
        sent = 0
        due = await self.redis.zrangebyscore(keys.FOLLOW_UP_DUE, "-inf", self.clock(), start=0, num=50)
        for cid in due:
            if not await self.redis.set(keys.follow_up_lock(cid), 1, nx=True, ex=LOCK_SECONDS):
                continue  # another hub process has it
            try:
                sent += await self._follow_up(cid)
            finally:
                await self.redis.delete(keys.follow_up_lock(cid))
        return sent

    async def _follow_up(self, cid: str) -> int:
        conv = await self.store.get(cid)
        if conv is None:
            await self.redis.zrem(keys.FOLLOW_UP_DUE, cid)
            return 0
        emailed = await self.redis.get(keys.emailed(cid)) or "0-0"
        transcript = await self.store.transcript(cid)
        now = self.clock()
        if conv.channel == WIDGET:  # agent replies the widget has not shown in time
            seen = await acknowledged(self.redis, cid) or "0-0"
            after = max(seen, emailed, key=id_key)
            unseen = [e for e in transcript if owed(e) and e.get("text") and id_key(e["id"]) > id_key(after)]
            ripe = [e for e in unseen if now - entry_time(e["id"]) >= self.settings.follow_up_after]
        else:  # what the channel's window held back for email: at once
            unseen = [
                e
                for e in transcript
                if e["data"].get(HELD_BY) == "email" and e.get("text") and id_key(e["id"]) > id_key(emailed)
            ]
            ripe = unseen
        if not ripe:
            if unseen:  # come back when the oldest unseen reply is old enough
                await self.schedule(
                    cid, entry_time(unseen[0]["id"]) + self.settings.follow_up_after, replace=True
                )
            else:
                await self.redis.zrem(keys.FOLLOW_UP_DUE, cid)
            return 0
        address = await address_of(self.store, conv)
        if not address:
            await self.redis.zrem(keys.FOLLOW_UP_DUE, cid)
            return 0  # nobody to write to: the replies wait in the widget
        return await self._send(conv, address, ripe, unseen)

    async def _send(
        self, conv: Conversation, address: str, ripe: List[Dict[str, Any]], unseen: List[Dict[str, Any]]
    ) -> int:
        cid, last = conv.id, ripe[-1]["id"]
        message = self.compose(conv, address, ripe)
        attempts_key = keys.follow_up_attempts(cid)
        stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(self.clock()))
        try:
            await self.mailer.send(message)
        except MailError as error:
            attempt = await self.redis.incr(attempts_key)
            await self.redis.expire(attempts_key, keys.CONVERSATION_TTL)
            if attempt >= MAX_ATTEMPTS:
                await self.store.log(
                    cid,
                    "system",
                    f"email to {mask_email(address)} failed at {stamp} "
                    f"(attempt {attempt}, giving up): {error}",
                )
                await self.redis.zrem(keys.FOLLOW_UP_DUE, cid)
            else:
                await self.store.log(
                    cid,
                    "system",
                    f"email to {mask_email(address)} failed at {stamp} "
                    f"(attempt {attempt}, will retry): {error}",
                )
                await self.schedule(cid, self.clock() + RETRY_SECONDS * attempt, replace=True)
            return 0
        pipe = self.redis.pipeline(transaction=True)
        pipe.set(keys.emailed(cid), last, ex=keys.CONVERSATION_TTL)
        pipe.delete(attempts_key)
        await pipe.execute()
        await self.store.log(
            cid,
            "system",
            f"emailed at {stamp} to {mask_email(address)}: "
            f"{len(ripe)} unread repl{'y' if len(ripe) == 1 else 'ies'}",
            {"emailed": [e["id"] for e in ripe]},
        )
        later = [e for e in unseen if id_key(e["id"]) > id_key(last)]
        if later:
            await self.schedule(cid, entry_time(later[0]["id"]) + self.settings.follow_up_after, replace=True)
        else:
            await self.redis.zrem(keys.FOLLOW_UP_DUE, cid)
        return 1

    def compose(self, conv: Conversation, address: str, replies: List[Dict[str, Any]]):
        language = spoken(conv.language)
        packet = conv.handoff()
        # A conversation the bot handled alone has no packet: its promise names the case.
        named = next((e["data"]["case_ref"] for e in replies if e["data"].get("case_ref")), "")
        case_ref = packet.case_ref if packet else named or conv.id
        quoted = "\n\n".join(
            f"{e['data'].get('agent') or self.texts.text('email_team', language)}: {e['text']}"
            for e in replies
        )
        shop_url = self.settings.shop_url or f"http://{self.settings.host}:{self.settings.port}/"
        if conv.channel == WIDGET:  # the link reopens the widget conversation
            body = self.texts.text(
                "email_body",
                language,
                case_ref=case_ref,
                replies=quoted,
                link=resume_link(shop_url, conv.id, self.secret),
            )
        else:  # the customer carries on where they wrote: their channel reopens the window
            body = self.texts.text(
                "email_body_channel",
                language,
                case_ref=case_ref,
                replies=quoted,
                channel=conv.channel.title(),
            )
        subject = self.texts.text("email_subject", language, case_ref=case_ref)
        return self.mailer.compose(
            address, subject, body, language, key=f"followup.{conv.id}.{replies[-1]['id']}"
        )


def describe(settings: Settings) -> Optional[str]:
    """Why follow-up is off, or None when it is on."""
    if not settings.email_enabled:
        return "email follow-up off: set SMTP_URL and MAIL_FROM to email unread agent replies"
    return None
