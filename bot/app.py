"""The hub's app factory: `create_app(settings)` wires channels, router, console, health.

Resources are opened and closed in cleanup_ctx, one context each, never at import: the
Redis client, the HTTP client session, the router with its channels, the console event
listener with the widget's delivery, and the background loops.
"""

import asyncio
import json
import logging
from pathlib import Path
import secrets
from typing import Any, Dict

import aiohttp
from aiohttp import web
from redis import asyncio as aioredis
from redis.exceptions import RedisError

from bot import (
    agents,
    auth,
    canned,
    identity,
    limits,
    login_words,
    proof_lock,
    reports,
    rest,
    resume,
    search,
    transfer,
)
from bot.appkeys import (
    CALLBACKS,
    DEMO,
    EVENTS,
    HTTP,
    LABELS,
    MESSENGER,
    REDIS,
    ROUTER,
    SECRET,
    SETTINGS,
    SHOP_SECRET,
    STORE,
    TEXTS,
    WIDGET,
)
from bot.callback import CallBacks
from bot.console_labels import ConsoleLabels
from bot.conversations import ConversationStore
from bot.events import EventHub
from bot.followup import EmailFollowUp
from bot.followup import describe as follow_up_status
from bot.mail import Mailer
from bot.messenger import GraphClient, MessengerChannel, channel_off
from bot.rasa_client import RasaClient, RasaUnavailable
from bot.router import Router, Undeliverable
from bot.settings import DEMO_AGENTS, DEMO_LOGIN, Settings, is_loopback, parse_agents
from bot.texts import Texts
from bot.widget import WidgetChannel, engineio_errors, redis_manager
from contract import keys

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "static"


@web.middleware
async def errors_as_json(request: web.Request, handler):
    """Errors of the parts behind the hub, mapped in one place: Redis trouble is a 503,
    a channel's refusal a 409, the assistant not answering a 502 (the agent keeps the
    conversation); nothing escapes as an HTML 500."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except RedisError as error:
        log.error("Redis unavailable while handling %s: %s", request.path, error)
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
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")


async def warn_if_unbounded(redis) -> None:
    """An external Redis without maxmemory can grow until the machine runs out."""
    try:
        limit = int((await redis.config_get("maxmemory")).get("maxmemory", 0))
    except (RedisError, ValueError):  # CONFIG may be disabled on a managed Redis
        return
    if limit == 0:
        log.warning(
            "Redis has no maxmemory: set one (with maxmemory-policy noeviction), or "
            "it can grow until the machine runs out of memory"
        )


async def redis_ctx(app: web.Application):
    settings = app[SETTINGS]
    redis = aioredis.from_url(
        settings.redis_url,
        decode_responses=True,
        socket_timeout=5,
        socket_connect_timeout=5,
        health_check_interval=30,
    )
    try:
        await redis.ping()
    except RedisError as error:
        raise RuntimeError(f"cannot reach Redis at {settings.redis_url}: {error}") from error
    app[REDIS] = redis
    await warn_if_unbounded(redis)
    # One secret for every hub process: from HUB_SECRET, or created once in Redis.
    if settings.secret:
        app[SECRET] = settings.secret
    else:
        await redis.set(keys.SECRET, secrets.token_urlsafe(32), nx=True)
        app[SECRET] = await redis.get(keys.SECRET)
    app[SHOP_SECRET] = await identity.shop_secret(redis, settings)
    app[DEMO] = identity.demo_sign_in(settings)
    yield
    await redis.close(close_connection_pool=True)


async def http_ctx(app: web.Application):
    """The HTTP client session (Rasa, the action server's health, Messenger's Graph API)."""
    app[HTTP] = aiohttp.ClientSession()
    yield
    await app[HTTP].close()


async def router_ctx(app: web.Application):
    """The conversation store, the router and its channels; on the way out, Messenger
    events still being handled finish first."""
    settings = app[SETTINGS]
    app[STORE] = ConversationStore(app[REDIS])
    app[TEXTS] = Texts()
    app[ROUTER] = Router(
        app[STORE],
        RasaClient(app[HTTP], settings.rasa_urls, settings.rasa_timeout),
        app[TEXTS],
        settings,
        channels={"web": app[WIDGET], "rest": rest.RestChannel()},
    )
    app[WIDGET].bind(app[ROUTER], app[SECRET], app[TEXTS], app[SHOP_SECRET])
    app[CALLBACKS] = app[ROUTER].callbacks = CallBacks(app[STORE], app[TEXTS], settings)
    messenger = None
    if settings.messenger_enabled:
        messenger = MessengerChannel(
            settings.fb_verify_token,
            settings.fb_app_secret,
            GraphClient(app[HTTP], settings.fb_graph_url, settings.fb_page_token),
            app[ROUTER],
            settings.max_message_chars,
        )
        app[ROUTER].channels["messenger"] = messenger
        log.info("Messenger channel on (Graph API at %s)", settings.fb_graph_url)
    else:
        log.warning(
            "Messenger channel off: set FB_VERIFY_TOKEN, FB_APP_SECRET and "
            "FB_PAGE_ACCESS_TOKEN to connect a Facebook Page"
        )
    app[MESSENGER] = messenger
    yield
    if messenger is not None:
        await messenger.drain()


async def events_ctx(app: web.Application):
    """The console event listener (Redis pub/sub) and the widget's delivery from it."""
    hub = EventHub(app[REDIS])
    app[EVENTS] = hub
    hub.start()
    app[WIDGET].start_delivery(app[REDIS], hub)
    yield
    await app[WIDGET].stop_delivery()
    await hub.stop()


