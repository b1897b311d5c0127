"""The hub's app factory, `create_app(settings)`: the wings' routes, and the object graph
built once, in order, when the app starts.

Resources are opened and closed in cleanup_ctx, one context each, never at import: the
Redis client, the HTTP client session, the core (store, turn, outbox, live events), the
channels (the widget's delivery, Messenger's and Zalo's events in flight), and the background
loops (reassurance, email follow-up).
"""

import asyncio
import json
import logging
import secrets
from typing import Any, Awaitable, Callable

import aiohttp
from aiohttp import web
from redis.exceptions import RedisError

from bot.aftercare import routes as aftercare_routes
from bot.aftercare.callback import CallBacks
from bot.aftercare.choices import FollowUpChoices
from bot.aftercare.followup import EmailFollowUp, FollowUpElsewhere
from bot.aftercare.followup import describe as follow_up_status
from bot.aftercare.mail import Mailer
from bot.aftercare.owner_link import OWNER_LINKS, OwnerLinks
from bot.aftercare.promises import Promises
from bot.channels import identity
from bot.channels import routes as channel_routes
from bot.channels.graph import GraphClient
from bot.channels.messenger import MessengerChannel, Personas
from bot.channels.rest import RestChannel
from bot.channels.routes import DEMO, MESSENGER, ZALO
from bot.channels.widget import WidgetChannel, socketio_server
from bot.channels.zalo import ZaloChannel
from bot.channels.zalo_api import ZaloClient, ZaloTokens
from bot.console import canned
from bot.console import routes as console_routes
from bot.console.appkeys import CALLBACKS, CANNED, LABELS, PROMISES
from bot.console.labels import ConsoleLabels
from bot.core.conversations import ConversationStore
from bot.core.events import EventHub
from bot.core.handoffs import Handoffs
from bot.core.limits import Limits
from bot.core.outbox import Outbox
from bot.core.rasa_client import RasaClient, dns_addresses
from bot.core.reporting import Reporting
from bot.core.sessions import Sessions
from bot.core.texts import Texts
from bot.core.turn import Turn
from bot.core.turn_lock import TurnLock
from bot.settings import DEMO_AGENTS, DEMO_LOGIN, Settings, parse_agents, redact
from bot.web import health
from bot.web.appkeys import (
    CHANNELS,
    EVENTS,
    HTTP,
    LIMITS,
    OUTBOX,
    RASA,
    REDIS,
    SECRET,
    SESSIONS,
    SETTINGS,
    SHOP_SECRET,
    STORE,
    TEXTS,
    TURN,
)
from bot.web.middlewares import (
    engineio_errors,
    errors_as_json,
    known_host,
    per_address_limits,
    security_headers,
)
from contract import keys, redis_client

log = logging.getLogger(__name__)
SIO = web.AppKey("sio", object)  # the widget's socket.io server, attached at creation
TURN_MARGIN = 10.0  # seconds a turn may take beyond Rasa's timeout (Redis writes, a handoff)
# Stopping (SIGTERM) within 10 s (make run's bound and the pod's, docs/deploy.md): aiohttp
# stops listening, then `drain` moves the widgets and consoles to other hubs and lets the
# turns in flight finish for up to DRAIN_SECONDS, then aiohttp gives requests still
# running SHUTDOWN_TIMEOUT more before it closes them, and the contexts close (about 1 s).
DRAIN_SECONDS = 7.0
SHUTDOWN_TIMEOUT = 1.5


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
    target = settings.redis_target  # REDIS_URL, or the master the Sentinels name
    redis = redis_client.async_client(
        target,
        decode_responses=True,
        socket_timeout=5,
        socket_connect_timeout=5,
        health_check_interval=30,
    )
    try:
        await redis.ping()
    except RedisError as error:  # never the password (describe; bot/settings.py redact)
        await redis_client.close(redis)
        raise RuntimeError(f"cannot reach Redis at {target.describe()}: {redact(str(error))}") from None
    app[REDIS] = redis
    app[health.MEMORY] = health.MemoryWatch(redis)
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
    await redis_client.close(redis)


async def http_ctx(app: web.Application):
    """The HTTP client session (Rasa, the action server's health, Messenger's Graph API)."""
    app[HTTP] = aiohttp.ClientSession()
    yield
    await app[HTTP].close()


