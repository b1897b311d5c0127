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
  A message id (mid) seen before is processed once (the router's de-duplication).

Send API: /me/messages with the page token, through an async client with timeouts and
retries (aiohttp-retry) on 5xx and 429. Buttons become quick replies (at most 13, titles of at most 20
characters); text over 640 characters is split at word boundaries, never cut. A typing
indicator shows while Rasa works, and the message is marked seen on receipt.

The 24-hour rule: inside 24 h of the customer's last message a normal RESPONSE; after
that only a human agent may write, with the HUMAN_AGENT tag, for up to 7 days; the bot
never writes outside the 24 h window.
"""

import asyncio
import hashlib
import hmac
import logging
import re
import time
from typing import Any, Callable, Dict, List, Optional, Set

import aiohttp
from aiohttp import web
from aiohttp_retry import ExponentialRetry, RetryClient

from bot.http import parse_json_object, same_secret
from bot.identity import channel_identity
from bot.router import Inbound, Router, Undeliverable
from contract import keys

log = logging.getLogger(__name__)
CHANNEL = "messenger"
TEXT_LIMIT = 640
QUICK_REPLY_LIMIT = 13
TITLE_LIMIT = 20
RESPONSE_WINDOW = 24 * 3600
HUMAN_AGENT_WINDOW = 7 * 24 * 3600
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


def split_text(text: str, limit: int = TEXT_LIMIT) -> List[str]:
    """Pieces of at most `limit` characters, broken at spaces, never inside a word
    (a single word longer than the limit is the only thing ever broken)."""
    pieces, current = [], ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            pieces.append(current)
        while len(word) > limit:
            pieces.append(word[:limit])
            word = word[limit:]
        current = word
    if current:
        pieces.append(current)
    return pieces or [""]


def short_title(title: str) -> str:
    if len(title) <= TITLE_LIMIT:
        return title
    cut = title[: TITLE_LIMIT - 1].rsplit(" ", 1)[0].rstrip(" +,-")
    return (cut or title[: TITLE_LIMIT - 1]) + "…"


def to_messenger(message: Dict[str, Any]) -> List[Dict[str, Any]]:
    """A hub/Rasa message as Messenger message objects."""
    out: List[Dict[str, Any]] = []
    text = message.get("text") or ""
    buttons = message.get("buttons") or []
    if message.get("image"):
        out.append(
            {"attachment": {"type": "image", "payload": {"url": message["image"], "is_reusable": True}}}
        )
    if text:
        out += [{"text": piece} for piece in split_text(text)]
    if buttons:
        if not out or "text" not in out[-1]:
            out.append({"text": "…"})
        out[-1]["quick_replies"] = [
            {"content_type": "text", "title": short_title(b["title"]), "payload": b["payload"][:1000]}
            for b in buttons[:QUICK_REPLY_LIMIT]
        ]
    return out


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


class GraphClient:
    """The Send API, with timeouts, and retries (aiohttp-retry) on 5xx, 429 and lost
    connections, waiting `backoff`, then twice as long, between attempts."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        graph_url: str,
        page_token: str,
        attempts: int = 3,
        backoff: float = 0.5,
    ) -> None:
        self.session = session
        self.url = f"{graph_url.rstrip('/')}/me/messages"
        self.personas_url = f"{graph_url.rstrip('/')}/me/personas"
        self.page_token = page_token
        self.timeout = aiohttp.ClientTimeout(total=10)
        # The session is the app's (closed by bot/app.py http_ctx): this client is not closed.
        self.client = RetryClient(
            client_session=session,
            retry_options=ExponentialRetry(
                attempts=attempts,
                start_timeout=backoff / 2,
                statuses={429},
                exceptions={aiohttp.ClientError, asyncio.TimeoutError},
            ),
        )

    async def send(self, body: Dict[str, Any]) -> bool:
        try:
            async with self.client.post(
                self.url, params={"access_token": self.page_token}, json=body, timeout=self.timeout
            ) as response:
                if response.status < 300:
                    return True
                detail = f"{response.status} {(await response.text())[:300]}"
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            detail = str(error) or type(error).__name__
        log.error("Send API refused or failed: %s", detail)
        return False

    async def create_persona(self, name: str) -> Optional[str]:
        """A Page persona (Personas API) for an agent's display name: its id, or None
        when the Page does not allow it (replies then go out as the Page)."""
        try:
            async with self.session.post(
                self.personas_url,
                params={"access_token": self.page_token},
                json={"name": name},
                timeout=self.timeout,
            ) as response:
                body = await response.json(content_type=None)
                if response.status < 300 and isinstance(body, dict) and body.get("id"):
                    return str(body["id"])
                log.warning("Personas API refused %r (%s): %s", name, response.status, str(body)[:200])
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            log.warning("Personas API failed for %r: %s", name, error)
        return None


