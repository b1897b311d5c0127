"""The probes' routes (bot/web/health.py): /health/live answers whenever the process does;
/health/ready only while this hub should get customers: started and not stopping, Redis
answering and at least one Rasa server answering. A real hub on a real Redis, with the
stand-in Rasa (no model needed)."""

from bot.app import create_app
from scripts.stack import Stack, free_port
from tests.hub.helpers import hub_settings


async def probe(client, path):
    response = await client.get(path)
    return response.status, await response.json()


async def test_a_started_hub_with_redis_and_rasa_is_live_and_ready(hub_fake):
    assert await probe(hub_fake, "/health/live") == (200, {"hub": "live"})
    assert await probe(hub_fake, "/health/ready") == (
        200,
        {"ready": True, "hub": "ok", "redis": "ok", "rasa": "ok"},
    )


async def test_without_any_rasa_the_hub_is_live_but_not_ready(aiohttp_client, redis_url, fake_rasa):
    dead = f"http://127.0.0.1:{free_port()}"
    alone = await aiohttp_client(create_app(hub_settings(redis_url, dead)))
    assert (await probe(alone, "/health/live"))[0] == 200
    assert await probe(alone, "/health/ready") == (
        503,
        {"ready": False, "hub": "ok", "redis": "ok", "rasa": "down"},
    )
    # One live Rasa among several is enough.
    either = await aiohttp_client(create_app(hub_settings(redis_url, f"{dead},{fake_rasa.url}")))
    assert (await probe(either, "/health/ready"))[0] == 200


async def test_without_redis_the_hub_is_live_but_not_ready(tmp_path, fake_rasa, aiohttp_client):
    own = Stack(redis_port=free_port(), redis_dir=tmp_path / "redis", persistent_redis=False)
    own.start_redis()
    try:
        hub = await aiohttp_client(create_app(hub_settings(own.env()["REDIS_URL"], fake_rasa.url)))
        assert (await probe(hub, "/health/ready"))[0] == 200
        own.stop_process("redis")
        assert await probe(hub, "/health/ready") == (
            503,
            {"ready": False, "hub": "ok", "redis": "down", "rasa": "ok"},
        )
        assert await probe(hub, "/health/live") == (200, {"hub": "live"})
    finally:
        own.stop()


async def test_a_stopping_hub_is_no_longer_ready_but_still_live(hub_fake):
    # What a SIGTERM starts (aiohttp's on_shutdown), before anything is closed: the load
    # balancer must stop sending customers here while the hub finishes what it holds.
    await hub_fake.server.app.shutdown()
    assert await probe(hub_fake, "/health/ready") == (
        503,
        {"ready": False, "hub": "stopping", "redis": "ok", "rasa": "ok"},
    )
    assert (await probe(hub_fake, "/health/live"))[0] == 200
