"""The website widget's channel: socket.io speaking Rasa's socketio protocol, so the
unmodified rasa-webchat widget works against the hub.

Protocol: the widget sends `session_request {session_id}` on connect and keeps the id
from `session_confirm`; it sends `user_uttered {message, customData, session_id}` and
renders `bot_uttered` ({text}, {text, quick_replies}, {attachment}).

Session ids are issued by the hub and kept as records (bot/core/sessions.py): a client
presenting an id without a record (never issued, revoked by "End chat" or a resume link,
or rotated) gets a new conversation, never someone else's. When a message makes the
conversation prove who the customer is (a newer proof, contract/memory.py), the socket
that sent it gets a new id (`session_confirm`, which rasa-webchat stores) and every
other socket of the conversation is closed: whoever held the old id (a shared computer,
a link someone else sent) is not let into the verified conversation. The shop page
may put the shop's signed customer identity in customData ({"shop_identity": ...}),
and tells the assistant its language there ({"lang": "vi"}: the first greeting's);
only a valid signature makes the customer verified (channels/identity.py). Each
conversation is a socket.io room, and the Redis client manager carries emits between
hub processes, so an agent's reply reaches the customer whichever process they use.

Limits (bot/core/limits.py), checked before anything is stored: a socket holds at most
MAX_CONVERSATIONS_PER_SOCKET conversations; its session requests and messages count
against its own bucket, its messages against its address's too, and a new conversation
against its address's new-conversation bucket, before its session is issued. Over a
limit the customer is told "one moment" and nothing is stored.

The socket.io server is made and attached with the app (socketio_server: it must exist
before the app starts); the channel is built once the app's services exist and takes
over the server's events.

Outgoing messages are delivered from the transcript (channels/widget_delivery.py), each carrying its
id in `metadata.message_id` (rasa-webchat ignores unknown metadata keys, but renders a
message with any other extra top-level key as a custom component). Two events of our
own, sent by the shop page: `catch_up {after}` once the session is confirmed (replay
what the page has not rendered) and `seen {message_id}` after rendering.
"""

import asyncio
import logging
import secrets
from typing import Any, Dict, List, Optional, Set

from redis.exceptions import RedisError
import socketio

from bot.channels.identity import channel_identity, client_tag, signed_customer
from bot.channels.widget_delivery import WidgetDelivery
from bot.core.channel import ChannelHost, Inbound, Message, Refused
from bot.core.limits import MAX_CONVERSATIONS_PER_SOCKET, Limits
from bot.core.sessions import ENDED, Sessions, session_hash
from bot.core.texts import Texts
from bot.core.windows import Window
from contract import keys, memory
from contract.redis_client import RedisTarget, socketio_manager_args

log = logging.getLogger(__name__)
CHANNEL = "web"
MAX_IN_FLIGHT = 3  # messages of one socket handled at once; more get "one moment"


def to_widget(message: Message) -> Dict[str, Any]:
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


def socketio_server(target: RedisTarget) -> socketio.AsyncServer:
    """The widget's socket.io server; emits go through Redis to every hub process (through
    Sentinel, python-socketio asks the Sentinels for the master again when it loses it)."""
    url, options = socketio_manager_args(target, socket_connect_timeout=5, socket_keepalive=True)
    return socketio.AsyncServer(
        async_mode="aiohttp",
        client_manager=socketio.AsyncRedisManager(url, channel=keys.SOCKETIO_CHANNEL, redis_options=options),
        cors_allowed_origins=None,  # same origin only
        logger=False,
        engineio_logger=False,
        max_http_buffer_size=64 * 1024,
    )