async def core_ctx(app: web.Application):
    """The conversation store and what routes through it; the live event listener."""
    settings, redis = app[SETTINGS], app[REDIS]
    app[EVENTS] = EventHub(redis)
    app[EVENTS].start()
    store = app[STORE] = ConversationStore(redis, Reporting(redis, app[LABELS].first_response_minutes))
    texts = app[TEXTS] = Texts()
    resolve = dns_addresses if settings.rasa_resolve else None  # a headless Service's pods
    rasa = app[RASA] = RasaClient(app[HTTP], settings.rasa_urls, settings.rasa_timeout, resolve)
    handoffs = Handoffs(store, texts, settings)
    # The assistant's handoffs, queued the moment it decides (contract/handoff_requests.py).
    early = asyncio.create_task(handoffs.listen(app[EVENTS].connect(keys.HANDOFF_REQUESTS)))
    app[CALLBACKS] = CallBacks(store, texts, settings)
    app[CHANNELS] = {}  # filled by channels_ctx
    app[LIMITS] = Limits(redis, settings)
    sessions = app[SESSIONS] = Sessions(redis, store.publish)
    mailer = Mailer(settings.smtp_url, settings.mail_from) if settings.email_enabled else None
    owner_links = app[OWNER_LINKS] = OwnerLinks(store, sessions, texts, settings, mailer)
    # One turn of a conversation at a time on every hub: a turn may run past Rasa's
    # timeout only by the writes around it; a message waits at most three turns' worth.
    longest = settings.rasa_timeout + TURN_MARGIN
    lock = TurnLock(redis, wait=3 * longest, longest=longest)
    app[TURN] = Turn(
        store,
        rasa,
        texts,
        handoffs,
        app[LIMITS],
        lock,
        FollowUpChoices(store, texts, app[CALLBACKS]),
        app[CHANNELS],
        owner_links=owner_links,
        proof_idle=settings.session_idle_minutes * 60,
    )
    elsewhere = FollowUpElsewhere(store, settings, app[CALLBACKS])
    app[OUTBOX] = Outbox(store, rasa, texts, handoffs, settings, app[CHANNELS], elsewhere, lock)
    app[PROMISES] = Promises(store, app[OUTBOX], texts, app[CALLBACKS])
    yield
    await owner_links.stop()
    await app[EVENTS].stop()  # its "shutdown" ends the early handoffs' listener
    early.cancel()
    await asyncio.wait([early], timeout=5)


async def channels_ctx(app: web.Application):
    """The channels, each given the turn as its host; on the way out, the widget's
    delivery stops and Messenger events still being handled finish first."""
    settings, redis = app[SETTINGS], app[REDIS]
    widget = WidgetChannel(
        app[SIO],
        app[TURN],
        app[TEXTS],
        redis,
        app[SESSIONS],
        app[SECRET],
        app[SHOP_SECRET],
        settings.max_message_chars,
        app[LIMITS],
    )
    widget.start(app[EVENTS].connect())
    app[CHANNELS].update({"web": widget, "rest": RestChannel()})
    messenger = None
    if settings.messenger_enabled:
        graph = GraphClient(app[HTTP], settings.fb_graph_url, settings.fb_page_token)
        messenger = MessengerChannel(
            settings.fb_verify_token,
            settings.fb_app_secret,
            graph,
            app[TURN],
            Personas(redis, graph),
            settings.max_message_chars,
        )
        app[CHANNELS]["messenger"] = messenger
        log.info("Messenger channel on (Graph API at %s)", settings.fb_graph_url)
    else:
        log.warning(
            "Messenger channel off: set FB_VERIFY_TOKEN, FB_APP_SECRET and "
            "FB_PAGE_ACCESS_TOKEN to connect a Facebook Page"
        )
    app[MESSENGER] = messenger
    app[ZALO] = zalo = await zalo_channel(app)
    if zalo is not None:
        app[CHANNELS]["zalo"] = zalo
    yield
    for channel in (messenger, zalo):
        if channel is not None:
            await channel.drain()
    await widget.stop()


async def zalo_channel(app: web.Application):
    """The Zalo OA channel, or None (and a warning) while its settings are unset."""
    settings = app[SETTINGS]
    if not settings.zalo_enabled:
        log.warning(
            "Zalo channel off: set ZALO_APP_ID, ZALO_OA_SECRET, ZALO_APP_SECRET and ZALO_REFRESH_TOKEN "
            "to connect a Zalo Official Account"
        )
        return None
    tokens = ZaloTokens(
        app[REDIS],
        app[HTTP],
        settings.zalo_oauth_url,
        settings.zalo_app_id,
        settings.zalo_app_secret,
        settings.zalo_refresh_token,
    )
    await tokens.start()
    log.info("Zalo channel on (OpenAPI at %s)", settings.zalo_api_url)
    return ZaloChannel(
        settings.zalo_app_id,
        settings.zalo_oa_secret,
        ZaloClient(app[HTTP], settings.zalo_api_url, tokens),
        app[TURN],
        app[REDIS],
        settings.max_message_chars,
        settings.zalo_event_max_age,
        settings.zalo_reply_quota,
    )


