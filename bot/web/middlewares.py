"""Every middleware of the hub, in one place, and the response headers every page gets.

The app's own (bot/app.py): the hosts the hub answers to, errors of the parts behind the
hub as JSON, per-address limits, socket.io's stale sessions. The console's sub-applications (console/routes.py):
same-origin POSTs and `require_agent`.
"""

import logging
from typing import Awaitable, Callable

from aiohttp import web
from redis.exceptions import RedisError

from bot.core import limits
from bot.core.channel import Undeliverable
from bot.core.rasa_client import RasaUnavailable
from bot.settings import redact
from bot.web.appkeys import REDIS, SETTINGS
from bot.web.http import json_error

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# The pages load only their own scripts. rasa-webchat injects its stylesheet as <style>
# elements and carries its icons and fonts as data: URIs; the widget and console talk to
# this origin only (socket.io's websocket included). Third parties get nothing (the
# widget's Google Fonts stylesheet is blocked: it falls back to the page's fonts). No
# page may be framed by another site.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; media-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
)


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: every answer, pages and JSON alike."""
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.path.startswith("/static/"):
        # Asked again each load (a 304 when unchanged): after a deploy, a browser never
        # runs the console's modules from two versions together.
        response.headers.setdefault("Cache-Control", "no-cache")


def host_name(host: str) -> str:
    """The name in a `Host` header, without its port: "[::1]:8080" -> "::1"."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    name, colon, port = host.rpartition(":")
    return (name if colon and port.isdigit() else host).rstrip(".")


@web.middleware
async def known_host(request: web.Request, handler: Handler) -> web.StreamResponse:
    """421 for a `Host` the hub does not serve: only localhost, the loopback addresses,
    HUB_PUBLIC_ORIGIN's host and HUB_ALLOWED_HOSTS. A DNS-rebinding page (evil.test,
    re-pointed at 127.0.0.1) then reaches nothing from a developer's browser. /health
    answers any host: probes call it by address, and it holds nothing of anyone's."""
    if request.path.startswith("/health"):
        return await handler(request)
    if host_name(request.host) not in request.config_dict[SETTINGS].hosts:
        raise web.HTTPMisdirectedRequest(
            text='{"error": "this hub does not serve that host name"}', content_type="application/json"
        )
    return await handler(request)


@web.middleware
async def errors_as_json(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Errors of the parts behind the hub, mapped in one place: Redis trouble is a 503,
    a channel's refusal a 409, the assistant not answering a 502 (the agent keeps the
    conversation); nothing escapes as an HTML 500."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except RedisError as error:
        log.error("Redis unavailable while handling %s: %s", request.path, redact(str(error)))
        return web.json_response(
            {"error": "the service is briefly unavailable; please retry"},
            status=503,
            headers={"Retry-After": "5"},
        )
    except Undeliverable as error:  # the channel refused (e.g. Messenger's 24-hour window)
        return web.json_response({"error": str(error)}, status=409)
    except RasaUnavailable as error:
        return web.json_response(
            {"error": f"the assistant is not answering ({error}); the conversation stays with you"},
            status=502,
        )


def per_address(request: web.Request):
    """The per-address limit a public request counts against, if any: REST calls,
    Messenger and Zalo deliveries, and new widget connections (a socket.io handshake is the
    request without a `sid`; the polls and posts of an open socket are not counted)."""
    settings, path = request.config_dict[SETTINGS], request.path
    if path.startswith("/webhooks/rest/"):
        most, name = settings.rest_per_ip_minute, "rest-ip"
    elif path == "/webhooks/facebook/webhook" and request.method == "POST":
        most, name = settings.messenger_per_ip_minute, "messenger-ip"
    elif path == "/webhooks/zalo/webhook" and request.method == "POST":
        most, name = settings.zalo_per_ip_minute, "zalo-ip"
    elif path.startswith("/socket.io/") and "sid" not in request.query:
        most, name = settings.widget_connects_per_ip_minute, "widget-connect-ip"
    else:
        return None
    return limits.Limit(name, most, 60) if most > 0 else None


@web.middleware
async def per_address_limits(request: web.Request, handler: Handler) -> web.StreamResponse:
    """429 with Retry-After once an address passes its limit (counted in Redis, so every
    hub process sees the same count)."""
    limit = per_address(request)
    if limit is not None:
        wait = await limits.hit(request.config_dict[REDIS], limit, request.remote or "?")
        if wait is not None:
            raise web.HTTPTooManyRequests(
                text=f'{{"error": "too many requests from this address; retry in {wait} s"}}',
                content_type="application/json",
                headers={"Retry-After": str(wait)},
            )
    return await handler(request)


@web.middleware
async def engineio_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """python-engineio answers a POST to a socket closed a moment before with a bare
    KeyError ("Session is disconnected"), which aiohttp would make a 500: it is the
    client's stale session, so a 400."""
    if not request.path.startswith("/socket.io/"):
        return await handler(request)
    try:
        return await handler(request)
    except KeyError:
        return web.json_response({"error": "this socket.io session is closed"}, status=400)


def same_origin_posts(allowed: Callable[[web.Request], bool]):
    """A browser's POST must come from the hub's own pages: a cross-site form or
    text/plain POST is refused whatever the cookie (an Origin-less request is not a
    browser's cross-site one). `allowed` says which origins are the hub's."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method == "POST" and "Origin" in request.headers and not allowed(request):
            raise json_error(403, "this origin may not use the agent API")
        return await handler(request)

    return middleware


def require_agent(agent_of: Callable[[web.Request], Awaitable[str]], *, sign_in_page: str = ""):
    """Every route of the sub-application needs a signed-in agent, but those marked
    `public` (sign-in itself). `agent_of` names the agent or raises 401; the agent's
    name is then `request["agent"]`. With `sign_in_page`, a page asks to sign in there
    instead of answering 401."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if getattr(request.match_info.handler, "public", False):
            return await handler(request)
        try:
            request["agent"] = await agent_of(request)
        except web.HTTPUnauthorized:
            if sign_in_page:
                raise web.HTTPFound(sign_in_page) from None
            raise
        return await handler(request)

    return middleware


def public(handler: Handler) -> Handler:
    """Marks a route that `require_agent` lets through (sign-in and its page)."""
    handler.public = True  # type: ignore[attr-defined]
    return handler
