"""The agent side: the console page, its JSON API and its live WebSocket.

Every /api/agent/* route except login, and the console page, need a logged-in agent
(bot/auth.py: a signed, HttpOnly cookie naming a session kept in Redis). Customers
never reach this: widget sessions and agent sessions are different things.

API (JSON):
  GET  /api/agent/queue                        queued conversations + mine
  GET  /api/agent/conversations/{id}           context packet + full transcript
  POST /api/agent/conversations/{id}/claim
  POST /api/agent/conversations/{id}/messages  {text}
  POST /api/agent/conversations/{id}/resolve   {note}
  POST /api/agent/conversations/{id}/handback  {note}
  POST /api/agent/conversations/{id}/forget    the customer's memory, this conversation and its transcript
  POST /api/agent/conversations/{id}/notes     {text}: an internal note (transcript only, never sent)
  GET  /api/agent/labels                       the console's words and first-response targets
  GET  /api/agent/callbacks                    open call-back tasks (bot/callback.py)
  POST /api/agent/callbacks/{id}               {outcome: "done"|"no_answer", note?}
  GET  /api/agent/ws                           live events (WebSocket)
"""

import asyncio
import contextlib

from aiohttp import WSMsgType, web

from bot import recording
from bot.appkeys import CALLBACKS, EVENTS, LABELS, REDIS, ROUTER, SETTINGS, STORE
from bot.auth import STATIC, current_agent, origin_allowed, session_ref, session_token
from bot.conversations import Conversation
from bot.http import json_error, read_json
from contract import memory

MAX_NOTE_CHARS = 2000
HEARTBEAT_SECONDS = 20


async def queue(request: web.Request) -> web.Response:
    agent = await current_agent(request)
    store = request.app[STORE]
    waiting = [c.summary() for c in await store.queue()]
    mine = [c.summary() for c in await store.owned_by(agent)]
    return web.json_response({"agent": agent, "queue": waiting, "mine": mine})


async def _conversation(request: web.Request) -> Conversation:
    conv = await request.app[STORE].get(request.match_info["cid"])
    if conv is None:
        raise json_error(404, "no such conversation")
    return conv


async def conversation(request: web.Request) -> web.Response:
    await current_agent(request)
    conv = await _conversation(request)
    transcript = await request.app[STORE].transcript(conv.id)
    window = await request.app[ROUTER].window(conv)
    # The packet as stored (raw when this hub cannot read it: the console shows it as
    # it is), and the transcript once, beside it (contract/handoff.py).
    return web.json_response(
        {
            **conv.summary(),
            "identity": conv.identity,
            "packet": conv.packet,
            "packet_readable": conv.handoff() is not None,
            "note": conv.note,
            "transcript": transcript,
            "window": window,
        }
    )


async def claim(request: web.Request) -> web.Response:
    agent = await current_agent(request)
    conv = await _conversation(request)
    if not await request.app[STORE].claim(conv.id, agent):
        raise json_error(409, f"conversation is {conv.state}, not waiting in the queue")
    conv = await _conversation(request)  # as it is now: the agent's
    await request.app[ROUTER].agent_joined(conv, agent)
    return web.json_response(conv.summary())


async def _owned(request: web.Request):
    agent = await current_agent(request)
    conv = await _conversation(request)
    if conv.state != "agent" or conv.agent != agent:
        raise json_error(409, "claim the conversation first")
    return agent, conv


