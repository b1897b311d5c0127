"""Facebook Messenger channel, as Meta specifies it.

Webhook:
- GET: subscription verification (hub.mode, hub.verify_token, hub.challenge); a wrong
  token is 403.
- POST: the raw body's X-Hub-Signature-256 (HMAC-SHA256 with the app secret) is checked
  in constant time before anything else; missing or wrong is 403 and nothing is done.
  Every entry and every messaging event of a batch is handled: text, quick-reply
  payloads, postbacks (buttons, Get Started) and attachments (acknowledged: the bot
  says what it can take); echoes, deliveries and reads are ignored. The answer is 200
  at once; the work goes on in the background, so Meta never retries for our slowness.
  A message id (mid) seen before is processed once (the core's de-duplication). Past a
  limit (bot/core/limits.py: the conversation's bucket and byte budget, checked before
  anything is stored) the customer is told "one moment" and nothing is kept.

Sending: the Send API (channels/graph.py). A typing indicator shows while Rasa works,
and the message is marked seen on receipt. An agent's reply goes out under a Page
persona of their display name, made the first time the name writes and kept in Redis
(shared by every hub process); a Page that refuses personas is asked again an hour later.

The 24-hour rule (bot/core/windows.py, where every channel's window is): inside 24 h of
the customer's last message a normal RESPONSE; after that only a human agent may write,
with the HUMAN_AGENT tag, for up to 7 days; the bot never writes outside the 24 h window.
"""

import asyncio
import hashlib
import hmac
import logging
import re
import time
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

from aiohttp import web

from bot.channels.graph import GraphClient, to_messenger
from bot.channels.identity import channel_identity
from bot.core import windows
from bot.core.channel import ChannelHost, Inbound, Message, Refused, Undeliverable
from bot.core.windows import Window
from bot.web.http import parse_json_object, same_secret
from contract import keys

log = logging.getLogger(__name__)
CHANNEL = "messenger"
MAX_BODY = 1024 * 1024
GET_STARTED = "GET_STARTED"


class WindowClosed(Undeliverable):
    """Messenger does not allow this message now (see the 24-hour rule)."""


# Both go into Redis key names: no ':' (the keys' separator), bounded length.
PSID_RE = re.compile(r"^[0-9]{1,64}$")
MID_RE = re.compile(r"^[A-Za-z0-9_.$=+/-]{1,200}$")


def conversation_id(psid: str) -> str:
    return f"fb-{psid}"


def valid_signature(body: bytes, header: Optional[str], app_secret: str) -> bool:
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return same_secret(header[len("sha256=") :], expected)


def events_of(body: Dict[str, Any]) -> List[Dict[str, Any]]:
    """Every messaging event of every entry (standby events included as such)."""
    found = []
    for entry in as_list(body.get("entry")):
        if not isinstance(entry, dict):
            continue
        for key in ("messaging", "standby"):
            for event in as_list(entry.get(key)):
                if isinstance(event, dict):
                    found.append({**event, "_kind": key})
    return found


def as_list(value: Any) -> List[Any]:
    return value if isinstance(value, list) else []


def page_scoped_id(value: Any) -> Optional[str]:
    """A PSID (Meta's are digits), or None: it names the conversation's Redis keys."""
    value = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    return value if isinstance(value, str) and PSID_RE.match(value) else None


def message_key(value: Any) -> str:
    """A message id as it may go into a Redis key name: Meta's pass as they are, anything
    else (a signed but malformed event) is hashed."""
    if not isinstance(value, str) or not value:
        return ""
    if MID_RE.match(value):
        return value
    return "h" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class Personas:
    """The Page persona of each agent display name, made on first use and kept in Redis
    (so every hub process uses the same one); "-" marks a name the Page refused."""

    def __init__(self, redis, graph: GraphClient) -> None:
        self.redis = redis
        self.graph = graph

    async def of(self, name: str) -> Optional[str]:
        key = keys.messenger_persona(hashlib.sha256(name.encode()).hexdigest()[:24])
        cached = await self.redis.get(key)
        if cached:
            return None if cached == "-" else cached
        made = await self.graph.create_persona(name)
        await self.redis.set(key, made or "-", ex=keys.PERSONA_TTL if made else keys.PERSONA_REFUSED_TTL)
        return made


def read_event(event: Dict[str, Any]) -> Optional[Tuple[str, str, str, List[Any]]]:
    """(psid, message id, text, attachments) of an event to answer, or None: standby
    (another app has the thread), echoes, deliveries, reads, and shapes Meta never sends."""
    if event["_kind"] == "standby":
        return None
    sender, message, postback = (event.get(k) or {} for k in ("sender", "message", "postback"))
    if not all(isinstance(part, dict) for part in (sender, message, postback)):
        return None
    psid = page_scoped_id(sender.get("id"))
    if not psid or message.get("is_echo") or "delivery" in event or "read" in event:
        return None
    if message:
        mid = message.get("mid") or ""
        quick = message.get("quick_reply")
        text = (quick.get("payload") if isinstance(quick, dict) else None) or message.get("text") or ""
        attachments = as_list(message.get("attachments"))
    elif postback:
        mid = postback.get("mid") or f"postback-{event.get('timestamp', '')}"
        payload = postback.get("payload") or postback.get("title") or ""
        text = "/greet" if payload == GET_STARTED else payload
        attachments = []
    else:
        return None
    return (psid, message_key(mid), text, attachments) if isinstance(text, str) else None


