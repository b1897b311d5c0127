"""The agents' work on conversations: the queue, one conversation with its context, and
what an agent does with it (claim, reply, resolve, hand back, forget, notes).

Every route here is behind require_agent (console/routes.py): `request["agent"]` is the
signed-in agent. State changes go through the conversation store (core/conversations.py)
and what the customer hears through the outbox (core/outbox.py). docs/api.md lists the
routes and their answers.
"""

from typing import Tuple

from aiohttp import web

from bot.core.conversation import Conversation, State
from bot.web.appkeys import OUTBOX, REDIS, SETTINGS, STORE
from bot.web.http import json_error, read_json
from contract import memory

MAX_NOTE_CHARS = 2000


async def conversation_of(request: web.Request) -> Conversation:
    """The conversation the route names ({cid}), or 404."""
    conv = await request.config_dict[STORE].get(request.match_info["cid"])
    if conv is None:
        raise json_error(404, "no such conversation")
    return conv


async def owned(
    request: web.Request, refusal: str = "claim the conversation first"
) -> Tuple[str, Conversation]:
    """The signed-in agent and the conversation they have, or 409 with `refusal`."""
    agent = request["agent"]
    conv = await conversation_of(request)
    if not conv.owned_by(agent):
        raise json_error(409, refusal)
    return agent, conv


async def text_field(request: web.Request, name: str, required: bool) -> str:
    """A text from the JSON body: the reply (at most MAX_MESSAGE_CHARS) or a note."""
    body = await read_json(request)
    value = body.get(name, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise json_error(
            400, f"'{name}' must be a non-empty string" if required else f"'{name}' must be a string"
        )
    limit = request.config_dict[SETTINGS].max_message_chars if name == "text" else MAX_NOTE_CHARS
    if len(value) > limit:
        raise json_error(413, f"'{name}' is longer than {limit} characters")
    return value.strip()


async def queue(request: web.Request) -> web.Response:
    agent = request["agent"]
    store = request.config_dict[STORE]
    waiting = [c.summary() for c in await store.queue()]
    mine = [c.summary() for c in await store.owned_by(agent)]
    return web.json_response({"agent": agent, "queue": waiting, "mine": mine})


async def conversation(request: web.Request) -> web.Response:
    conv = await conversation_of(request)
    transcript = await request.config_dict[STORE].transcript(conv.id)
    window = await request.config_dict[OUTBOX].window(conv)
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
            "window": window.as_dict() if window is not None else None,
        }
    )


async def claim(request: web.Request) -> web.Response:
    agent = request["agent"]
    conv = await conversation_of(request)
    if not await request.config_dict[STORE].claim(conv.id, agent):
        raise json_error(409, f"conversation is {conv.state.value}, not waiting in the queue")
    conv = await conversation_of(request)  # as it is now: the agent's
    await request.config_dict[OUTBOX].agent_joined(conv, agent)
    return web.json_response(conv.summary())


async def send_message(request: web.Request) -> web.Response:
    agent, conv = await owned(request)
    text = await text_field(request, "text", required=True)
    # Outside the channel's window it goes by email or becomes a task ("delivered" says
    # which); a channel refusing with nowhere else to go is a 409 (web/middlewares.py).
    went = await request.config_dict[OUTBOX].agent_reply(conv, agent, text)
    return web.json_response({"ok": True, "delivered": went})


async def resolve(request: web.Request) -> web.Response:
    agent, conv = await owned(request)
    note = await text_field(request, "note", required=False)
    if not await request.config_dict[OUTBOX].resolve(conv, agent, note):
        raise json_error(409, "the conversation changed meanwhile; reload it")
    return web.json_response({"ok": True, "state": State.CLOSED.value})


async def hand_back(request: web.Request) -> web.Response:
    agent, conv = await owned(request)
    note = await text_field(request, "note", required=False)
    # Rasa away: 502, the agent keeps it (web/middlewares.py).
    if not await request.config_dict[OUTBOX].hand_back(conv, agent, note):
        raise json_error(409, "the conversation changed meanwhile; reload it")
    return web.json_response({"ok": True, "state": State.BOT.value})


async def forget(request: web.Request) -> web.Response:
    """Forget the customer behind a conversation (the assistant's memory of them, or
    only this conversation's guest record), then the hub's copy of every conversation
    of theirs: state and transcript."""
    conv = await conversation_of(request)
    forgotten = await memory.forget_customer_of(request.config_dict[REDIS], conv.id)
    others = forgotten.get("conversations")
    for cid in {conv.id, *(others if isinstance(others, list) else [])}:
        await request.config_dict[STORE].forget(cid)
    return web.json_response({"ok": True, "forgotten": forgotten})


async def add_note(request: web.Request) -> web.Response:
    """An internal note: written to the transcript from "note" with the agent's name.
    Nothing delivers "note" entries (core/outgoing.py OUTGOING, aftercare/followup.py,
    and the channels only get what the outbox pushes), so the customer never sees it."""
    agent = request["agent"]
    conv = await conversation_of(request)
    text = await text_field(request, "text", required=True)
    entry = await request.config_dict[STORE].log(conv.id, "note", text, {"agent": agent})
    return web.json_response({"ok": True, "note": {**entry, "data": {"agent": agent}}})
