"""The Redis connection used by the actions (redis-py's asyncio client).

REDIS_URL selects the server (default: the embedded one that `make run` starts).
The client is created on first use inside the running event loop, never at import.
"""

import asyncio
import os
from typing import Dict

from redis import asyncio as aioredis

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"

_clients: Dict[int, aioredis.Redis] = {}


def redis_url() -> str:
    return os.environ.get("REDIS_URL", DEFAULT_REDIS_URL)


def get_redis() -> aioredis.Redis:
    """One client per event loop (the action server has one; tests may have several)."""
    loop = asyncio.get_running_loop()
    client = _clients.get(id(loop))
    if client is None:
        client = aioredis.from_url(
            redis_url(), decode_responses=True, socket_timeout=5, socket_connect_timeout=5
        )
        _clients[id(loop)] = client
    return client