class MessengerChannel:
    def __init__(
        self,
        verify_token: str,
        app_secret: str,
        graph: GraphClient,
        host: ChannelHost,
        personas: Personas,
        max_chars: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.verify_token = verify_token
        self.app_secret = app_secret
        self.graph = graph
        self.host = host
        self.personas = personas
        self.max_chars = max_chars  # longer text is cut (Messenger allows 2000)
        self.clock = clock
        self.tasks: Set[asyncio.Task] = set()

    # --- webhook ----------------------------------------------------------------------

    async def verify(self, request: web.Request) -> web.Response:
        query = request.query
        token = query.get("hub.verify_token", "")
        if query.get("hub.mode") == "subscribe" and same_secret(token, self.verify_token):
            return web.Response(text=query.get("hub.challenge", ""))
        return web.json_response({"error": "verification failed"}, status=403)

    async def receive(self, request: web.Request) -> web.Response:
        body = await request.content.read(MAX_BODY + 1)
        if not valid_signature(body, request.headers.get("X-Hub-Signature-256"), self.app_secret):
            return web.json_response({"error": "bad or missing X-Hub-Signature-256"}, status=403)
        if len(body) > MAX_BODY:
            return web.json_response({"error": "body too large"}, status=413)
        payload = parse_json_object(body)  # 400 for anything malformed
        if payload.get("object") != "page":
            return web.json_response({"error": "not a page subscription event"}, status=400)
        for event in events_of(payload):
            task = asyncio.create_task(self._handle(event))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        return web.Response(text="EVENT_RECEIVED")

    async def drain(self, timeout: float = 30) -> None:
        """Wait for the events still being processed (tests, shutdown)."""
        if self.tasks:
            await asyncio.wait(list(self.tasks), timeout=timeout)

    async def _handle(self, event: Dict[str, Any]) -> None:
        try:
            await self._process(event)
        except Exception:
            log.exception("Messenger event could not be processed")

    async def _process(self, event: Dict[str, Any]) -> None:
        found = read_event(event)
        if found is None:
            return
        psid, mid, text, attachments = found
        await self._action(psid, "mark_seen")
        try:
            if not text.strip() and attachments:
                kinds = ", ".join(
                    sorted({str(a.get("type") or "file") for a in attachments if isinstance(a, dict)})
                )
                inbound = self._inbound(psid, mid, f"[{kinds or 'file'}]")
                replies = await self.host.attachment(inbound, attachments)
            elif text.strip():
                await self._action(psid, "typing_on")
                replies = await self.host.handle(self._inbound(psid, mid, text.strip()[: self.max_chars]))
            else:
                return
        except Refused as refused:  # nothing was stored
            replies = [refused.reply]
        await self.deliver(psid, replies, messaging_type="RESPONSE")

    def _inbound(self, psid: str, mid: str, text: str) -> Inbound:
        return Inbound(
            channel=CHANNEL,
            conversation_id=conversation_id(psid),
            text=text,
            identity=channel_identity(psid, psid=psid),
            message_id=mid,
        )

    async def _action(self, psid: str, action: str) -> None:
        await self.graph.send({"recipient": {"id": psid}, "sender_action": action})

    async def deliver(
        self,
        psid: str,
        messages: List[Message],
        messaging_type: str,
        tag: Optional[str] = None,
        persona: Optional[str] = None,
    ) -> None:
        for message in messages:
            for part in to_messenger(message):
                body = {"recipient": {"id": psid}, "messaging_type": messaging_type, "message": part}
                if tag:
                    body["tag"] = tag
                if persona:
                    body["persona_id"] = persona
                await self.graph.send(body)

    # --- outside a customer's request: agents and reassurance --------------------------

    async def window(self, conversation_id: str) -> Window:
        """Where this conversation stands in Messenger's 24-hour / 7-day rule."""
        return windows.messenger(await self.host.last_customer_at(conversation_id), self.clock())

    async def allows(self, conversation_id: str, sender: str) -> bool:
        return (await self.window(conversation_id)).allows(sender)

    async def push(self, conversation_id: str, messages: List[Message], sender: str = "bot") -> None:
        window = await self.window(conversation_id)
        psid = conversation_id[len("fb-") :]
        # An agent's reply goes out under their display name (core/outbox.py public_name).
        name = next((m.get("agent") for m in messages if m.get("agent")), "") if sender == "agent" else ""
        persona = await self.personas.of(name) if name and window.allows(sender) else None
        if window.state == windows.OPEN:
            await self.deliver(psid, messages, messaging_type="RESPONSE", persona=persona)
        elif window.state == windows.HUMAN_AGENT_ONLY and sender == "agent":
            await self.deliver(
                psid, messages, messaging_type="MESSAGE_TAG", tag="HUMAN_AGENT", persona=persona
            )
        else:
            raise WindowClosed(
                f"Messenger window is {window.state}: "
                f"{'only a human agent may write' if window.state != windows.CLOSED else 'nobody may write'}"
            )

    def describe(self) -> Dict[str, Any]:
        return {
            "name": CHANNEL,
            "delivery": "Graph API Send API",
            "time_rule": "bot within 24 h of the customer's last message; agents (HUMAN_AGENT tag) within 7 days",
        }
