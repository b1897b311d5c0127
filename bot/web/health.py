"""GET /health: the hub, and what it depends on (Redis, Rasa, the action server), with
the channels it serves; 503 when Redis is down (nothing can be stored)."""

import asyncio
from typing import Any, Dict

import aiohttp
from aiohttp import web
from redis.exceptions import RedisError

from bot.web.appkeys import CHANNELS, HTTP, RASA, REDIS, SETTINGS


async def actions_up(app: web.Application) -> bool:
    try:
        async with app[HTTP].get(
            f"{app[SETTINGS].action_url}/health", timeout=aiohttp.ClientTimeout(total=2)
        ) as response:
            return response.status == 200
    except (aiohttp.ClientError, asyncio.TimeoutError):
        return False


async def health(request: web.Request) -> web.Response:
    try:
        redis_ok = bool(await request.app[REDIS].ping())
    except RedisError:
        redis_ok = False
    servers = await request.app[RASA].health()
    body: Dict[str, Any] = {
        "hub": "ok",
        "redis": "ok" if redis_ok else "down",
        "rasa": "ok" if any(servers.values()) else "down",
        "actions": "ok" if await actions_up(request.app) else "down",
        "channels": [channel.describe() for channel in request.app[CHANNELS].values()],
    }
    if len(servers) > 1:
        body["rasa_servers"] = {url: "ok" if ok else "down" for url, ok in servers.items()}
    return web.json_response(body, status=200 if redis_ok else 503)
