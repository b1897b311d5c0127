"""The website widget's channel: socket.io speaking Rasa's socketio protocol, so the
unmodified rasa-webchat widget works against the hub.

Protocol: the widget sends `session_request {session_id}` on connect and keeps the id
from `session_confirm`; it sends `user_uttered {message, customData, session_id}` and
renders `bot_uttered` ({text}, {text, quick_replies}, {attachment}).

Session ids are issued by the hub and signed (bot/signing.py): a client presenting
an id it was not issued gets a new conversation, never someone else's. The shop page
may put the shop's signed customer identity in customData ({"shop_identity": ...}),
and tells the assistant its language there ({"lang": "vi"}: the first greeting's);
only a valid signature makes the customer verified (bot/identity.py). Each
conversation is a socket.io room, and the Redis client manager carries emits between
hub processes, so an agent's reply reaches the customer whichever process they use.

Outgoing messages are delivered from the transcript (bot/catchup.py), each carrying its
id in `metadata.message_id` (rasa-webchat ignores unknown metadata keys, but renders a
message with any other extra top-level key as a custom component). Two events of our
own, sent by the shop page: `catch_up {after}` once the session is confirmed (replay
what the page has not rendered) and `seen {message_id}` after rendering.
"""

import asyncio
import logging
import secrets
from typing import Any, Dict, List, Optional

from aiohttp import web
from redis.exceptions import RedisError
import socketio

from bot.catchup import WidgetDelivery
from bot.identity import channel_identity, signed_customer
from bot.router import Inbound, Router
from bot.settings import Settings
from bot.signing import sign, unsign
from bot.texts import Texts
from contract import keys

log = logging.getLogger(__name__)
CHANNEL = "web"
MAX_IN_FLIGHT = 3  # messages of one socket handled at once; more get "one moment"


def to_widget(message: Dict[str, Any]) -> Dict[str, Any]:
    """A hub/Rasa message in the shape rasa-webchat renders."""
    out: Dict[str, Any] = {}
    if message.get("text"):
        out["text"] = message["text"]
    if message.get("buttons"):
        out["quick_replies"] = [
            {"content_type": "text", "title": b["title"], "payload": b["payload"]} for b in message["buttons"]
        ]
    if message.get("image"):
        out["attachment"] = {"type": "image", "payload": {"src": message["image"]}}
    if out and message.get("id"):
        out["metadata"] = {"message_id": message["id"]}
    return out


