"""The console event listener (bot/core/events.py) against a real Redis server that goes away
and comes back: it subscribes again by itself, and events flow once more."""

import asyncio
import json
import subprocess

from redis import asyncio as aioredis

from contract import keys
from bot.core.events import EventHub
from scripts.stack import free_port, redis_server_binary, wait_for_port


def start_redis(port: int, workdir) -> subprocess.Popen:
    proc = subprocess.Popen(
        [redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    wait_for_port(port, 10)
    return proc


async def until_subscribed(redis, within: float = 20) -> None:
    """Wait for the listener's subscription to exist on the server (checked, not slept)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        try:
            if dict(await redis.pubsub_numsub(keys.EVENTS)).get(keys.EVENTS, 0) >= 1:
                return
        except (ConnectionError, OSError, aioredis.RedisError):
            pass  # the server is still starting
        assert asyncio.get_running_loop().time() < deadline, "the listener never subscribed"
        await asyncio.sleep(0.05)


async def test_the_event_listener_subscribes_again_after_redis_restarts(tmp_path):
    port = free_port()
    server = start_redis(port, tmp_path)
    redis = aioredis.from_url(f"redis://127.0.0.1:{port}/0", decode_responses=True,
                              socket_timeout=5, socket_connect_timeout=5)
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
        await redis.close()
        server.terminate()
        server.wait(timeout=10)
