"""HTTP helpers every route uses: JSON errors, and JSON bodies parsed in one place.

A body is accepted only as `application/json` (415 otherwise) in strict UTF-8, at most
the app's client_max_size (aiohttp answers 413 beyond it), nested at most MAX_DEPTH deep,
with no lone surrogates in its strings (Redis and the transcript need real UTF-8), and an
object at the top. Anything else is a 400 with {"error": ...}: never a 500.
"""

import hmac
import json
from typing import Any, Dict

from aiohttp import web

MAX_DEPTH = 32

_STATUS = {
    400: web.HTTPBadRequest,
    401: web.HTTPUnauthorized,
    403: web.HTTPForbidden,
    404: web.HTTPNotFound,
    409: web.HTTPConflict,
    413: web.HTTPRequestEntityTooLarge,
    415: web.HTTPUnsupportedMediaType,
    429: web.HTTPTooManyRequests,
    502: web.HTTPBadGateway,
}


def json_error(status: int, message: str) -> web.HTTPException:
    cls = _STATUS[status]
    body = json.dumps({"error": message})
    if status == 413:
        return cls(max_size=0, actual_size=0, text=body, content_type="application/json")
    return cls(text=body, content_type="application/json")


def same_secret(given: str, expected: str) -> bool:
    """Constant-time comparison of two secrets, as bytes: hmac.compare_digest refuses
    non-ASCII str, and a header, cookie or query may hold anything."""
    return hmac.compare_digest(
        given.encode("utf-8", "surrogateescape"), expected.encode("utf-8", "surrogateescape")
    )


def _too_deep(text: str) -> bool:
    """True if arrays/objects nest deeper than MAX_DEPTH (json.loads would recurse)."""
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif char in "]}":
            depth -= 1
    return False


def _has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


def parse_json_object(body: bytes) -> Dict[str, Any]:
    """The JSON object in `body`, or a 400 saying what is wrong with it."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise json_error(400, "the body must be UTF-8") from None
    if _too_deep(text):
        raise json_error(400, f"the body nests deeper than {MAX_DEPTH} levels")
    try:
        value = json.loads(text)
    except ValueError:
        raise json_error(400, "the body must be a JSON object") from None
    if not isinstance(value, dict):
        raise json_error(400, "the body must be a JSON object")
    if _has_lone_surrogate(value):
        raise json_error(400, "the body holds text that is not valid Unicode")
    return value


async def read_json(request: web.Request) -> Dict[str, Any]:
    if request.content_type != "application/json":
        raise json_error(415, "send the body as Content-Type: application/json")
    if request.charset and request.charset.lower().replace("-", "") != "utf8":
        raise json_error(415, "the body must be UTF-8 (charset=utf-8)")
    return parse_json_object(await request.read())