class MessengerChannel:
    def __init__(
        self,
        verify_token: str,
        app_secret: str,
        graph: GraphClient,
        router: Router,
        max_chars: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.verify_token = verify_token
        self.app_secret = app_secret
        self.graph = graph
        self.router = router
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
        if event["_kind"] == "standby":
            return  # another app has the thread (handover protocol): not ours to answer
        sender, message, postback = (event.get(k) or {} for k in ("sender", "message", "postback"))
        if not all(isinstance(part, dict) for part in (sender, message, postback)):
            return  # not the shape Meta sends: nothing to answer
        psid = page_scoped_id(sender.get("id"))
        if not psid or message.get("is_echo") or "delivery" in event or "read" in event:
            return
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
            return
        mid = message_key(mid)
        if not isinstance(text, str):
            return
        cid = conversation_id(psid)
        await self._action(psid, "mark_seen")
        if not text.strip() and attachments:
            kinds = ", ".join(
                sorted({str(a.get("type") or "file") for a in attachments if isinstance(a, dict)})
            )
            replies = await self.router.attachment(
                Inbound(
                    channel=CHANNEL,
                    conversation_id=cid,
                    text=f"[{kinds or 'file'}]",
                    identity=channel_identity(psid, psid=psid),
                    message_id=mid,
                ),
                attachments,
            )
            await self.deliver(psid, replies, messaging_type="RESPONSE")
            return
        if not text.strip():
            return
        await self._action(psid, "typing_on")
        replies = await self.router.handle(
            Inbound(
                channel=CHANNEL,
                conversation_id=cid,
                text=text.strip()[: self.max_chars],
                identity=channel_identity(psid, psid=psid),
                message_id=mid,
            )
        )
        await self.deliver(psid, replies, messaging_type="RESPONSE")

    async def _action(self, psid: str, action: str) -> None:
        await self.graph.send({"recipient": {"id": psid}, "sender_action": action})

    async def deliver(
        self,
        psid: str,
        messages: List[Dict[str, Any]],
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

    async def persona(self, name: str) -> Optional[str]:
        """The persona of an agent's display name, made on first use and kept in Redis
        (so every hub process uses the same one)."""
        redis = self.router.store.redis
        key = keys.messenger_persona(hashlib.sha256(name.encode()).hexdigest()[:24])
        cached = await redis.get(key)
        if cached:
            return None if cached == "-" else cached
        made = await self.graph.create_persona(name)
        await redis.set(key, made or "-", ex=keys.PERSONA_TTL if made else keys.PERSONA_REFUSED_TTL)
        return made

    # --- outside a customer's request: agents and reassurance --------------------------

    async def window(self, conversation_id: str) -> Dict[str, Any]:
        """Where this conversation stands in Messenger's 24-hour / 7-day rule."""
        last = await self.router.last_customer_at(conversation_id)
        age = self.clock() - last if last else None
        if age is not None and age < RESPONSE_WINDOW:
            state = "open"
        elif age is not None and age < HUMAN_AGENT_WINDOW:
            state = "human_agent_only"
        else:
            state = "closed"
        return {
            "state": state,
            "last_customer_at": last,
            "response_until": last + RESPONSE_WINDOW if last else None,
            "human_agent_until": last + HUMAN_AGENT_WINDOW if last else None,
        }

    async def allows(self, conversation_id: str, sender: str) -> bool:
        state = (await self.window(conversation_id))["state"]
        return state == "open" or (state == "human_agent_only" and sender == "agent")

    async def push(self, conversation_id: str, messages: List[Dict[str, Any]], sender: str = "bot") -> None:
        window = await self.window(conversation_id)
        psid = conversation_id[len("fb-") :]
        # An agent's reply goes out under their display name (router.public_name).
        name = next((m.get("agent") for m in messages if m.get("agent")), "") if sender == "agent" else ""
        persona = await self.persona(name) if name and window["state"] != "closed" else None
        if window["state"] == "open":
            await self.deliver(psid, messages, messaging_type="RESPONSE", persona=persona)
        elif window["state"] == "human_agent_only" and sender == "agent":
            await self.deliver(
                psid, messages, messaging_type="MESSAGE_TAG", tag="HUMAN_AGENT", persona=persona
            )
        else:
            raise WindowClosed(
                f"Messenger window is {window['state']}: "
                f"{'only a human agent may write' if window['state'] != 'closed' else 'nobody may write'}"
            )

    def describe(self) -> Dict[str, Any]:
        return {
            "name": CHANNEL,
            "delivery": "Graph API Send API",
            "time_rule": "bot within 24 h of the customer's last message; agents (HUMAN_AGENT tag) within 7 days",
        }


async def channel_off(request: web.Request) -> web.Response:
    return web.json_response(
        {
            "error": "the Messenger channel is off: set FB_VERIFY_TOKEN, "
            "FB_APP_SECRET and FB_PAGE_ACCESS_TOKEN"
        },
        status=404,
    )