class WidgetChannel:
    """Created with the app (socket.io must be attached before start-up); bound to the
    router and signing secret once those exist (bot/app.py services_ctx)."""

    def __init__(self, settings: Settings, manager: socketio.AsyncManager = None) -> None:
        self.settings = settings
        self.secret = ""
        self.shop_secret = ""
        self.in_flight: Dict[str, int] = {}  # socket id -> its messages being handled
        # Set by bind() and start_delivery(), once the app's services exist.
        self.router: Router = None  # type: ignore[assignment]
        self.texts: Texts = None  # type: ignore[assignment]
        self.delivery: WidgetDelivery = None  # type: ignore[assignment]
        self._delivering: Optional[asyncio.Task] = None
        self.sio = socketio.AsyncServer(
            async_mode="aiohttp",
            client_manager=manager,
            cors_allowed_origins=None,  # same origin only
            logger=False,
            engineio_logger=False,
            max_http_buffer_size=64 * 1024,
        )
        self.sio.on("session_request", self.session_request)
        self.sio.on("user_uttered", self.user_uttered)
        self.sio.on("catch_up", self.catch_up)
        self.sio.on("seen", self.seen)
        self.sio.on("disconnect", self.disconnect)

    def bind(self, router: Router, secret: str, texts: Texts, shop_secret: str = "") -> None:
        self.router, self.secret, self.texts = router, secret, texts
        self.shop_secret = shop_secret

    def start_delivery(self, redis, events) -> None:
        """Deliver outgoing messages as they are transcribed (events: bot.events.EventHub)."""
        self.delivery = WidgetDelivery(redis, self._emit)
        self._delivering = asyncio.create_task(self.delivery.listen(events.connect()))

    async def stop_delivery(self) -> None:
        if self._delivering is not None:
            self._delivering.cancel()
            await asyncio.wait([self._delivering], timeout=5)
            await self.delivery.stop()

    async def _emit(self, sid: str, message) -> None:
        await self.sio.emit("bot_uttered", to_widget(message), to=sid)

    def attach(self, app) -> None:
        self.sio.attach(app, socketio_path="socket.io")

    def new_session(self) -> str:
        return sign("w" + secrets.token_urlsafe(16), self.secret)

    def conversation_of(self, session_id: Any):
        return unsign(session_id, self.secret) if isinstance(session_id, str) else None

    async def session_request(self, sid: str, data: Any) -> None:
        offered = data.get("session_id") if isinstance(data, dict) else None
        cid = self.conversation_of(offered)
        session_id = offered if cid else self.new_session()
        cid = cid or self.conversation_of(session_id)
        await self.sio.save_session(sid, {"conversation_id": cid})
        await self.sio.enter_room(sid, cid)
        await self.delivery.open(sid, cid)
        await self.sio.emit("session_confirm", session_id, room=sid)

    async def catch_up(self, sid: str, data: Any) -> None:
        after = data.get("after") if isinstance(data, dict) else None
        await self.delivery.catch_up(sid, after)

    async def seen(self, sid: str, data: Any) -> None:
        session = await self.sio.get_session(sid)
        message_id = data.get("message_id") if isinstance(data, dict) else None
        if session.get("conversation_id"):
            await self.router.seen(session["conversation_id"], message_id)

    async def disconnect(self, sid: str) -> None:
        if self.delivery is not None:
            self.delivery.close(sid)

    async def user_uttered(self, sid: str, data: Any) -> None:
        session = await self.sio.get_session(sid)
        cid = session.get("conversation_id")
        if not cid or not isinstance(data, dict) or not isinstance(data.get("message"), str):
            return  # no confirmed session or not a message: nothing to route
        # A lone surrogate cannot be stored as UTF-8: keep the rest of the message.
        text = data["message"].encode("utf-8", "replace").decode("utf-8").strip()
        if not text:
            return
        if len(text) > self.settings.max_message_chars:
            conv = await self.router.conversation(cid)
            warning = self.texts.message(
                "message_too_long",
                conv.language if conv else None,
                length=len(text),
                limit=self.settings.max_message_chars,
            )
            await self.sio.emit("bot_uttered", warning, room=sid)
            return
        identity = channel_identity(
            cid, shop_customer=signed_customer(data.get("customData"), self.shop_secret)
        )
        custom = data.get("customData")
        if not isinstance(custom, dict):
            custom = {}
        inbound = Inbound(
            channel=CHANNEL,
            conversation_id=cid,
            text=text,
            identity=identity,
            page_language=str(custom.get("lang") or ""),
        )
        # The replies are transcribed by the router, and delivered from the transcript.
        if self.in_flight.get(sid, 0) >= MAX_IN_FLIGHT:
            await self.router.hold(inbound)  # one socket may not start Rasa calls without end
            return
        self.in_flight[sid] = self.in_flight.get(sid, 0) + 1
        try:
            await self.router.handle(inbound)
        except RedisError as error:
            # Nothing can be stored while Redis is away: say so, so the customer sends it
            # again in a moment (the widget keeps what they typed on screen).
            log.error("Redis unavailable for a widget message: %s", error)
            await self.sio.emit("bot_uttered", self.texts.message("send_again", None), to=sid)
        finally:
            self.in_flight[sid] -= 1
            if not self.in_flight[sid]:
                del self.in_flight[sid]

    async def push(self, conversation_id: str, messages: List[Dict[str, Any]], sender: str = "bot") -> None:
        """Nothing to do here: the router transcribes the messages, and every message
        transcribed is delivered to the conversation's sockets (bot/catchup.py)."""

    async def allows(self, conversation_id: str, sender: str) -> bool:
        return True  # whenever the page is open, or later through catch-up

    async def window(self, conversation_id: str) -> Optional[Dict[str, Any]]:
        return None

    def describe(self) -> Dict[str, Any]:
        return {
            "name": CHANNEL,
            "delivery": "socket.io, from the transcript (catch-up on reconnect)",
            "time_rule": None,
        }


@web.middleware
async def engineio_errors(request: web.Request, handler):
    """python-engineio answers a POST to a socket closed a moment before with a bare
    KeyError ("Session is disconnected"), which aiohttp would make a 500: it is the
    client's stale session, so a 400."""
    if not request.path.startswith("/socket.io/"):
        return await handler(request)
    try:
        return await handler(request)
    except KeyError:
        return web.json_response({"error": "this socket.io session is closed"}, status=400)


def redis_manager(redis_url: str) -> socketio.AsyncRedisManager:
    return socketio.AsyncRedisManager(redis_url, channel=keys.SOCKETIO_CHANNEL)
