"""POST /webhooks/rest/webhook: server-to-server chat, the same request and response
shape as Rasa's REST channel, but routed through the hub so it obeys handoff.

Request: {"sender": "...", "message": "...", "metadata": {...}}. Response: a list of
{"recipient_id", "text"?, "buttons"?, "image"?}. Malformed requests get a 4xx with a
JSON error and nothing is stored. REST cannot be pushed to: replies an agent sends
later are kept in the transcript, and the caller fetches them:

GET /webhooks/rest/messages?sender=...&after=<id>: {"messages": [{"recipient_id", "id",
"text"?, "buttons"?, "image"?, "agent"?}]}, every message to that sender after message
id `after` (all of them without it), oldest first. Pass the last id received as `after`
next time.

With HUB_REST_TOKEN set, callers of both must send `Authorization: Bearer <token>` (401
otherwise); with HUB_PUBLIC_ORIGIN set and no token, the channel is closed (401). Past a
limit (bot/core/limits.py) the answer is the polite "one moment" (with `Retry-After`) and
nothing is stored: the caller sends the message again later. A sender is a guest unless the metadata carries the shop's signed identity
(`{"shop_identity": {...}}`, as in the widget's customData).
"""

import re
from typing import Any, Dict, List, Optional

from aiohttp import web

from bot.channels.identity import channel_identity, signed_customer
from bot.core.channel import Inbound, Message, Refused
from bot.core.outgoing import outgoing_after, valid_id
from bot.core.windows import Window
from bot.web.appkeys import REDIS, SETTINGS, SHOP_SECRET, TURN
from bot.web.http import json_error, read_json, same_secret

CHANNEL = "rest"
# Both go into Redis key names: a small alphabet without ':' (the keys' separator), so
# one sender can never name another's keys ("X:log" would be X's transcript).
SENDER_RE = re.compile(r"^[A-Za-z0-9_.@+-]{1,128}$")
MESSAGE_ID_RE = re.compile(r"^[A-Za-z0-9_.@+=-]{1,128}$")
SENDER_RULE = "'sender' must be 1-128 letters, digits or _.@+-"


def authorised(request: web.Request) -> bool:
    settings = request.app[SETTINGS]
    token = settings.rest_token
    if settings.rest_closed:  # a public hub never has an open REST channel
        return False
    if not token:
        return True
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and same_secret(given.strip(), token)


def require_token(request: web.Request) -> None:
    if not authorised(request):
        closed = request.app[SETTINGS].rest_closed
        raise web.HTTPUnauthorized(
            text='{"error": "the REST channel is closed: this hub has a public origin and no HUB_REST_TOKEN"}'
            if closed
            else '{"error": "send the REST token as Authorization: Bearer <token>"}',
            content_type="application/json",
            headers={"WWW-Authenticate": "Bearer"},
        )


async def webhook(request: web.Request) -> web.Response:
    require_token(request)
    body = await read_json(request)
    sender, message = body.get("sender"), body.get("message")
    metadata = body.get("metadata") or {}
    if not isinstance(sender, str) or not SENDER_RE.match(sender):
        raise json_error(400, SENDER_RULE)
    if not isinstance(message, str) or not message.strip():
        raise json_error(400, "'message' must be a non-empty string")
    if not isinstance(metadata, dict):
        raise json_error(400, "'metadata' must be an object")
    limit = request.app[SETTINGS].max_message_chars
    if len(message) > limit:
        raise json_error(413, f"'message' is longer than {limit} characters")
    message_id = metadata.get("message_id", "")
    if message_id != "" and not (isinstance(message_id, str) and MESSAGE_ID_RE.match(message_id)):
        raise json_error(400, "'metadata.message_id' must be 1-128 letters, digits or _.@+=-")
    inbound = Inbound(
        channel=CHANNEL,
        conversation_id=f"rest-{sender}",
        text=message.strip(),
        identity=channel_identity(sender, shop_customer=signed_customer(metadata, request.app[SHOP_SECRET])),
        message_id=message_id,
        page_language=str(metadata.get("page_language") or ""),
    )
    try:
        replies = await request.app[TURN].handle(inbound)
    except Refused as refused:  # nothing stored: the caller sends it again later
        headers = {"Retry-After": str(max(1, round(refused.wait)))} if refused.wait else {}
        return web.json_response([{"recipient_id": sender, **refused.reply}], headers=headers)
    return web.json_response([{"recipient_id": sender, **reply} for reply in replies])


async def missed(request: web.Request) -> web.Response:
    require_token(request)
    sender, after = request.query.get("sender"), request.query.get("after", "0-0")
    if not isinstance(sender, str) or not SENDER_RE.match(sender):
        raise json_error(400, SENDER_RULE)
    if not valid_id(after):
        raise json_error(400, "'after' must be a message id such as 1732334400123-0")
    messages = await outgoing_after(request.app[REDIS], f"rest-{sender}", after)
    return web.json_response({"messages": [{"recipient_id": sender, **m} for m in messages]})


class RestChannel:
    """Nothing to push to: the caller hears replies within its own request, and fetches
    the later ones (GET /webhooks/rest/messages) from the transcript."""

    async def push(self, conversation_id: str, messages: List[Message], sender: str = "bot") -> None:
        return None

    async def allows(self, conversation_id: str, sender: str) -> bool:
        return True  # kept in the transcript for the caller to fetch

    async def window(self, conversation_id: str) -> Optional[Window]:
        return None

    def describe(self) -> Dict[str, Any]:
        return {
            "name": CHANNEL,
            "delivery": "in the response; later ones fetched from the transcript",
            "time_rule": None,
        }
