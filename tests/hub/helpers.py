"""What the hub's test modules share: the hub's settings for tests, an agent login, a
widget customer speaking socket.io, the stand-in Rasa and the fake Graph API (the
servers themselves are fixtures in conftest.py), and Messenger webhook payloads."""

import asyncio
import contextlib
import email
from email import policy
import hashlib
import hmac
import json
from pathlib import Path
import random
import time
import uuid

import aiohttp
from aiohttp import web
import socketio
import yaml

from bot.channels.routes import MESSENGER
from bot.settings import DEMO_AGENTS, DEMO_LOGIN, Settings, parse_agents, parse_display_names
from contract import keys
from contract.handoff import HandoffPacket, Severity, Summary
from tests.helpers import eventually


def hub_settings(redis_url: str, rasa_url: str, **overrides) -> Settings:
    # No "still here" unless a test asks for it (test_routing sets 1 s): on a busy machine
    # a reassurance would otherwise slip between the replies a test waits for.
    values = dict(
        redis_url=redis_url,
        rasa_url=rasa_url,
        rasa_timeout=30.0,
        secret="test-secret",
        agents=parse_agents(DEMO_AGENTS),
        display_names=parse_display_names(DEMO_AGENTS),
        still_here_after=3600.0,
        background_interval=0.3,
        agent_online_seconds=60.0,
        # Every test's traffic comes from 127.0.0.1 and shares one count per
        # address: off here, on in the tests of those limits (test_limits.py).
        rest_per_ip_minute=0,
        messenger_per_ip_minute=0,
        widget_connects_per_ip_minute=0,
        widget_messages_per_ip_minute=0,
        widget_conversations_per_ip_minute=0,
    )
    values.update(overrides)
    return Settings(**values)


async def login(client, name=DEMO_LOGIN[0], password=DEMO_LOGIN[1]):
    response = await client.post("/api/agent/login", json={"name": name, "password": password})
    assert response.status == 200, await response.text()
    return response


ROOT = Path(__file__).resolve().parents[2]
# The line the hub says first in every conversation, on every channel (data/hub/messages.yml).
INTROS = set(
    yaml.safe_load((ROOT / "data" / "hub" / "messages.yml").read_text(encoding="utf-8"))["hub_messages"][
        "automated_intro"
    ].values()
)


def without_intro(messages):
    """The replies of a conversation's first turn after the hub's "you're chatting with the
    shop's automated assistant" line, which must come first."""
    assert messages and messages[0].get("text") in INTROS, [m.get("text") for m in messages]
    return messages[1:]


def rest_sender() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


def loopback_address() -> str:
    """A loopback address of its own (127.x.y.z, never 127.0.0.1), for a test whose
    limits count per client address: its counts start from nothing."""
    return f"127.{random.randint(1, 254)}.{random.randint(0, 255)}.{random.randint(2, 254)}"


def client_from(address: str) -> aiohttp.ClientSession:
    """An HTTP client whose requests come from `address` (a loopback address)."""
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(address, 0)))


