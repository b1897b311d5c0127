"""Call-back tasks for agents (the dialogue that books them: aftercare/callback.py).

GET  /api/agent/callbacks         open tasks, soonest window first
POST /api/agent/callbacks/{cid}   {"outcome": "done" | "no_answer", "note"?}
"""

from aiohttp import web

from bot.console.appkeys import CALLBACKS
from bot.console.conversations import MAX_NOTE_CHARS
from bot.web.appkeys import OUTBOX, STORE
from bot.web.http import json_error, read_json


async def callbacks(request: web.Request) -> web.Response:
    return web.json_response({"callbacks": await request.config_dict[CALLBACKS].tasks()})


async def callback_outcome(request: web.Request) -> web.Response:
    body = await read_json(request)
    outcome, note = body.get("outcome"), body.get("note", "")
    if outcome not in ("done", "no_answer"):
        raise json_error(400, '\'outcome\' must be "done" or "no_answer"')
    if not isinstance(note, str) or len(note) > MAX_NOTE_CHARS:
        raise json_error(400, f"'note' must be a string of at most {MAX_NOTE_CHARS} characters")
    cid = request.match_info["cid"]
    try:
        message = await request.config_dict[CALLBACKS].outcome(cid, request["agent"], outcome, note.strip())
    except LookupError as error:
        raise json_error(404, str(error)) from None
    conv = await request.config_dict[STORE].get(cid)
    if message and conv is not None:
        await request.config_dict[OUTBOX].notify(conv, message, follow_up=True)
    return web.json_response({"ok": True, "outcome": outcome})