async def loops_ctx(app: web.Application):
    """Background rounds: "still here" reassurance, Redis's memory, expired call-backs,
    and the email follow-up when on."""
    settings = app[SETTINGS]
    stopping = asyncio.Event()
    tasks = [
        asyncio.create_task(every(settings.background_interval, app[OUTBOX].reassure_waiting, stopping)),
        asyncio.create_task(every(settings.background_interval, app[health.MEMORY].check, stopping)),
        asyncio.create_task(every(settings.background_interval, app[CALLBACKS].sweep, stopping)),
    ]
    if settings.email_enabled:
        mailer = Mailer(settings.smtp_url, settings.mail_from)
        emails = EmailFollowUp(app[STORE], app[TEXTS], settings, app[SECRET], mailer)
        tasks += [
            asyncio.create_task(emails.listen(app[EVENTS].connect())),
            asyncio.create_task(every(settings.background_interval, emails.run_once, stopping)),
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


async def every(interval: float, round_: Callable[[], Awaitable[Any]], stopping: asyncio.Event) -> None:
    """One background round every `interval` seconds until the hub stops."""
    while not stopping.is_set():
        await asyncio.sleep(interval)
        try:
            await round_()
        except Exception as error:  # keep the loop alive through Redis hiccups
            log.warning(
                "%s round failed: %s", getattr(round_, "__qualname__", "background"), redact(str(error))
            )


async def drain(app: web.Application) -> None:
    """On shutdown, once the hub has stopped listening and says it is not ready: every
    widget and console on this hub is told to reconnect (the load balancer sends them to
    another hub), then the turns in flight finish (bounded), before anything closes."""
    widgets = app[CHANNELS].get("web")
    moved = await widgets.reconnect_elsewhere() if isinstance(widgets, WidgetChannel) else 0
    app[EVENTS].close_consoles()
    left = await app[TURN].drain(DRAIN_SECONDS)
    log.info(
        "stopping: %d widget socket(s) told to reconnect elsewhere; turns in flight %s",
        moved,
        f"not finished: {left}" if left else "all finished",
    )


def create_app(settings: Settings) -> web.Application:
    app = web.Application(
        middlewares=[known_host, errors_as_json, per_address_limits, engineio_errors],
        client_max_size=256 * 1024,
    )
    app[SETTINGS] = settings
    app.on_response_prepare.append(security_headers)  # type: ignore[arg-type]  # aiohttp 3.9's Signal typing
    # Owner-edited words are checked here: a bad file stops the hub before it starts.
    app[LABELS] = ConsoleLabels()
    app[CANNED] = canned.load()
    sio = socketio_server(settings.redis_target)
    sio.attach(app, socketio_path="socket.io")  # before start-up: its routes join the app's
    app[SIO] = sio
    # One context per resource, opened in this order and closed in reverse.
    app.cleanup_ctx.extend([redis_ctx, http_ctx, core_ctx, channels_ctx, loops_ctx])
    channel_routes.add_routes(app)
    aftercare_routes.add_routes(app)
    console_routes.mount(app)
    health.add_routes(app)  # last: ready once everything above has started
    app.on_shutdown.append(drain)  # type: ignore[arg-type]  # after health's: unready first
    return app


def warn_about_agents(settings: Settings) -> None:
    if not settings.agents:
        log.warning(
            "no agents: set HUB_AGENTS (python -m bot.console.passwords NAME), or HUB_DEMO=1 for "
            "the demo agent on a hub nobody else can reach"
        )
    elif settings.agents.get(DEMO_LOGIN[0]) == parse_agents(DEMO_AGENTS)[DEMO_LOGIN[0]]:
        log.warning(
            "THE DEMO AGENT (%s / %s) IS ACTIVE: anyone who can reach the hub (%s, and any proxy in "
            "front of it) can sign in. Set HUB_AGENTS for real accounts.",
            *DEMO_LOGIN,
            settings.host,
        )
    if settings.rest_closed:
        log.warning(
            "REST channel closed: HUB_PUBLIC_ORIGIN is set and HUB_REST_TOKEN is not (every REST call "
            "gets 401); set HUB_REST_TOKEN to open it to your callers"
        )
    unnamed = sorted(set(settings.agents) - set(settings.display_names))
    if unnamed:
        log.warning(
            "agents without a display name (customers read 'A colleague'): %s; give one "
            'with python -m bot.console.passwords NAME "Display name"',
            ", ".join(unnamed),
        )


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = Settings.from_env()
    warn_about_agents(settings)
    print(json.dumps({"hub": f"http://{settings.host}:{settings.port}"}), flush=True)
    web.run_app(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        print=None,
        shutdown_timeout=SHUTDOWN_TIMEOUT,
    )