async def _text_field(request: web.Request, name: str, required: bool) -> str:
    body = await read_json(request)
    value = body.get(name, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise json_error(
            400, f"'{name}' must be a non-empty string" if required else f"'{name}' must be a string"
        )
    limit = request.app[SETTINGS].max_message_chars if name == "text" else MAX_NOTE_CHARS
    if len(value) > limit:
        raise json_error(413, f"'{name}' is longer than {limit} characters")
    return value.strip()


async def send_message(request: web.Request) -> web.Response:
    agent, conv = await _owned(request)
    text = await _text_field(request, "text", required=True)
    await request.app[ROUTER].agent_reply(conv, agent, text)  # refused: 409 (bot/app.py)
    await recording.agent_replied(request.app, conv)
    return web.json_response({"ok": True})


async def resolve(request: web.Request) -> web.Response:
    agent, conv = await _owned(request)
    note = await _text_field(request, "note", required=False)
    await request.app[ROUTER].resolve(conv, agent, note)
    await recording.agent_resolved(request.app, conv)
    return web.json_response({"ok": True, "state": "closed"})


async def hand_back(request: web.Request) -> web.Response:
    agent, conv = await _owned(request)
    note = await _text_field(request, "note", required=False)
    await request.app[ROUTER].hand_back(conv, agent, note)  # Rasa away: 502 (bot/app.py)
    await recording.agent_resolved(request.app, conv)
    return web.json_response({"ok": True, "state": "bot"})


async def forget(request: web.Request) -> web.Response:
    """Forget the customer behind a conversation (the assistant's memory of them, or
    only this conversation's guest record), then the hub's copy of every conversation
    of theirs: state and transcript."""
    await current_agent(request)
    conv = await _conversation(request)
    forgotten = await memory.forget_customer_of(request.app[REDIS], conv.id)
    others = forgotten.get("conversations")
    for cid in {conv.id, *(others if isinstance(others, list) else [])}:
        await request.app[STORE].forget(cid)
    return web.json_response({"ok": True, "forgotten": forgotten})


async def callbacks(request: web.Request) -> web.Response:
    await current_agent(request)
    return web.json_response({"callbacks": await request.app[CALLBACKS].tasks()})


async def callback_outcome(request: web.Request) -> web.Response:
    agent = await current_agent(request)
    body = await read_json(request)
    outcome, note = body.get("outcome"), body.get("note", "")
    if outcome not in ("done", "no_answer"):
        raise json_error(400, '\'outcome\' must be "done" or "no_answer"')
    if not isinstance(note, str) or len(note) > MAX_NOTE_CHARS:
        raise json_error(400, f"'note' must be a string of at most {MAX_NOTE_CHARS} characters")
    cid = request.match_info["cid"]
    try:
        message = await request.app[CALLBACKS].outcome(cid, agent, outcome, note.strip())
    except LookupError as error:
        raise json_error(404, str(error)) from None
    conv = await request.app[STORE].get(cid)
    if message and conv is not None:
        await request.app[ROUTER].notify(conv, message)
    return web.json_response({"ok": True, "outcome": outcome})


async def add_note(request: web.Request) -> web.Response:
    """An internal note: written to the transcript from "note" with the agent's name.
    Nothing delivers "note" entries (bot/catchup.py OUTGOING, bot/followup.py, and the
    channels only get what the router pushes), so the customer never sees it."""
    agent = await current_agent(request)
    conv = await _conversation(request)
    text = await _text_field(request, "text", required=True)
    entry = await request.app[STORE].log(conv.id, "note", text, {"agent": agent})
    return web.json_response({"ok": True, "note": {**entry, "data": {"agent": agent}}})


async def labels(request: web.Request) -> web.Response:
    await current_agent(request)
    return web.json_response(request.app[LABELS].as_json())


async def live(request: web.Request) -> web.WebSocketResponse:
    agent = await current_agent(request)
    session = session_ref(session_token(request) or "")
    if not origin_allowed(request):
        raise json_error(403, "this origin may not open the console socket")
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_SECONDS)
    await ws.prepare(request)
    hub, store = request.app[EVENTS], request.app[STORE]
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


async def console_page(request: web.Request) -> web.StreamResponse:
    try:
        await current_agent(request)
    except web.HTTPUnauthorized:
        raise web.HTTPFound("/agent/login") from None
    return web.FileResponse(STATIC / "agent.html")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/agent", console_page)
    app.router.add_get("/api/agent/queue", queue)
    app.router.add_get("/api/agent/ws", live)
    app.router.add_get("/api/agent/callbacks", callbacks)
    app.router.add_post("/api/agent/callbacks/{cid}", callback_outcome)
    app.router.add_get("/api/agent/conversations/{cid}", conversation)
    app.router.add_post("/api/agent/conversations/{cid}/claim", claim)
    app.router.add_post("/api/agent/conversations/{cid}/messages", send_message)
    app.router.add_post("/api/agent/conversations/{cid}/resolve", resolve)
    app.router.add_post("/api/agent/conversations/{cid}/handback", hand_back)
    app.router.add_post("/api/agent/conversations/{cid}/forget", forget)
    app.router.add_post("/api/agent/conversations/{cid}/notes", add_note)
    app.router.add_get("/api/agent/labels", labels)