class WidgetCustomer:
    """A socket.io client speaking the rasa-webchat protocol (polling transport: the
    websocket transport of python-socketio's client needs a newer aiohttp), plus what
    the shop page adds (bot/static/shop.js): `catch_up {after}` once the session is
    confirmed, and `seen {message_id}` for each message it renders (here: receives).
    `address`: the loopback address it connects from (another client address to the hub
    than 127.0.0.1, e.g. loopback_address())."""

    def __init__(self, url: str, acknowledge: bool = True, address: str = ""):
        self.url = url
        self.acknowledge = acknowledge
        self.last_id = None
        # Engine.IO's HTTP session is ours, so that close() can close it.
        self.http = client_from(address) if address else aiohttp.ClientSession()
        self.sio = socketio.AsyncClient(reconnection=False, http_session=self.http)
        self.received: asyncio.Queue = asyncio.Queue()
        self.session_id = None
        self.confirmed = asyncio.Event()
        self.sio.on("bot_uttered", self._bot_uttered)
        self.sio.on("session_confirm", self._confirm)

    async def _bot_uttered(self, data):
        message_id = (data.get("metadata") or {}).get("message_id")
        if message_id and self.acknowledge:
            self.last_id = message_id
            await self.sio.emit("seen", {"message_id": message_id})
        await self.received.put(data)

    async def _confirm(self, session_id):
        self.session_id = session_id
        self.confirmed.set()

    async def connect(self, session_id=None, after=None):
        """after: the last message id this "page" rendered before (default: its own)."""
        await self.sio.connect(self.url, socketio_path="socket.io", transports=["polling"])
        await self.sio.emit("session_request", {"session_id": session_id})
        await asyncio.wait_for(self.confirmed.wait(), 10)
        await self.sio.emit("catch_up", {"after": after or self.last_id})
        return self.session_id

    async def say(self, text, custom_data=None):
        message = {"message": text, "session_id": self.session_id}
        if custom_data is not None:
            message["customData"] = custom_data  # as rasa-webchat sends its customData prop
        await self.sio.emit("user_uttered", message)

    async def next(self, timeout=30):
        return await asyncio.wait_for(self.received.get(), timeout)

    async def intro(self, timeout=30):
        """The hub's first line of a new conversation (checked), before its first reply."""
        message = await self.next(timeout)
        assert message.get("text") in INTROS, message
        return message

    async def until(self, predicate, timeout=30):
        """Messages up to and including the first that satisfies predicate."""
        seen = []
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            left = deadline - asyncio.get_running_loop().time()
            message = await asyncio.wait_for(self.received.get(), max(left, 0.01))
            seen.append(message)
            if predicate(message):
                return seen

    async def close(self):
        # A polling client's clean disconnect waits for the pending long-poll (the
        # server's 25 s ping interval); tests close at once and cancel the loops.
        eio = self.sio.eio
        loops = [getattr(eio, "read_loop_task", None), getattr(eio, "write_loop_task", None)]
        if self.sio.connected:
            await eio.disconnect(abort=True)
        for task in filter(None, loops):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.http.close()


SHOP_SECRET = "shop-secret-for-tests"


# A stand-in for Rasa in tests of hub logic only (auth, bad input, routing states): it
# answers in the REST channel's shape and records what the hub sent. Tests of whole
# conversations use the really trained model (make_hub).
def a_packet(**fields) -> dict:
    """A handoff packet of the contract's type, as the assistant sends it."""
    values = dict(
        case_ref="SR-TEST01",
        language="en",
        reason="customer_asked",
        intents=["request_human"],
        severity=Severity(level="medium", reasons=["base"]),
        summary=Summary(en="The customer asked for a person.", vi="Khách hàng yêu cầu gặp nhân viên."),
    )
    values.update(fields)
    return HandoffPacket(**values).payload()


PACKET = a_packet()


class FakeRasa:
    """Answers like Rasa's REST channel and keeps every request it got."""

    def __init__(self) -> None:
        self.received = []
        self.url = ""
        self.gate: asyncio.Event = None  # when set by a test: replies wait for it to open
        self.arrived = asyncio.Queue()  # every request, as it arrives
        self.more = {}  # message -> further replies a test wants (as Rasa's REST channel shapes them)
        self.status = 200  # what it answers with (a test may make it fail: 500)

    async def root(self, request: web.Request) -> web.Response:
        return web.json_response({"version": "fake"})

    async def webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.received.append(body)
        await self.arrived.put(body)
        if self.gate is not None:
            await self.gate.wait()
        if self.status != 200:
            return web.json_response({"error": "failed"}, status=self.status)
        replies = [{"recipient_id": body["sender"], "text": f"heard: {body['message']}"}]
        if body["message"] == "/request_human":
            replies.append({"recipient_id": body["sender"], "custom": {"handoff": PACKET}})
        replies += [{"recipient_id": body["sender"], **extra} for extra in self.more.get(body["message"], [])]
        return web.json_response(replies)

    def sent_for(self, cid: str):
        return [body for body in self.received if body["sender"] == cid]


