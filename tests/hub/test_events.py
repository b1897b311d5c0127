"""The console event listener (bot/core/events.py) against a real Redis server that goes away
and comes back: it subscribes again by itself, and events flow once more."""

import asyncio
import json

from redis import asyncio as aioredis

from bot.core.events import EventHub
from contract import keys
from scripts.stack import free_port
from tests.helpers import eventually, start_redis


async def until_subscribed(redis, within: float = 20) -> None:
    """Wait for the listener's subscription to exist on the server (checked, not slept)."""

    async def subscribed():
        return dict(await redis.pubsub_numsub(keys.EVENTS)).get(keys.EVENTS, 0) >= 1

    # Connection errors: the server is still starting.
    await eventually(
        subscribed,
        within,
        "the listener subscribed",
        ignoring=(ConnectionError, OSError, aioredis.RedisError),
    )


async def test_the_event_listener_subscribes_again_after_redis_restarts(tmp_path):
    port = free_port()
    server = start_redis(port, tmp_path)
    redis = aioredis.from_url(
        f"redis://127.0.0.1:{port}/0", decode_responses=True, socket_timeout=5, socket_connect_timeout=5
    )
    hub = EventHub(redis)
    console = hub.connect()
    hub.start()
    try:
        await until_subscribed(redis)
        await redis.publish(keys.EVENTS, json.dumps({"type": "before"}))
        assert (await asyncio.wait_for(console.get(), 10))["type"] == "before"

        server.terminate()
        server.wait(timeout=10)
        server = start_redis(port, tmp_path)  # the same address, a fresh server
        await until_subscribed(redis)
        # Events published while it was away are gone: the listener says so first.
        assert (await asyncio.wait_for(console.get(), 10))["type"] == "reconnected"
        await redis.publish(keys.EVENTS, json.dumps({"type": "after"}))
        assert (await asyncio.wait_for(console.get(), 10))["type"] == "after"
    finally:
        await hub.stop()
        await redis.close(close_connection_pool=True)
        server.terminate()
        server.wait(timeout=10)
