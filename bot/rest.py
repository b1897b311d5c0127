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
"""

import re

from aiohttp import web

from bot.agents import json_error, read_json
from bot.appkeys import REDIS, ROUTER, SETTINGS
from bot.catchup import outgoing_after, valid_id
from bot.router import Inbound

CHANNEL = "rest"
SENDER_RE = re.compile(r"^[A-Za-z0-9_.:@+-]{1,128}$")


async def webhook(request: web.Request) -> web.Response:
    body = await read_json(request)
    sender, message = body.get("sender"), body.get("message")
    metadata = body.get("metadata") or {}
    if not isinstance(sender, str) or not SENDER_RE.match(sender):
        raise json_error(400, "'sender' must be 1-128 letters, digits or _.:@+-")
    if not isinstance(message, str) or not message.strip():
        raise json_error(400, "'message' must be a non-empty string")
    if not isinstance(metadata, dict):
        raise json_error(400, "'metadata' must be an object")
    limit = request.app[SETTINGS].max_message_chars
    if len(message) > limit:
        raise json_error(413, f"'message' is longer than {limit} characters")
    message_id = metadata.get("message_id")
    replies = await request.app[ROUTER].handle(Inbound(
        channel=CHANNEL, conversation_id=f"rest-{sender}", text=message.strip(),
        identity={"rest_sender": sender},
        message_id=message_id if isinstance(message_id, str) and message_id else ""))
    return web.json_response([{"recipient_id": sender, **reply} for reply in replies])


async def missed(request: web.Request) -> web.Response:
    sender, after = request.query.get("sender"), request.query.get("after", "0-0")
    if not isinstance(sender, str) or not SENDER_RE.match(sender):
        raise json_error(400, "'sender' must be 1-128 letters, digits or _.:@+-")
    if not valid_id(after):
        raise json_error(400, "'after' must be a message id such as 1732334400123-0")
    messages = await outgoing_after(request.app[REDIS], f"rest-{sender}", after)
    return web.json_response({"messages": [{"recipient_id": sender, **m} for m in messages]})


class RestChannel:
    """Nothing to push to: the caller only hears replies within its own request."""

    async def push(self, conversation_id, messages, sender="bot") -> None:
        return None


def add_routes(app: web.Application) -> None:
    app.router.add_post("/webhooks/rest/webhook", webhook)
    app.router.add_get("/webhooks/rest/messages", missed)