# Messenger: payloads shaped as Meta documents them, and a fake Graph API.
APP_SECRET = "app-secret"  # the Facebook app's, which signs webhook payloads
VERIFY = "verify-me"
PAGE = "PAGE_ID"


class FakeGraph:
    """Records every Send API call; can fail the next calls with given statuses."""

    def __init__(self):
        self.calls = []
        self.fail_with = []
        # Only this recipient's calls fail: the hub may meanwhile write to customers of
        # other tests (its "still here" round goes over the whole shared queue).
        self.fail_for = None

    async def messages(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.calls.append({"token": request.query.get("access_token"), **body})
        if self.fail_with and self.fail_for in (None, (body.get("recipient") or {}).get("id")):
            return web.json_response({"error": {"message": "try later"}}, status=self.fail_with.pop(0))
        return web.json_response({"recipient_id": body["recipient"]["id"], "message_id": "m_x"})

    def to(self, psid):
        return [c for c in self.calls if c["recipient"]["id"] == psid]

    def texts(self, psid):
        return [c["message"]["text"] for c in self.to(psid) if "message" in c and "text" in c["message"]]


def psid():
    return str(uuid.uuid4().int)[:16]


def text_event(sender, text, mid=None, quick_reply=None):
    message = {"mid": mid or f"m_{uuid.uuid4().hex}", "text": text}
    if quick_reply:
        message["quick_reply"] = {"payload": quick_reply}
    return {
        "sender": {"id": sender},
        "recipient": {"id": PAGE},
        "timestamp": int(time.time() * 1000),
        "message": message,
    }


def batch(*events_per_entry):
    return {
        "object": "page",
        "entry": [
            {"id": PAGE, "time": int(time.time() * 1000), "messaging": list(events)}
            for events in events_per_entry
        ],
    }


async def deliver(client, body, signature=None):
    raw = json.dumps(body).encode()
    if signature is None:
        signature = "sha256=" + hmac.new(APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json"}
    if signature:
        headers["X-Hub-Signature-256"] = signature
    response = await client.post("/webhooks/facebook/webhook", data=raw, headers=headers)
    channel = client.server.app[MESSENGER]
    if channel is not None:
        await channel.drain()
    return response


# Email: the shop's sender, an SMTP server's handler (the server is the `inbox` fixture) and the transcript's notes.
FROM = "Mộc Home <help@mochome.example>"


class Inbox:
    """aiosmtpd handler: keeps what it accepts; refuses the next `refuse` messages."""

    def __init__(self, loop):
        self.loop = loop
        self.messages = []
        self.refuse = 0
        self.changed = asyncio.Event()

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            self.refuse -= 1
            return "451 4.3.0 Mailbox busy, try again later"
        message = email.message_from_bytes(
            envelope.original_content or envelope.content, policy=policy.default
        )
        self.loop.call_soon_threadsafe(self._add, envelope.rcpt_tos, message)
        return "250 OK"

    def _add(self, recipients, message):
        self.messages.append((recipients, message))
        self.changed.set()

    async def wait_for(self, count, timeout=30):
        async def enough():
            while len(self.messages) < count:
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(enough(), timeout)
        return self.messages


async def system_notes(redis, cid):
    return [e["text"] for _, e in await redis.xrange(keys.transcript(cid)) if e["from"] == "system"]


async def until_emailed(redis, cid, count=1):
    """The transcript notes, once `count` "emailed at" notes are in it."""

    async def enough():
        notes = await system_notes(redis, cid)
        return notes if sum(n.startswith("emailed at ") for n in notes) >= count else None

    return await eventually(enough, 20, f"{count} 'emailed at' notes")
