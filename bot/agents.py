"""The agent side: login, the console page, its JSON API and its live WebSocket.

Every /api/agent/* route except login, and the console page, need a logged-in agent
(a signed, HttpOnly cookie naming a session kept in Redis). Customers never reach
this: widget sessions and agent sessions are different things.

API (JSON):
  POST /api/agent/login                        {name, password} -> sets the cookie
  POST /api/agent/logout
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
import hashlib
import secrets
from pathlib import Path
from urllib.parse import urlparse

from aiohttp import WSMsgType, web

from actions import memory
from bot import keys, limits, recording
from bot.appkeys import (CALLBACKS, EVENTS, LABELS, REDIS, ROUTER, SCRYPT_SLOTS, SECRET, SETTINGS,
                         STORE)
from bot.http import json_error, read_json
from bot.passwords import check_password, sign, unsign

COOKIE = "sr_agent"
STATIC = Path(__file__).resolve().parent / "static"
MAX_NOTE_CHARS = 2000
HEARTBEAT_SECONDS = 20
SCRYPT_AT_ONCE = 2  # password checks at once, per hub process


def session_token(request: web.Request):
    return unsign(request.cookies.get(COOKIE, ""), request.app[SECRET])


def session_ref(token: str) -> str:
    """What events may say about a session: never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


async def current_agent(request: web.Request) -> str:
    token = session_token(request)
    name = await request.app[REDIS].get(keys.agent_session(token)) if token else None
    # Re-checked on every request: an agent removed from HUB_AGENTS is out at once.
    if not name or name not in request.app[SETTINGS].agents:
        raise json_error(401, "log in as an agent first")
    return name


def too_many(retry_after: int) -> web.HTTPException:
    error = json_error(429, f"too many sign-in attempts; try again in {retry_after} s")
    error.headers["Retry-After"] = str(retry_after)
    return error


async def login(request: web.Request) -> web.Response:
    body = await read_json(request)
    name, password = body.get("name"), body.get("password")
    redis = request.app[REDIS]
    # Failed attempts are throttled per address and per name, in Redis so the limits
    # hold across hub processes.
    address = request.remote or "?"
    wait = await limits.over(redis, limits.LOGIN_FAILURES_PER_IP, address)
    if wait is None and isinstance(name, str):
        wait = await limits.over(redis, limits.LOGIN_FAILURES_PER_NAME, name)
    if wait is not None:
        raise too_many(wait)
    hashed = request.app[SETTINGS].agents.get(name) if isinstance(name, str) else None
    # Check a password even for unknown names, so timing does not reveal which exist.
    # scrypt is deliberately slow and memory-hungry: off the event loop, a few at a time.
    async with request.app[SCRYPT_SLOTS]:
        valid = await asyncio.get_running_loop().run_in_executor(
            None, check_password, password if isinstance(password, str) else "",
            hashed or next(iter(request.app[SETTINGS].agents.values()), "x$"))
    if not hashed or not valid:
        await limits.hit(redis, limits.LOGIN_FAILURES_PER_IP, address)
        if isinstance(name, str):
            await limits.hit(redis, limits.LOGIN_FAILURES_PER_NAME, name)
        raise json_error(401, "wrong name or password")
    token = secrets.token_urlsafe(24)
    await request.app[REDIS].set(keys.agent_session(token), name, ex=keys.AGENT_SESSION_TTL)
    response = web.json_response({"agent": name})
    secure = (request.app[SETTINGS].public_origin or "").startswith("https://")
    response.set_cookie(COOKIE, sign(token, request.app[SECRET]), httponly=True, secure=secure,
                        samesite="Strict", max_age=keys.AGENT_SESSION_TTL, path="/")
    return response


async def logout(request: web.Request) -> web.Response:
    token = session_token(request)
    if token:
        await request.app[REDIS].delete(keys.agent_session(token))
        # That session's console sockets close, on whichever hub process they are.
        await request.app[STORE].publish({"type": "logout", "session": session_ref(token)})
    response = web.json_response({"ok": True})
    response.del_cookie(COOKIE, path="/")
    return response


