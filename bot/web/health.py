"""The hub's health routes (docs/api.md#health, docs/deploy.md#what-each-probe-checks):

- GET /health: the hub, and what it depends on (Redis, Rasa, the action server), with
  the channels it serves; 503 when Redis is down (nothing can be stored).
- GET /health/live: the process answers. It asks nothing of Redis or Rasa, so a liveness
  probe never restarts a hub because something else is away (a restart would not bring
  it back, and the hub keeps apologising and queueing customers meanwhile).
- GET /health/ready: this hub should be sent customers: its start-up work is done and it
  is not stopping, Redis answers and at least one Rasa server answers; 503 otherwise,
  with what is missing, so a load balancer sends customers to another hub.
"""

import asyncio
from dataclasses import dataclass
from typing import Any, Dict

import aiohttp
from aiohttp import web
from redis.exceptions import RedisError

from bot.web.appkeys import CHANNELS, HTTP, RASA, REDIS, SETTINGS

CHECK_SECONDS = 2.0  # each dependency's answer, so a probe gets its answer within ~2 s


@dataclass
class Lifecycle:
    """Where the hub is in its life: the start-up contexts all opened (Redis reached, the
    shared secret read, channels and background loops started), then stopping from the
    moment it is told to shut down, before it closes anything."""

    started: bool = False
    stopping: bool = False

    @property
    def state(self) -> str:
        return "stopping" if self.stopping else "ok" if self.started else "starting"


LIFECYCLE = web.AppKey("lifecycle", Lifecycle)


async def actions_up(app: web.Application) -> bool:
    try:
        async with app[HTTP].get(
            f"{app[SETTINGS].action_url}/health", timeout=aiohttp.ClientTimeout(total=CHECK_SECONDS)
        ) as response:
            return response.status == 200
    except (aiohttp.ClientError, asyncio.TimeoutError):
        return False


async def redis_up(app: web.Application) -> bool:
    try:
        return bool(await asyncio.wait_for(app[REDIS].ping(), CHECK_SECONDS))
    except (RedisError, OSError, asyncio.TimeoutError):
        return False


async def health(request: web.Request) -> web.Response:
    redis_ok = await redis_up(request.app)
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


async def live(request: web.Request) -> web.Response:
    return web.json_response({"hub": "live"})


async def ready(request: web.Request) -> web.Response:
    lifecycle = request.app[LIFECYCLE]
    redis_ok, servers = await asyncio.gather(redis_up(request.app), request.app[RASA].health())
    rasa_ok = any(servers.values())
    is_ready = lifecycle.started and not lifecycle.stopping and redis_ok and rasa_ok
    body = {
        "ready": is_ready,
        "hub": lifecycle.state,
        "redis": "ok" if redis_ok else "down",
        "rasa": "ok" if rasa_ok else "down",
    }
    return web.json_response(body, status=200 if is_ready else 503)


async def _started(app: web.Application) -> None:
    app[LIFECYCLE].started = True


async def _stopping(app: web.Application) -> None:
    app[LIFECYCLE].stopping = True


def add_routes(app: web.Application) -> None:
    """The three routes, and the hooks that follow the hub's life. Call it after the
    app's cleanup contexts are listed: start-up is done when the last of them has opened
    (aiohttp runs on_startup hooks after the cleanup contexts' start-up halves)."""
    app[LIFECYCLE] = Lifecycle()
    app.on_startup.append(_started)  # type: ignore[arg-type]  # aiohttp 3.9's Signal typing
    app.on_shutdown.append(_stopping)  # type: ignore[arg-type]
    app.router.add_get("/health", health)
    app.router.add_get("/health/live", live)
    app.router.add_get("/health/ready", ready)
