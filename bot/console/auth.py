"""Agent sign-in: login and logout, the signed session cookie, and where the agent API
may be called from. Sessions live in Redis (keys.agent_session), so every hub process
knows them; the cookie holds only the signed session token.

Login, logout and the sign-in page are the console's only public routes; every other
one is behind require_agent (web/middlewares.py), which asks `current_agent`.

Sign-in attempts are counted before the password is checked (reserve, then check:
core/limits.py reserve), per name and address and per address, so a burst of guesses
gets no more password checks than the limit, and failures from one address never lock
the agent out at another; a sign-in that succeeds gives its count back. Password checks
(scrypt, slow on purpose) run a few at a time per process, and at most SCRYPT_QUEUE wait:
past that, 429 at once. Sign-ins, failures and lock-outs are logged with the agent's
name (a name that is no agent's is logged as unknown: it may be a mistyped password)
and the address; never a password or token.
"""

import asyncio
import hashlib
import logging
import secrets
from typing import Any, Optional
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

log = logging.getLogger(__name__)
COOKIE = "sr_agent"
SCRYPT_AT_ONCE = 2  # password checks at once, per hub process
SCRYPT_QUEUE = 8  # password checks waiting, per hub process; past it 429 at once


class PasswordChecks:
    """scrypt off the event loop, SCRYPT_AT_ONCE at a time, with a bounded queue."""

    def __init__(self, at_once: int = SCRYPT_AT_ONCE, queue: int = SCRYPT_QUEUE) -> None:
        self.slots = asyncio.Semaphore(at_once)
        self.most = at_once + queue
        self.pending = 0  # running or waiting

    def full(self) -> bool:
        return self.pending >= self.most

    async def check(self, password: str, hashed: str) -> bool:
        self.pending += 1
        try:
            async with self.slots:
                return await asyncio.get_running_loop().run_in_executor(
                    None, check_password, password, hashed
                )
        finally:
            self.pending -= 1


PASSWORD_CHECKS = web.AppKey("password_checks", PasswordChecks)


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


def logged_name(name: Any, agents: dict) -> str:
    """An agent's name as the log may show it: a name that is nobody's may be a
    password typed in the wrong field, so it is never written."""
    return repr(name) if isinstance(name, str) and name in agents else "(a name that is no agent's)"


@public
async def login(request: web.Request) -> web.Response:
    body = await read_json(request)
    name, password = body.get("name"), body.get("password")
    redis = request.config_dict[REDIS]
    agents = request.config_dict[SETTINGS].agents
    address = request.remote or "?"
    who = logged_name(name, agents)
    # Reserve, then check: the attempt is counted before any password check, per name
    # and address and per address (in Redis: every hub process sees the same counts).
    reserved = await limits.reserve(
        redis,
        [
            (
                limits.LOGIN_FAILURES_PER_NAME_AND_ADDRESS,
                f"{name if isinstance(name, str) else ''}\n{address}",
            ),
            (limits.LOGIN_FAILURES_PER_IP, address),
        ],
    )
    if reserved.wait is not None:
        for limit in reserved.newly_over:
            log.warning("sign-in locked for %s from %s for %d s (%s)", who, address, reserved.wait, limit)
        raise too_many(reserved.wait)
    checks = request.config_dict[PASSWORD_CHECKS]
    if checks.full():
        await limits.release(redis, reserved)  # not this attempt's fault: not counted
        log.warning("sign-in refused for %s from %s: too many password checks waiting", who, address)
        raise too_many(1)
    hashed = agents.get(name) if isinstance(name, str) else None
    # Check a password even for unknown names, so timing does not reveal which exist.
    valid = await checks.check(
        password if isinstance(password, str) else "", hashed or next(iter(agents.values()), "x$")
    )
    if not hashed or not valid:
        log.warning("failed sign-in for %s from %s", who, address)
        raise json_error(401, "wrong name or password")
    await limits.release(redis, reserved)  # only failures count
    log.info("agent %s signed in from %s", who, address)
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
        pipe = request.config_dict[REDIS].pipeline(transaction=True)
        pipe.get(keys.agent_session(token))
        pipe.delete(keys.agent_session(token))
        name, _ = await pipe.execute()
        if name:
            log.info("agent %r signed out", name)
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