async def queue(request: web.Request) -> web.Response:
    agent = await current_agent(request)
    store = request.app[STORE]
    waiting = [c.summary() for c in await store.queue()]
    mine = [c.summary() for c in await store.owned_by(agent)]
    return web.json_response({"agent": agent, "queue": waiting, "mine": mine})


async def _conversation(request: web.Request):
    conv = await request.app[STORE].get(request.match_info["cid"])
    if conv is None:
        raise json_error(404, "no such conversation")
    return conv


async def conversation(request: web.Request) -> web.Response:
    await current_agent(request)
    conv = await _conversation(request)
    transcript = await request.app[STORE].transcript(conv.id)
    window = getattr(request.app[ROUTER].channels.get(conv.channel), "window", None)
    return web.json_response({**conv.summary(), "identity": conv.identity, "packet": conv.packet,
                              "note": conv.note, "transcript": transcript,
                              "window": await window(conv.id) if window else None})


async def claim(request: web.Request) -> web.Response:
    agent = await current_agent(request)
    conv = await _conversation(request)
    if not await request.app[STORE].claim(conv.id, agent):
        raise json_error(409, f"conversation is {conv.state}, not waiting in the queue")
    conv = await request.app[STORE].get(conv.id)
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
        raise json_error(400, f"'{name}' must be a non-empty string" if required
                         else f"'{name}' must be a string")
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
    forgotten = await memory.forget_conversation(request.app[REDIS], conv.id)
    for cid in {conv.id, *forgotten.get("conversations", [])}:
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
        raise json_error(400, "'outcome' must be \"done\" or \"no_answer\"")
    if not isinstance(note, str) or len(note) > MAX_NOTE_CHARS:
        raise json_error(400, f"'note' must be a string of at most {MAX_NOTE_CHARS} characters")
    cid = request.match_info["cid"]
    try:
        message = await request.app[CALLBACKS].outcome(cid, agent, outcome, note.strip())
    except LookupError as error:
        raise json_error(404, str(error))
    conv = await request.app[STORE].get(cid)
    if message and conv is not None:
        await request.app[ROUTER].notify(conv, message)
    return web.json_response({"ok": True, "outcome": outcome})


@web.middleware
async def same_origin_posts(request: web.Request, handler):
    """A browser's POST to the agent API must come from the hub's own pages: a cross-site
    form or text/plain POST is refused whatever the cookie (an Origin-less request is
    not a browser's cross-site one)."""
    if (request.method == "POST" and request.path.startswith("/api/agent/")
            and "Origin" in request.headers and not _origin_allowed(request)):
        raise json_error(403, "this origin may not use the agent API")
    return await handler(request)
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


def _origin_allowed(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if not origin:
        return False
    allowed = request.app[SETTINGS].public_origin
    if allowed:
        return origin == allowed
    return urlparse(origin).netloc == request.host


async def live(request: web.Request) -> web.WebSocketResponse:
    agent = await current_agent(request)
    session = session_ref(session_token(request))
    if not _origin_allowed(request):
        raise json_error(403, "this origin may not open the console socket")
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_SECONDS)
    await ws.prepare(request)
    hub, store = request.app[EVENTS], request.app[STORE]
    events = hub.connect()

    async def forward() -> None:
        while True:
            event = await events.get()
            if event.get("type") == "shutdown" or (
                    event.get("type") == "logout" and event.get("session") == session):
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
        raise web.HTTPFound("/agent/login")
    return web.FileResponse(STATIC / "agent.html")


async def login_page(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "login.html")


def add_routes(app: web.Application) -> None:
    app[SCRYPT_SLOTS] = asyncio.Semaphore(SCRYPT_AT_ONCE)
    app.router.add_get("/agent", console_page)
    app.router.add_get("/agent/login", login_page)
    app.router.add_post("/api/agent/login", login)
    app.router.add_post("/api/agent/logout", logout)
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
