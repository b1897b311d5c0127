"""Links that reopen a widget conversation, e.g. from a follow-up email.

The link carries a resume token, not the widget session id: it is signed for this one
purpose (a token is never accepted as a session id, nor the reverse) and expires after
RESUME_DAYS. The shop page trades it for the session id (POST /api/widget/resume) and
removes it from the address bar.
"""

import time
from typing import Any, Optional
from urllib.parse import urlencode

from aiohttp import web

from bot.web.appkeys import SECRET
from bot.web.http import json_error, read_json
from bot.web.signing import sign, unsign

RESUME_DAYS = 14


def _secret(secret: str) -> str:
    return secret + ":resume"


def resume_token(cid: str, secret: str, now: Optional[float] = None) -> str:
    expires = int((now or time.time()) + RESUME_DAYS * 86400)
    return sign(f"{cid}:{expires}", _secret(secret))


def resume_link(shop_url: str, cid: str, secret: str) -> str:
    separator = "&" if "?" in shop_url else "?"
    return f"{shop_url}{separator}{urlencode({'resume': resume_token(cid, secret)})}"


def conversation_of(token: Any, secret: str, now: Optional[float] = None) -> Optional[str]:
    """The conversation a resume token opens, or None (forged, or expired)."""
    value = unsign(token, _secret(secret)) if isinstance(token, str) else None
    cid, _, expires = (value or "").rpartition(":")
    if not cid or not expires.isdigit() or int(expires) < (now or time.time()):
        return None
    return cid


async def resume(request: web.Request) -> web.Response:
    body = await read_json(request)
    secret = request.app[SECRET]
    cid = conversation_of(body.get("token"), secret)
    if cid is None:
        raise json_error(400, "this link is not valid any more; please start a new chat")
    return web.json_response({"session_id": sign(cid, secret)})
