"""The hub's health routes (docs/api.md#health, docs/deploy.md#what-each-probe-checks):

- GET /health: the hub, and what it depends on (Redis, Rasa, the action server), with
  the channels it serves; 503 when Redis is down (nothing can be stored).
- GET /health/live: the process answers. It asks nothing of Redis or Rasa, so a liveness
  probe never restarts a hub because something else is away (a restart would not bring
  it back, and the hub keeps apologising and queueing customers meanwhile).
- GET /health/ready: this hub should be sent customers: its start-up work is done and it
  is not stopping, Redis answers and at least one Rasa server answers; 503 otherwise,
  with what is missing, so a load balancer sends customers to another hub.

Redis's memory is watched too (MemoryWatch): past MEMORY_WARNING of its `maxmemory`,
/health says so (`redis_memory.warning`) and the log warns (on crossing, then every
WARN_EVERY seconds while it stays above): with `noeviction`, a full Redis refuses every
write, for every customer and agent.
"""

import asyncio
from dataclasses import dataclass
import logging
import time
from typing import Any, Dict, Optional

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

log = logging.getLogger(__name__)
MEMORY_WARNING = 0.70  # of maxmemory
WARN_EVERY = 600.0  # seconds between warnings while above it


class MemoryWatch:
    """Redis's used memory against its maxmemory, checked by /health and a background
    round (bot/app.py)."""

    def __init__(self, redis, clock=time.monotonic) -> None:
        self.redis = redis
        self.clock = clock
        self.warned_at: Optional[float] = None  # None: below the threshold

    async def check(self) -> Optional[Dict[str, Any]]:
        """{"used_bytes", "max_bytes", "percent", "warning"?}, or None when Redis will
        not say (INFO refused or Redis away)."""
        try:
            info = await asyncio.wait_for(self.redis.info("memory"), CHECK_SECONDS)
        except (RedisError, OSError, asyncio.TimeoutError):
            return None
        used, most = int(info.get("used_memory", 0)), int(info.get("maxmemory", 0))
        figures: Dict[str, Any] = {"used_bytes": used, "max_bytes": most}
        if most <= 0:
            return figures  # unbounded: the hub warned at start-up
        share = used / most
        figures["percent"] = round(100 * share, 1)
        if share < MEMORY_WARNING:
            if self.warned_at is not None:
                log.info(
                    "Redis memory back under %d%% of maxmemory (%.1f%%)", 100 * MEMORY_WARNING, 100 * share
                )
            self.warned_at = None
            return figures
        figures["warning"] = (
            f"Redis uses {100 * share:.0f}% of its maxmemory ({used} of {most} bytes): past 100% every "
            "write fails; raise maxmemory or find what is filling it"
        )
        now = self.clock()
        if self.warned_at is None or now - self.warned_at >= WARN_EVERY:
            log.warning(figures["warning"])
            self.warned_at = now
        return figures


MEMORY = web.AppKey("memory", MemoryWatch)


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
    memory = await request.app[MEMORY].check() if redis_ok else None
    if memory is not None:
        body["redis_memory"] = memory
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
