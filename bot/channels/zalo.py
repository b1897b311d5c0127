"""Zalo Official Account channel, as Zalo specifies it.

Webhook (POST /webhooks/zalo/webhook):
- Zalo signs each event with `X-ZEvent-Signature: mac=<hex>`, where mac is the SHA-256
  (a plain hash, not an HMAC) of app id + the raw body + the event's `timestamp` + the
  OA secret key. The MAC is checked in constant time before the body is parsed (the
  timestamp is read from the raw bytes for it), then the timestamp must be within
  ZALO_EVENT_MAX_AGE of now: a missing or wrong MAC, or a stale event, is 401 and
  nothing is stored. A replay inside that age is dropped by its `msg_id` (the core's
  de-duplication, which remembers ids for longer than the age allowed).
- The answer is 200 at once (Zalo wants it within 2 s, retries, then disables the
  webhook); the work goes on in the background, like Messenger's.
- `user_send_text` goes to the core as the customer's message (a number answers the
  numbered choices last offered); images, stickers, GIFs, files, locations, voice and
  the rest are acknowledged and kept in the transcript for the agent. Follows, seen and
  received receipts, and the OA's own messages are ignored.

Sending: the consultation message API (bot/channels/zalo_api.py), replying to the
customer's last message (so Zalo counts it as a free reply). An agent's reply carries
their display name in the text (Zalo has no per-message sender name).

The window (bot/core/windows.py): 48 h after the customer's last message, within Zalo's
reply quota (8 messages, renewed whenever the customer writes). The hub counts what it
sends since the customer's last message (keys.zalo_reply), and a refusal from Zalo
(the user has not written recently enough, a quota) shuts it until the customer writes.
"""

import asyncio
import hashlib
import json
import logging
import re
import time
from typing import Any, Callable, Dict, List, Optional, Set

from aiohttp import web

from bot.channels.identity import channel_identity
from bot.channels.messenger import message_key
from bot.channels.zalo_api import BAD_PARAMETER, ZaloClient, ZaloError, ZaloWindowClosed, chosen, to_zalo
from bot.core import windows
from bot.core.channel import ChannelHost, Inbound, Message, Refused, Undeliverable
from bot.core.windows import Window
from bot.web.http import parse_json_object, same_secret
from contract import keys

log = logging.getLogger(__name__)
CHANNEL = "zalo"
PREFIX = "zalo-"
MAX_BODY = 1024 * 1024
FUTURE_SKEW = 300.0  # seconds an event's timestamp may be ahead of our clock
USER_ID_RE = re.compile(r"^[0-9]{1,64}$")  # goes into Redis key names: digits only
# A top-level "timestamp": 1700000000000 or "1700000000000" in the raw body (no JSON parsing).
TIMESTAMP_RE = re.compile(rb'"timestamp"\s*:\s*"?([0-9]{1,20})"?')
ATTACHMENT_EVENTS = {
    "user_send_image": "image",
    "user_send_sticker": "sticker",
    "user_send_gif": "gif",
    "user_send_file": "file",
    "user_send_location": "location",
    "user_send_audio": "audio",
    "user_send_video": "video",
    "user_send_link": "link",
    "user_send_business_card": "business card",
}


def conversation_id(user_id: str) -> str:
    return f"{PREFIX}{user_id}"


def mac_of(app_id: str, body: bytes, timestamp: str, oa_secret: str) -> str:
    """Zalo's X-ZEvent-Signature mac: sha256(app_id + body + timestamp + OA secret key)."""
    return hashlib.sha256(app_id.encode() + body + timestamp.encode() + oa_secret.encode()).hexdigest()


def signed_timestamp(body: bytes, header: Optional[str], app_id: str, oa_secret: str) -> Optional[str]:
    """The event timestamp the MAC covers, when the MAC is right; else None. Each
    `"timestamp"` in the raw body is tried (the top-level one is Zalo's)."""
    if not header:
        return None
    given = header.strip()
    given = given[len("mac=") :] if given.lower().startswith("mac=") else given
    candidates = list(dict.fromkeys(m.group(1).decode() for m in TIMESTAMP_RE.finditer(body[:MAX_BODY])))
    found = None
    for timestamp in candidates[:4]:
        if same_secret(given.lower(), mac_of(app_id, body, timestamp, oa_secret)):
            found = timestamp
    return found


