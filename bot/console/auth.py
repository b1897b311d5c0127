"""Agent sign-in: login and logout, the signed session cookie, and where the agent API
may be called from. Sessions live in Redis (keys.agent_session), so every hub process
knows them; the cookie holds only the signed session token.

Login, logout and the sign-in page are the console's only public routes; every other
one is behind require_agent (web/middlewares.py), which asks `current_agent`.
"""

import asyncio
import hashlib
import secrets
from typing import Optional
from urllib.parse import urlparse

from aiohttp import web

from bot.console.passwords import check_password
from bot.core import limits
from bot.paths import STATIC
from bot.web.appkeys import REDIS, SECRET, SETTINGS, STORE
from bot.web.http import json_error, read_json
from bot.web.middlewares import public
from bot.web.signing import sign, unsign
from contract import keys

COOKIE = "sr_agent"
SCRYPT_AT_ONCE = 2  # password checks at once, per hub process
SCRYPT_SLOTS = web.AppKey("scrypt_slots", asyncio.Semaphore)


def session_token(request: web.Request) -> Optional[str]:
    return unsign(request.cookies.get(COOKIE, ""), request.config_dict[SECRET])


def session_ref(token: str) -> str:
    """What events may say about a session: never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


async def current_agent(request: web.Request) -> str:
    token = session_token(request)
    name = await request.config_dict[REDIS].get(keys.agent_session(token)) if token else None
    # Re-checked on every request: an agent removed from HUB_AGENTS is out at once.
    if not name or name not in request.config_dict[SETTINGS].agents:
        raise json_error(401, "log in as an agent first")
    return name


def too_many(retry_after: int) -> web.HTTPException:
    error = json_error(429, f"too many sign-in attempts; try again in {retry_after} s")
    error.headers["Retry-After"] = str(retry_after)
    return error


@public
async def login(request: web.Request) -> web.Response:
    body = await read_json(request)
    name, password = body.get("name"), body.get("password")
    redis = request.config_dict[REDIS]
    # Failed attempts are throttled per address and per name, in Redis so the limits
    # hold across hub processes.
    address = request.remote or "?"
    wait = await limits.over(redis, limits.LOGIN_FAILURES_PER_IP, address)
    if wait is None and isinstance(name, str):
        wait = await limits.over(redis, limits.LOGIN_FAILURES_PER_NAME, name)
    if wait is not None:
        raise too_many(wait)
    hashed = request.config_dict[SETTINGS].agents.get(name) if isinstance(name, str) else None
    # Check a password even for unknown names, so timing does not reveal which exist.
    # scrypt is deliberately slow and memory-hungry: off the event loop, a few at a time.
    async with request.config_dict[SCRYPT_SLOTS]:
        valid = await asyncio.get_running_loop().run_in_executor(
            None,
            check_password,
            password if isinstance(password, str) else "",
            hashed or next(iter(request.config_dict[SETTINGS].agents.values()), "x$"),
        )
    if not hashed or not valid:
        await limits.hit(redis, limits.LOGIN_FAILURES_PER_IP, address)
        if isinstance(name, str):
            await limits.hit(redis, limits.LOGIN_FAILURES_PER_NAME, name)
        raise json_error(401, "wrong name or password")
    token = secrets.token_urlsafe(24)
    await request.config_dict[REDIS].set(keys.agent_session(token), name, ex=keys.AGENT_SESSION_TTL)
    response = web.json_response({"agent": name})
    secure = (request.config_dict[SETTINGS].public_origin or "").startswith("https://")
    response.set_cookie(
        COOKIE,
        sign(token, request.config_dict[SECRET]),
        httponly=True,
        secure=secure,
        samesite="Strict",
        max_age=keys.AGENT_SESSION_TTL,
        path="/",
    )
    return response


@public
async def logout(request: web.Request) -> web.Response:
    token = session_token(request)
    if token:
        await request.config_dict[REDIS].delete(keys.agent_session(token))
        # That session's console sockets close, on whichever hub process they are.
        await request.config_dict[STORE].publish({"type": "logout", "session": session_ref(token)})
    response = web.json_response({"ok": True})
    response.del_cookie(COOKIE, path="/")
    return response


def origin_allowed(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if not origin:
        return False
    allowed = request.config_dict[SETTINGS].public_origin
    if allowed:
        return origin == allowed
    return urlparse(origin).netloc == request.host


@public
async def login_page(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "login.html")
