"""Limits that hold across hub processes: counters in Redis over fixed windows.

`hit` counts one event for a subject and says how long to wait when the limit is passed.
Subjects (an IP, an agent name, a conversation id) are hashed into the key, so nothing a
client sends becomes part of a key name.
"""

from dataclasses import dataclass
import hashlib
from typing import Optional

from aiohttp import web

from contract import keys


@dataclass(frozen=True)
class Limit:
    name: str
    most: int  # events allowed per window
    window: int  # seconds


LOGIN_FAILURES_PER_IP = Limit("login-ip", 30, 300)
LOGIN_FAILURES_PER_NAME = Limit("login-name", 8, 900)
MESSAGES_PER_CONVERSATION = Limit("messages", 20, 60)


def counter_key(limit: Limit, subject: str) -> str:
    digest = hashlib.sha256(subject.encode("utf-8", "surrogateescape")).hexdigest()[:24]
    return keys.limit(limit.name, digest)


async def hit(redis, limit: Limit, subject: str) -> Optional[int]:
    """Count one event; None while within the limit, else the seconds until it resets."""
    key = counter_key(limit, subject)
    pipe = redis.pipeline(transaction=True)
    pipe.set(key, 0, ex=limit.window, nx=True)  # the window starts with the first event
    pipe.incr(key)  # keeps the key's expiry
    pipe.ttl(key)
    _, count, ttl = await pipe.execute()
    return None if count <= limit.most else max(int(ttl), 1)


async def over(redis, limit: Limit, subject: str) -> Optional[int]:
    """Like `hit`, without counting: has the subject already passed the limit?"""
    key = counter_key(limit, subject)
    pipe = redis.pipeline(transaction=True)
    pipe.get(key)
    pipe.ttl(key)
    count, ttl = await pipe.execute()
    return max(int(ttl), 1) if count is not None and int(count) >= limit.most else None


def per_address(request: web.Request) -> Optional[Limit]:
    """The per-address limit a public request counts against, if any: REST calls,
    Messenger deliveries, and new widget connections (a socket.io handshake is the
    request without a `sid`; the polls and posts of an open socket are not counted)."""
    from bot.appkeys import SETTINGS  # here: bot.appkeys imports the router, which imports us

    settings, path = request.app[SETTINGS], request.path
    if path.startswith("/webhooks/rest/"):
        most, name = settings.rest_per_ip_minute, "rest-ip"
    elif path == "/webhooks/facebook/webhook" and request.method == "POST":
        most, name = settings.messenger_per_ip_minute, "messenger-ip"
    elif path.startswith("/socket.io/") and "sid" not in request.query:
        most, name = settings.widget_connects_per_ip_minute, "widget-connect-ip"
    else:
        return None
    return Limit(name, most, 60) if most > 0 else None


@web.middleware
async def per_address_limits(request: web.Request, handler):
    """429 with Retry-After once an address passes its limit (counted in Redis, so every
    hub process sees the same count)."""
    from bot.appkeys import REDIS

    limit = per_address(request)
    if limit is not None:
        wait = await hit(request.app[REDIS], limit, request.remote or "?")
        if wait is not None:
            raise web.HTTPTooManyRequests(
                text=f'{{"error": "too many requests from this address; retry in {wait} s"}}',
                content_type="application/json",
                headers={"Retry-After": str(wait)},
            )
    return await handler(request)
