"""contract/counters.py: a counter is counted and given its window in one Redis script,
so none lives without an expiry; against a real Redis."""

import uuid

import pytest
from redis import asyncio as aioredis

from contract import counters


@pytest.fixture
async def redis(redis_url):
    client = aioredis.from_url(redis_url, decode_responses=True)
    yield client
    await client.close(close_connection_pool=True)


async def test_each_counter_is_counted_with_its_own_window(redis):
    first, second = (f"sr:test:counter:{uuid.uuid4().hex}" for _ in range(2))
    assert await counters.count(redis, [(first, 60), (second, 3600)]) == [1, 1]
    assert await counters.count(redis, [(first, 60)]) == [2]
    assert 0 < await redis.ttl(first) <= 60 and 3500 < await redis.ttl(second) <= 3600
    assert await counters.reached(redis, [(first, 2)]) and not await counters.reached(redis, [(first, 3)])
    assert not await counters.reached(redis, [(second, 2), (first, 3)])
    assert await counters.count(redis, []) == [] and not await counters.reached(redis, [])


async def test_a_counter_left_without_an_expiry_gets_one(redis):
    # e.g. written by an INCR whose EXPIRE never came (a crash between two calls)
    key = f"sr:test:counter:{uuid.uuid4().hex}"
    await redis.set(key, 4)
    assert await counters.count(redis, [(key, 90)]) == [5]
    assert 0 < await redis.ttl(key) <= 90
