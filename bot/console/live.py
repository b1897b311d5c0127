"""The console's live events: a WebSocket per open console (GET /api/agent/ws), fed from
the hub's event stream (core/events.py: queue changes, messages, transfers), and the
agent's presence, kept while the socket is open. Logging out closes that session's
sockets on every hub process."""

import asyncio
import contextlib

from aiohttp import WSMsgType, web

from bot.console.auth import origin_allowed, session_ref, session_token
from bot.web.appkeys import EVENTS, STORE
from bot.web.http import json_error

HEARTBEAT_SECONDS = 20


async def live(request: web.Request) -> web.WebSocketResponse:
    agent = request["agent"]
    session = session_ref(session_token(request) or "")
    if not origin_allowed(request):
        raise json_error(403, "this origin may not open the console socket")
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_SECONDS)
    await ws.prepare(request)
    hub, store = request.config_dict[EVENTS], request.config_dict[STORE]
    events = hub.connect()

    async def forward() -> None:
        while True:
            event = await events.get()
            if event.get("type") == "shutdown" or (
                event.get("type") == "logout" and event.get("session") == session
            ):
                await ws.close()
                return
            if event.get("type") != "logout":
                await ws.send_json(event)

    async def presence() -> None:
        while True:
            await store.heartbeat(agent)
            await asyncio.sleep(HEARTBEAT_SECONDS)

    tasks = [asyncio.create_task(forward()), asyncio.create_task(presence())]
    try:
        async for message in ws:
            if message.type == WSMsgType.ERROR:
                break  # the console only listens; anything it sends is ignored
    finally:
        hub.disconnect(events)
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
    return ws