def user_id_of(value: Any) -> Optional[str]:
    value = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    return value if isinstance(value, str) and USER_ID_RE.match(value) else None


def as_dict(value: Any) -> Dict[str, Any]:
    return value if isinstance(value, dict) else {}


def attachments_of(kind: str, message: Dict[str, Any]) -> List[Dict[str, Any]]:
    found = (
        [a for a in message.get("attachments") or [] if isinstance(a, dict)]
        if isinstance(message.get("attachments"), list)
        else []
    )
    if not found and isinstance(message.get("location"), dict):
        found = [{"type": "location", "payload": {"coordinates": message["location"]}}]
    return found or [{"type": kind}]


def described(kind: str, attachments: List[Dict[str, Any]]) -> str:
    """What the transcript says was sent: "[sticker]", "[location 10.76, 106.66]"."""
    if kind == "location":
        payload = as_dict(attachments[0].get("payload")) if attachments else {}
        where = as_dict(payload.get("coordinates")) or payload
        lat, lon = where.get("latitude"), where.get("longitude")
        if isinstance(lat, (str, int, float)) and isinstance(lon, (str, int, float)):
            return f"[location {str(lat)[:20]}, {str(lon)[:20]}]"
    return f"[{kind}]"


class ZaloChannel:
    def __init__(
        self,
        app_id: str,
        oa_secret: str,
        client: ZaloClient,
        host: ChannelHost,
        redis,
        max_chars: int,
        max_event_age: float,
        reply_quota: int = windows.ZALO_REPLY_QUOTA,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app_id = app_id
        self.oa_secret = oa_secret
        self.client = client
        self.host = host
        self.redis = redis
        self.max_chars = max_chars
        self.max_event_age = max_event_age
        self.reply_quota = reply_quota
        self.clock = clock
        self.tasks: Set[asyncio.Task] = set()

    # --- webhook ----------------------------------------------------------------------

    async def receive(self, request: web.Request) -> web.Response:
        body = await request.content.read(MAX_BODY + 1)
        timestamp = signed_timestamp(
            body, request.headers.get("X-ZEvent-Signature"), self.app_id, self.oa_secret
        )
        if timestamp is None:
            return web.json_response({"error": "bad or missing X-ZEvent-Signature"}, status=401)
        age = self.clock() - int(timestamp) / 1000
        if not -FUTURE_SKEW <= age <= self.max_event_age:
            return web.json_response({"error": "stale event: its timestamp is out of range"}, status=401)
        if len(body) > MAX_BODY:
            return web.json_response({"error": "body too large"}, status=413)
        event = parse_json_object(body)  # 400 for anything malformed
        if str(event.get("timestamp")) != timestamp:
            return web.json_response({"error": "the signed timestamp is not the event's"}, status=401)
        task = asyncio.create_task(self._handle(event))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return web.json_response({"received": True})

    async def drain(self, timeout: float = 30) -> None:
        """Wait for the events still being processed (tests, shutdown)."""
        if self.tasks:
            await asyncio.wait(list(self.tasks), timeout=timeout)

    async def _handle(self, event: Dict[str, Any]) -> None:
        try:
            await self._process(event)
        except Exception:
            log.exception("Zalo event could not be processed")

    async def _process(self, event: Dict[str, Any]) -> None:
        name = event.get("event_name")
        if not isinstance(name, str) or (name != "user_send_text" and name not in ATTACHMENT_EVENTS):
            return  # follow, unfollow, seen and received receipts, the OA's own messages
        user = user_id_of(as_dict(event.get("sender")).get("id"))
        message = as_dict(event.get("message"))
        raw_id = message.get("msg_id")
        if not user or not isinstance(raw_id, str) or not raw_id:
            return
        cid = conversation_id(user)
        await self._customer_wrote(cid, raw_id)  # Zalo's reply window: one hash a conversation
        mid = message_key(raw_id)
        try:
            if name == "user_send_text":
                text = message.get("text")
                if not isinstance(text, str) or not text.strip():
                    return
                picked = chosen(text, await self._choices(cid))
                inbound = self._inbound(user, mid, picked or text.strip()[: self.max_chars])
                replies = await self.host.handle(inbound)
            else:
                kind = ATTACHMENT_EVENTS[name]
                attachments = attachments_of(kind, message)
                inbound = self._inbound(user, mid, described(kind, attachments))
                replies = await self.host.attachment(inbound, attachments)
        except Refused as refused:  # a limit (bot/core/limits.py): nothing of it was stored
            replies = [refused.reply]
        await self.deliver(user, cid, replies)

    def _inbound(self, user: str, mid: str, text: str) -> Inbound:
        return Inbound(
            channel=CHANNEL,
            conversation_id=conversation_id(user),
            text=text,
            identity=channel_identity(user, zalo_user=user),
            message_id=mid,
        )

    async def _customer_wrote(self, cid: str, msg_id: str) -> None:
        """A new message renews Zalo's reply quota; replies cite it."""
        key = keys.zalo_reply(cid)
        if await self.redis.hget(key, "message_id") == msg_id:
            return  # a redelivery
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(key, mapping={"message_id": msg_id, "sent": 0})
        pipe.hdel(key, "refused")
        pipe.expire(key, keys.ZALO_REPLY_TTL)
        await pipe.execute()

    async def _choices(self, cid: str) -> List[str]:
        raw = await self.redis.get(keys.zalo_choices(cid))
        try:
            found = json.loads(raw) if raw else []
        except ValueError:
            return []
        return [c for c in found if isinstance(c, str)] if isinstance(found, list) else []

    # --- sending ------------------------------------------------------------------------

    async def deliver(
        self, user: str, cid: str, messages: List[Message], sender: str = "bot", strict: bool = False
    ) -> None:
        """Send each message; `strict` (outside a customer's request): a refusal raises
        (ZaloWindowClosed, ZaloError), else it is logged."""
        if not messages:
            return
        reply_to = await self.redis.hget(keys.zalo_reply(cid), "message_id") or ""
        offered: List[str] = []
        for message in messages:
            if sender == "agent" and message.get("agent") and message.get("text"):
                message = {**message, "text": f"{message['agent']}: {message['text']}"}
            parts, offered = to_zalo(message)
            for part in parts:
                try:
                    await self._send(user, cid, part, reply_to)
                except ZaloError as error:
                    if strict:
                        raise
                    log.error("Zalo did not take a reply to %s: %s", cid, error)
                    return
        if offered:
            await self.redis.set(keys.zalo_choices(cid), json.dumps(offered), ex=keys.ZALO_REPLY_TTL)
        else:
            await self.redis.delete(keys.zalo_choices(cid))

    async def _send(self, user: str, cid: str, part: Dict[str, Any], reply_to: str) -> None:
        try:
            await self.client.send(user, part, reply_to)
        except ZaloError as error:
            if error.code != BAD_PARAMETER or "attachment" not in part or "text" not in part:
                raise
            log.warning("Zalo refused buttons (%s): sending the numbered choices as text", error)
            await self.client.send(user, {"text": part["text"]}, reply_to)
        pipe = self.redis.pipeline(transaction=True)
        pipe.hincrby(keys.zalo_reply(cid), "sent", 1)
        pipe.expire(keys.zalo_reply(cid), keys.ZALO_REPLY_TTL)
        await pipe.execute()

    # --- outside a customer's request: agents, notices ------------------------------------

    async def window(self, conversation_id: str) -> Window:
        last = await self.host.last_customer_at(conversation_id)
        sent, refused = await self.redis.hmget(keys.zalo_reply(conversation_id), "sent", "refused")
        return windows.zalo(last, self.clock(), int(sent or 0), self.reply_quota, refused=bool(refused))

    async def allows(self, conversation_id: str, sender: str) -> bool:
        return (await self.window(conversation_id)).allows(sender)

    async def push(self, conversation_id: str, messages: List[Message], sender: str = "bot") -> None:
        window = await self.window(conversation_id)
        if not window.allows(sender):
            raise ZaloWindowClosed(f"the Zalo window is closed ({window.reason})")
        user = conversation_id[len(PREFIX) :]
        try:
            await self.deliver(user, conversation_id, messages, sender, strict=True)
        except ZaloWindowClosed:
            # Zalo says the window is shut: nothing more is tried until the customer writes.
            await self.redis.hset(keys.zalo_reply(conversation_id), "refused", 1)
            raise
        except ZaloError as error:
            raise Undeliverable(f"Zalo did not take it: {error}") from error

    def describe(self) -> Dict[str, Any]:
        return {
            "name": CHANNEL,
            "delivery": "Zalo OA OpenAPI v3 consultation messages",
            "time_rule": f"48 h after the customer's last message, within {self.reply_quota} replies",
        }