async def loops_ctx(app: web.Application):
    """Background rounds: "still here" reassurance, and the email follow-up when on."""
    settings = app[SETTINGS]
    stopping = asyncio.Event()
    tasks = [asyncio.create_task(reassure_loop(app, stopping))]
    if settings.email_enabled:
        emails = EmailFollowUp(
            app[STORE], app[TEXTS], settings, app[SECRET], Mailer(settings.smtp_url, settings.mail_from)
        )
        tasks += [
            asyncio.create_task(emails.listen(app[EVENTS].connect())),
            asyncio.create_task(follow_up_loop(emails, settings, stopping)),
        ]
        log.info(
            "email follow-up on: unread agent replies are emailed after %.0f s", settings.follow_up_after
        )
    else:
        log.warning(follow_up_status(settings))
    yield
    stopping.set()  # see EventHub: a cancellation alone may be swallowed by redis-py
    for task in tasks:
        task.cancel()
    await asyncio.wait(tasks, timeout=5)


async def reassure_loop(app: web.Application, stopping: asyncio.Event) -> None:
    while not stopping.is_set():
        await asyncio.sleep(app[SETTINGS].background_interval)
        try:
            await app[ROUTER].reassure_waiting()
        except Exception as error:  # keep the loop alive through Redis hiccups
            log.warning("reassurance round failed: %s", error)


async def follow_up_loop(emails: EmailFollowUp, settings: Settings, stopping: asyncio.Event) -> None:
    while not stopping.is_set():
        await asyncio.sleep(settings.background_interval)
        try:
            await emails.run_once()
        except Exception as error:  # keep the loop alive through Redis hiccups
            log.warning("email follow-up round failed: %s", error)


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
    servers = await request.app[ROUTER].rasa.health()
    body: Dict[str, Any] = {
        "hub": "ok",
        "redis": "ok" if redis_ok else "down",
        "rasa": "ok" if any(servers.values()) else "down",
        "actions": "ok" if await actions_up(request.app) else "down",
        "channels": [channel.describe() for channel in request.app[ROUTER].channels.values()],
    }
    if len(servers) > 1:
        body["rasa_servers"] = {url: "ok" if ok else "down" for url, ok in servers.items()}
    return web.json_response(body, status=200 if redis_ok else 503)


async def facebook_webhook(request: web.Request) -> web.StreamResponse:
    channel = request.app[MESSENGER]
    if channel is None:
        return await channel_off(request)
    return await (channel.verify(request) if request.method == "GET" else channel.receive(request))


async def shop_page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "shop.html")


async def demo_identity(request: web.Request) -> web.Response:
    demo = request.app[DEMO]
    if demo is None:
        return web.json_response({"error": "the demo sign-in is off"}, status=404)
    return web.json_response(
        identity.demo_identity(demo, request.app[SHOP_SECRET]), headers={"Cache-Control": "no-store"}
    )


def create_app(settings: Settings) -> web.Application:
    app = web.Application(
        middlewares=[errors_as_json, limits.per_address_limits, auth.same_origin_posts, engineio_errors],
        client_max_size=256 * 1024,
    )
    app[SETTINGS] = settings
    app.on_response_prepare.append(security_headers)  # type: ignore[arg-type]  # aiohttp 3.9's Signal typing
    app[LABELS] = ConsoleLabels()  # a label file missing a language stops the hub here
    widget = WidgetChannel(settings, manager=redis_manager(settings.redis_url))
    widget.attach(app)
    app[WIDGET] = widget
    # One context per resource, opened in this order and closed in reverse.
    app.cleanup_ctx.extend([redis_ctx, http_ctx, router_ctx, events_ctx, loops_ctx])
    app.router.add_get("/", shop_page)
    app.router.add_get("/health", health)
    app.router.add_get("/demo/identity", demo_identity)
    app.router.add_static("/static/", STATIC, follow_symlinks=False)
    app.router.add_route("GET", "/webhooks/facebook/webhook", facebook_webhook)
    app.router.add_route("POST", "/webhooks/facebook/webhook", facebook_webhook)
    rest.add_routes(app)
    resume.add_routes(app)
    auth.add_routes(app)
    agents.add_routes(app)
    canned.setup(app)  # a bad data/hub/canned.yml stops the hub here
    transfer.setup(app)
    reports.setup(app)
    search.setup(app)
    proof_lock.setup(app)
    login_words.setup(app)
    return app


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = Settings.from_env()
    if not settings.agents:
        log.warning(
            "no agents: the demo agent is refused on %s (not loopback); set HUB_AGENTS "
            "(python -m bot.passwords NAME), or HUB_DEMO=1 for a demo",
            settings.host,
        )
    elif settings.agents.get(DEMO_LOGIN[0]) == parse_agents(DEMO_AGENTS)[DEMO_LOGIN[0]] and not is_loopback(
        settings.host
    ):
        log.warning(
            "THE DEMO AGENT (%s / %s) IS ACTIVE ON %s: anyone who can reach the hub can "
            "log in. Set HUB_AGENTS for real accounts.",
            *DEMO_LOGIN,
            settings.host,
        )
    unnamed = sorted(set(settings.agents) - set(settings.display_names))
    if unnamed:
        log.warning(
            "agents without a display name (customers read 'A colleague'): %s; give one "
            'with python -m bot.passwords NAME "Display name"',
            ", ".join(unnamed),
        )
    print(json.dumps({"hub": f"http://{settings.host}:{settings.port}"}), flush=True)
    web.run_app(create_app(settings), host=settings.host, port=settings.port, print=None)
