"""Hub fixtures: the real app (create_app) on a real port, against the session's real
Redis and the really trained Rasa with its live action server."""

import asyncio
import contextlib
from pathlib import Path
import uuid

from aiohttp import web
import pytest
import yaml
from redis import asyncio as aioredis
import socketio

from bot.app import create_app
from bot.settings import DEMO_AGENTS, DEMO_LOGIN, Settings, parse_agents, parse_display_names
from contract.handoff import HandoffPacket, Severity, Summary


def hub_settings(redis_url: str, rasa_url: str, **overrides) -> Settings:
    # No "still here" unless a test asks for it (test_routing sets 1 s): on a busy machine
    # a reassurance would otherwise slip between the replies a test waits for.
    values = dict(redis_url=redis_url, rasa_url=rasa_url, rasa_timeout=30.0,
                  secret="test-secret", agents=parse_agents(DEMO_AGENTS),
                  display_names=parse_display_names(DEMO_AGENTS),
                  still_here_after=3600.0, background_interval=0.3, agent_online_seconds=60.0,
                  # Every test's traffic comes from 127.0.0.1 and shares one count per
                  # address: off here, on in the tests of those limits (test_limits.py).
                  rest_per_ip_minute=0, messenger_per_ip_minute=0, widget_connects_per_ip_minute=0)
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def make_hub(aiohttp_client, redis_url, assistant):
    async def make(**overrides):
        overrides.setdefault("action_url", f"http://127.0.0.1:{assistant.action_port}")
        settings = hub_settings(redis_url, overrides.pop("rasa_url", assistant.rasa_url), **overrides)
        return await aiohttp_client(create_app(settings))
    return make


@pytest.fixture
async def hub(make_hub):
    # No agent counts as online unless a test says so.
    return await make_hub(agent_online_seconds=0.001)


async def login(client, name=DEMO_LOGIN[0], password=DEMO_LOGIN[1]):
    response = await client.post("/api/agent/login", json={"name": name, "password": password})
    assert response.status == 200, await response.text()
    return response


ROOT = Path(__file__).resolve().parents[2]
# The line the hub says first in every conversation, on every channel (data/hub/messages.yml).
INTROS = set(yaml.safe_load((ROOT / "data" / "hub" / "messages.yml").read_text(encoding="utf-8"))[
    "hub_messages"]["automated_intro"].values())


def without_intro(messages):
    """The replies of a conversation's first turn after the hub's "you're chatting with the
    shop's automated assistant" line, which must come first."""
    assert messages and messages[0].get("text") in INTROS, [m.get("text") for m in messages]
    return messages[1:]


def rest_sender() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


class WidgetCustomer:
    """A socket.io client speaking the rasa-webchat protocol (polling transport: the
    websocket transport of python-socketio's client needs a newer aiohttp), plus what
    the shop page adds (bot/static/shop.js): `catch_up {after}` once the session is
    confirmed, and `seen {message_id}` for each message it renders (here: receives)."""

    def __init__(self, url: str, acknowledge: bool = True):
        self.url = url
        self.acknowledge = acknowledge
        self.last_id = None
        self.sio = socketio.AsyncClient(reconnection=False)
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


SHOP_SECRET = "shop-secret-for-tests"


# A stand-in for Rasa in tests of hub logic only (auth, bad input, routing states): it
# answers in the REST channel's shape and records what the hub sent. Tests of whole
# conversations use the really trained model (make_hub).
def a_packet(**fields) -> dict:
    """A handoff packet of the contract's type, as the assistant sends it."""
    values = dict(case_ref="SR-TEST01", language="en", reason="customer_asked",
                  intents=["request_human"], severity=Severity(level="medium", reasons=["base"]),
                  summary=Summary(en="The customer asked for a person.",
                                  vi="Khách hàng yêu cầu gặp nhân viên."))
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

    async def webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.received.append(body)
        await self.arrived.put(body)
        if self.gate is not None:
            await self.gate.wait()
        replies = [{"recipient_id": body["sender"], "text": f"heard: {body['message']}"}]
        if body["message"] == "/request_human":
            replies.append({"recipient_id": body["sender"], "custom": {"handoff": PACKET}})
        replies += [{"recipient_id": body["sender"], **extra} for extra in self.more.get(body["message"], [])]
        return web.json_response(replies)

    def sent_for(self, cid: str):
        return [body for body in self.received if body["sender"] == cid]


@pytest.fixture
async def fake_rasa(aiohttp_server):
    fake = FakeRasa()
    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", fake.webhook)
    app.router.add_get("/", lambda request: web.json_response({"version": "fake"}))
    server = await aiohttp_server(app)
    fake.url = str(server.make_url("")).rstrip("/")
    return fake


@pytest.fixture
def make_hub_fake(aiohttp_client, redis_url, fake_rasa):
    async def make(**overrides):
        values = dict(shop_identity_secret=SHOP_SECRET, agent_online_seconds=0.001)
        values.update(overrides)
        return await aiohttp_client(create_app(hub_settings(redis_url, fake_rasa.url, **values)))
    return make


@pytest.fixture
async def hub_fake(make_hub_fake):
    """A hub on the stand-in Rasa, for tests of hub logic only."""
    return await make_hub_fake()


@pytest.fixture
async def redis(redis_url):
    client = aioredis.from_url(redis_url, decode_responses=True)
    yield client
    await client.close()
