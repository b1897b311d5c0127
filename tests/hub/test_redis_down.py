"""Redis away and back, for the widget: a real embedded Redis (as `make run` starts it:
password, append-only file) that the test kills and starts again. While it is away the
customer is asked to send again; once it is back, what they send again is answered and
transcribed."""

from aiohttp import web
import pytest
from redis import asyncio as aioredis

from bot import keys
from bot.app import create_app
from bot.texts import Texts
from scripts.stack import Stack, free_port
from tests.hub.conftest import WidgetCustomer, hub_settings


@pytest.fixture
def own_redis(tmp_path):
    stack = Stack(redis_port=free_port(), redis_dir=tmp_path / "redis")
    stack.start_redis()
    try:
        yield stack
    finally:
        stack.stop()


async def test_the_widget_asks_to_send_again_while_redis_is_away_and_loses_nothing(
        own_redis, fake_rasa, aiohttp_client):
    url = own_redis.env()["REDIS_URL"]
    hub = await aiohttp_client(create_app(hub_settings(url, fake_rasa.url, agent_online_seconds=0.001)))
    send_again = Texts().text("send_again", None)
    customer = WidgetCustomer(str(hub.make_url("/")))
    await customer.connect()
    try:
        await customer.say("before")
        await customer.until(lambda m: m.get("text") == "heard: before")

        own_redis.stop_process("redis")  # killed: every command fails at once
        await customer.say("my parcel is lost")
        assert (await customer.next())["text"] == send_again
        assert not [b for b in fake_rasa.received if b["message"] == "my parcel is lost"]

        own_redis.start_redis()  # back, with what it had stored (append-only file)
        # The customer sends it again until it is taken (the hub's connections to Redis
        # are re-made on first use, so the first try may still be refused).
        for _ in range(5):
            await customer.say("my parcel is lost")
            reply = await customer.next()
            if reply["text"] != send_again:
                break
        assert reply["text"] == "heard: my parcel is lost"
        store = aioredis.from_url(url, decode_responses=True)
        try:
            cid = customer.session_id.rpartition(".")[0]
            said = [e["text"] for _, e in await store.xrange(keys.transcript(cid)) if e["from"] == "customer"]
        finally:
            await store.close()
        assert said == ["before", "my parcel is lost"]
    finally:
        await customer.close()