class WidgetChannel:
    def __init__(
        self,
        sio: socketio.AsyncServer,
        host: ChannelHost,
        texts: Texts,
        redis,
        sessions: Sessions,
        secret: str,
        shop_secret: str,
        max_chars: int,
        limits: Limits,
    ) -> None:
        self.sio = sio
        self.host = host
        self.texts = texts
        self.redis = redis
        self.sessions = sessions
        self.secret = secret
        self.shop_secret = shop_secret
        self.max_chars = max_chars
        self.limits = limits
        self.in_flight: Dict[str, int] = {}  # socket id -> its messages being handled
        self.session_of: Dict[str, str] = {}  # socket id -> the hash of the session id it uses
        self.held: Dict[str, Set[str]] = {}  # socket id -> the conversations it has held
        self.delivery = WidgetDelivery(redis, self._emit)
        self._delivering: Optional[asyncio.Task] = None
        for event in ("session_request", "user_uttered", "catch_up", "seen", "disconnect"):
            sio.on(event, getattr(self, event))

    def start(self, events: asyncio.Queue) -> None:
        """Deliver outgoing messages as they are transcribed, and close the sockets of
        ended sessions (events: core.events.EventHub)."""
        self._delivering = asyncio.create_task(self._listen(events))

    async def _listen(self, events: asyncio.Queue) -> None:
        while True:
            event = await events.get()
            if event.get("type") == ENDED:
                await self._close_ended(event.get("sessions") or [])
            elif not self.delivery.take(event):
                return

    async def _close_ended(self, digests: List[str]) -> None:
        """Close this process's sockets whose session id was revoked."""
        for sid, digest in list(self.session_of.items()):
            if digest in digests:
                await self.sio.disconnect(sid)

    async def stop(self) -> None:
        if self._delivering is not None:
            self._delivering.cancel()
            await asyncio.wait([self._delivering], timeout=5)
        await self.delivery.stop()

    async def reconnect_elsewhere(self, timeout: float = 2.0) -> int:
        """The hub is stopping: every widget on it is told to reconnect, which its load
        balancer sends to another hub (catch-up there sends what it missed). The
        engine.io connection is closed, which socket.io clients answer by reconnecting
        ("transport close"); a socket.io disconnect would not be answered so
        ("io server disconnect" waits for the page to reconnect by hand). A websocket's
        writer is ended at once, closing the websocket (python-engineio would otherwise
        keep it open until its ping timeout); a long-polling client reads the close.
        Returns how many sockets were told."""
        eio = self.sio.eio
        sockets = list(eio.sockets.values())

        async def close(sock) -> None:
            await sock.close(wait=False, reason=eio.reason.SERVER_DISCONNECT)
            if sock.upgraded:
                sock.queue.put_nowait(None)  # the writer's end-of-queue: it closes the websocket

        if sockets:
            await asyncio.wait([asyncio.create_task(close(sock)) for sock in sockets], timeout=timeout)
        return len(sockets)

    async def _emit(self, sid: str, message: Message) -> None:
        await self.sio.emit("bot_uttered", to_widget(message), to=sid)

    async def session_request(self, sid: str, data: Any) -> None:
        given = data.get("session_id") if isinstance(data, dict) else None
        try:
            known = await self.sessions.conversation_of(given)
            new = not (known and isinstance(given, str))
            # none, or not one with a record: a new conversation
            cid = "w" + secrets.token_urlsafe(16) if new or not known else known
            if not await self._session_allowed(sid, cid, new):  # the limits, before anything is kept
                return
            session_id: str = await self.sessions.issue(cid) if new else str(given)
        except RedisError as error:  # nothing can be kept: no session until Redis is back
            return await self._send_again(sid, error)
        if self.sio.get_environ(sid) is None:
            return  # the socket left while its session was issued: nobody to confirm it to
        self.session_of[sid] = session_hash(session_id)
        await self.sio.save_session(sid, {"conversation_id": cid, "client": self._client(sid)})
        await self.sio.enter_room(sid, cid)
        await self.delivery.open(sid, cid)
        await self.sio.emit("session_confirm", session_id, room=sid)

    def _address(self, sid: str) -> str:
        """The client's address as the hub sees it (behind a proxy: the proxy's)."""
        scope = self.sio.get_environ(sid) or {}
        return getattr(scope.get("aiohttp.request"), "remote", None) or "?"

    async def _session_allowed(self, sid: str, cid: str, new: bool) -> bool:
        """The limits on a session request, before anything is kept: at most
        MAX_CONVERSATIONS_PER_SOCKET conversations a socket, one token of the socket's
        bucket, and for a new conversation one of its address's. Refused: "one moment",
        and no session."""
        held = self.held.setdefault(sid, set())
        fresh = cid not in held
        refused = fresh and len(held) >= MAX_CONVERSATIONS_PER_SOCKET
        if not refused:
            held.add(cid)  # before any await: requests handled concurrently see it
            subjects = {"socket": sid, **({"new-conversation": self._address(sid)} if new else {})}
            try:
                refused = await self.limits.take(subjects) is not None
            except RedisError:
                held.discard(cid)
                raise
            if self.sio.get_environ(sid) is None:
                return False  # the socket left meanwhile: nothing to confirm to anyone
            if refused and fresh:
                held.discard(cid)
        if refused:
            language = None if new else await self.host.language_of(cid)
            await self.sio.emit("bot_uttered", self.texts.message("one_moment", language), to=sid)
            return False
        return True

    def _client(self, sid: str) -> str:
        """The keyed hash of the client's own address ("" on loopback: a proxy's or ours)."""
        scope = self.sio.get_environ(sid) or {}  # engine.io's WSGI-like dict: REMOTE_ADDR is fixed there
        request = scope.get("aiohttp.request")
        return client_tag(getattr(request, "remote", None) or "", self.secret)

    async def catch_up(self, sid: str, data: Any) -> None:
        after = data.get("after") if isinstance(data, dict) else None
        await self.delivery.catch_up(sid, after)

    async def seen(self, sid: str, data: Any) -> None:
        session = await self.sio.get_session(sid)
        message_id = data.get("message_id") if isinstance(data, dict) else None
        if session.get("conversation_id"):
            await self.host.seen(session["conversation_id"], message_id)

    async def disconnect(self, sid: str) -> None:
        self.delivery.close(sid)
        self.session_of.pop(sid, None)
        self.held.pop(sid, None)

    async def user_uttered(self, sid: str, data: Any) -> None:
        session = await self.sio.get_session(sid)
        cid = session.get("conversation_id")
        digest = self.session_of.get(sid)
        if not cid or not digest or not isinstance(data, dict) or not isinstance(data.get("message"), str):
            return  # no confirmed session or not a message: nothing to route
        try:
            alive = await self.sessions.alive(digest)
            if not alive and self.session_of.get(sid) not in (None, digest):
                alive = await self.sessions.alive(self.session_of[sid])  # rotated meanwhile
        except RedisError as error:
            return await self._send_again(sid, error)
        if not alive:
            await self.sio.disconnect(sid)  # its id was revoked (End chat, a resume link, a rotation)
            return
        # A lone surrogate cannot be stored as UTF-8: keep the rest of the message.
        text = data["message"].encode("utf-8", "replace").decode("utf-8").strip()
        if not text:
            return
        if len(text) > self.max_chars:
            warning = self.texts.message(
                "message_too_long", await self.host.language_of(cid), length=len(text), limit=self.max_chars
            )
            await self.sio.emit("bot_uttered", warning, room=sid)
            return
        custom = data.get("customData")
        inbound = Inbound(
            channel=CHANNEL,
            conversation_id=cid,
            text=text,
            identity=channel_identity(cid, shop_customer=signed_customer(custom, self.shop_secret)),
            page_language=str(custom.get("lang") or "") if isinstance(custom, dict) else "",
            client=str(session.get("client") or ""),
            limits={"socket": sid, "address": self._address(sid)},
        )
        # The replies are transcribed by the core, and delivered from the transcript.
        if self.in_flight.get(sid, 0) >= MAX_IN_FLIGHT:
            # One socket may not start Rasa calls without end: not stored, sent again later.
            await self.sio.emit("bot_uttered", await self.host.busy(inbound), to=sid)
            return
        await self._handle(sid, inbound)

    async def _send_again(self, sid: str, error: RedisError) -> None:
        """Nothing can be stored while Redis is away: say so, so the customer sends it
        again in a moment (the widget keeps what they typed on screen)."""
        log.error("Redis unavailable for a widget message: %s", error)
        await self.sio.emit("bot_uttered", self.texts.message("send_again", None), to=sid)

    async def _rotate_if_proved(self, sid: str, cid: str) -> None:
        """The conversation proved who the customer is since this socket's id was issued:
        a new id for this socket, and every other one (and its sockets) ended."""
        digest = self.session_of.get(sid)
        proved = await memory.proved_at(self.redis, cid)
        if digest is None or not proved or proved <= await self.sessions.proved(digest):
            return
        token = await self.sessions.issue(cid, proved)
        # This socket's new id before its old one is revoked: a message of its racing the
        # rotation finds the new id (user_uttered), and no socket of it is closed by `end`.
        self.session_of[sid] = session_hash(token)
        ended = await self.sessions.revoke_others(cid, self.session_of[sid])
        await self.sio.emit("session_confirm", token, to=sid)
        await self.sessions.end(cid, ended)

    async def _handle(self, sid: str, inbound: Inbound) -> None:
        self.in_flight[sid] = self.in_flight.get(sid, 0) + 1
        try:
            await self.host.handle(inbound)
        except Refused as refused:  # a limit: nothing was stored, so it is not in the transcript
            await self.sio.emit("bot_uttered", refused.reply, to=sid)
            return
        except RedisError as error:
            await self._send_again(sid, error)
            return
        finally:
            self._done(sid)
        try:
            await self._rotate_if_proved(sid, inbound.conversation_id)
        except RedisError as error:
            # The message was handled: never "send it again" for this (it would be taken
            # twice). The id rotates with the customer's next message instead.
            log.warning("session of %s not rotated now (Redis: %s)", inbound.conversation_id, error)

    def _done(self, sid: str) -> None:
        self.in_flight[sid] -= 1
        if not self.in_flight[sid]:
            del self.in_flight[sid]

    async def push(self, conversation_id: str, messages: List[Message], sender: str = "bot") -> None:
        """Nothing to do here: the outbox transcribes the messages, and every message
        transcribed is delivered to the conversation's sockets (widget_delivery.py)."""

    async def allows(self, conversation_id: str, sender: str) -> bool:
        return True  # whenever the page is open, or later through catch-up

    async def window(self, conversation_id: str) -> Optional[Window]:
        return None

    def describe(self) -> Dict[str, Any]:
        return {
            "name": CHANNEL,
            "delivery": "socket.io, from the transcript (catch-up on reconnect)",
            "time_rule": None,
        }
