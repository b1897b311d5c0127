"""The Redis connection used by the actions (redis-py's asyncio client).

REDIS_URL selects the server (default: the embedded one that `make run` starts), or with
REDIS_SENTINELS the master the Sentinels name (contract/redis_client.py: the same rule
as the hub's and Rasa's stores). The client is created on first use inside the running
event loop, never at import.
"""

import asyncio
from typing import Dict

from redis import asyncio as aioredis

from contract.redis_client import SENTINEL_RETRIES, RedisTarget, async_client

_clients: Dict[int, aioredis.Redis] = {}


def redis_target() -> RedisTarget:
    return RedisTarget.from_env()


def get_redis() -> aioredis.Redis:
    """One client per event loop (the action server has one; tests may have several)."""
    loop = asyncio.get_running_loop()
    client = _clients.get(id(loop))
    if client is None:
        client = async_client(  # through a failover, inside the customer's turn: keep trying
            redis_target(),
            SENTINEL_RETRIES,
            decode_responses=True,
            socket_timeout=5,
            socket_connect_timeout=5,
        )
        _clients[id(loop)] = client
    return client
