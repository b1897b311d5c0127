"""The stand-in Rasa of the brief cluster run (benchmarks/stand_in_rasa.py) saves a turn
as Rasa does, whole at its end, and shows two turns of one conversation that ran at
once: the brief run's "turns interleaved" rests on it."""

import asyncio
import json
import uuid

from redis import asyncio as aioredis

from benchmarks import stand_in_rasa, trackers


async def turn(client, sender, text):
    response = await client.post("/webhooks/rest/webhook", json={"sender": sender, "message": text})
    assert response.status == 200
    assert await response.json() == [{"recipient_id": sender, "text": f"heard: {text}"}]


async def stored(redis_url, sender):
    redis = aioredis.from_url(redis_url, decode_responses=True)
    try:
        raw = await redis.get(trackers.TRACKER_KEY + sender)
    finally:
        await redis.close(close_connection_pool=True)
    return trackers.problems(json.loads(raw)["events"], ["a", "b"], ordered=False)


async def test_turns_one_after_the_other_are_whole(aiohttp_client, redis_url):
    client = await aiohttp_client(stand_in_rasa.make_app(0.05))
    sender = f"rest-{uuid.uuid4().hex[:8]}"
    await turn(client, sender, "a")
    await turn(client, sender, "b")
    assert await stored(redis_url, sender) == []


async def test_two_turns_at_once_are_seen_interleaved(aiohttp_client, redis_url):
    client = await aiohttp_client(stand_in_rasa.make_app(0.3))
    sender = f"rest-{uuid.uuid4().hex[:8]}"
    await asyncio.gather(turn(client, sender, "a"), turn(client, sender, "b"))
    found = await stored(redis_url, sender)
    assert any("still running" in problem for problem in found), found
