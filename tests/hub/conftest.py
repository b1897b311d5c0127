"""Hub fixtures: the real app (create_app) on a real port, against the session's real
Redis and the really trained Rasa with its live action server."""

import asyncio

from aiohttp import web
from aiosmtpd.controller import Controller
import pytest
from redis import asyncio as aioredis

from bot.app import create_app
from scripts.stack import free_port
from tests.hub.helpers import SHOP_SECRET, FakeGraph, FakeRasa, Inbox, hub_settings


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


@pytest.fixture
async def fake_rasa(aiohttp_server):
    fake = FakeRasa()
    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", fake.webhook)
    app.router.add_get("/", fake.root)
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
    await client.close(close_connection_pool=True)


@pytest.fixture
async def graph(aiohttp_server):
    fake = FakeGraph()
    app = web.Application()
    app.router.add_post("/me/messages", fake.messages)
    server = await aiohttp_server(app)
    fake.url = str(server.make_url("")).rstrip("/")
    return fake


@pytest.fixture
async def inbox():
    box = Inbox(asyncio.get_running_loop())
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield box, f"smtp+insecure://127.0.0.1:{controller.port}"  # aiosmtpd offers no STARTTLS
    finally:
        controller.stop()
