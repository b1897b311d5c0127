"""Links that reopen a widget conversation, e.g. from a follow-up email.

The link carries a resume token, not a session id: it is signed for this one purpose (a
token is never accepted as a session id, nor the reverse), expires after RESUME_DAYS,
and works once (keys.resume_used, under the token's hash). The shop page trades it for
a session id (POST /api/widget/resume) and removes it from the address bar.

Redeeming it rotates the conversation's session (bot/core/sessions.py): every other id
of the conversation is revoked and its sockets closed, and its proof of who the customer
is ends, so whoever opens the link proves the order again before anything of it is
shown. A browser that already holds another conversation is never moved silently: the
page sends its own session id, and the hub answers 409 {"ask": true} without using the
link; only when the customer chooses to open it ("replace": true) is the link used, and
the page's own conversation ends in that browser. So a link someone else sent cannot
quietly put a customer into their conversation.

    POST /api/widget/resume {"token", "session_id"?, "replace"?} -> {"session_id"}
         400: not valid (forged, expired, used); 409 {"ask": true}: another conversation here
"""

import hashlib
import secrets
import time
from typing import Any, Optional
from urllib.parse import urlencode

from aiohttp import web

from bot.web.appkeys import REDIS, SECRET, SESSIONS
from bot.web.http import json_error, read_json
from bot.web.signing import sign, unsign
from contract import keys, memory

RESUME_DAYS = 14


def _secret(secret: str) -> str:
    return secret + ":resume"


def resume_token(cid: str, secret: str, now: Optional[float] = None) -> str:
    expires = int((now or time.time()) + RESUME_DAYS * 86400)
    return sign(f"{cid}:{secrets.token_hex(6)}:{expires}", _secret(secret))


def resume_link(shop_url: str, cid: str, secret: str) -> str:
    separator = "&" if "?" in shop_url else "?"
    return f"{shop_url}{separator}{urlencode({'resume': resume_token(cid, secret)})}"


def conversation_of(token: Any, secret: str, now: Optional[float] = None) -> Optional[str]:
    """The conversation a resume token opens, or None (forged, or expired)."""
    value = unsign(token, _secret(secret)) if isinstance(token, str) else None
    named, _, expires = (value or "").rpartition(":")
    cid = named.partition(":")[0]  # "cid:nonce" (a link made before the nonce: "cid")
    if not cid or not expires.isdigit() or int(expires) < (now or time.time()):
        return None
    return cid


async def resume(request: web.Request) -> web.Response:
    body = await read_json(request)
    redis, sessions = request.app[REDIS], request.app[SESSIONS]
    token = body.get("token")
    cid = conversation_of(token, request.app[SECRET])
    if cid is None:
        raise json_error(400, "this link is not valid any more; please start a new chat")
    own = body.get("session_id")
    current = await sessions.conversation_of(own) if own else None
    if current is not None and current != cid and body.get("replace") is not True:
        # The link is not used: the customer chooses (bot/static/shop.js).
        return web.json_response(
            {"ask": True, "error": "this browser has another conversation open"}, status=409
        )
    used = keys.resume_used(hashlib.sha256(str(token).encode()).hexdigest()[:32])
    if not await redis.set(used, 1, nx=True, ex=RESUME_DAYS * 86400 + 86400):
        raise json_error(400, "this link was used already; please start a new chat")
    if current is not None and current != cid:
        await sessions.revoke(own)  # the conversation this browser had ends here
    await memory.end_proof(redis, cid)
    new_id, ended = await sessions.replace(cid)
    await sessions.end(cid, ended)
    return web.json_response({"session_id": new_id})
