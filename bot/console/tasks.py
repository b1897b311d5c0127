"""Fulfilment tasks for agents: the remedies the team carries out (contract/tasks.py;
what the customer is then told: aftercare/promises.py).

GET  /api/agent/tasks                 open tasks, the soonest due first, and those
                                      closed in the last day
POST /api/agent/tasks/{id}/claim      take an open task on
POST /api/agent/tasks/{id}/close      {"outcome": "done" | "failed", "note"} by the agent
                                      who claimed it; a failure needs a note
"""

from aiohttp import web

from bot.console.appkeys import PROMISES
from bot.console.conversations import MAX_NOTE_CHARS
from bot.web.http import json_error, read_json
from contract.tasks import OUTCOMES, TaskConflict


async def task_list(request: web.Request) -> web.Response:
    return web.json_response(await request.config_dict[PROMISES].listed())


async def claim(request: web.Request) -> web.Response:
    try:
        task = await request.config_dict[PROMISES].claim(request.match_info["id"], request["agent"])
    except LookupError as error:
        raise json_error(404, str(error)) from None
    except TaskConflict as error:
        raise json_error(409, str(error)) from None
    return web.json_response({"ok": True, "task": task.dict()})


async def close(request: web.Request) -> web.Response:
    body = await read_json(request)
    outcome, note = body.get("outcome"), body.get("note", "")
    if outcome not in OUTCOMES:
        raise json_error(400, '\'outcome\' must be "done" or "failed"')
    if not isinstance(note, str) or len(note) > MAX_NOTE_CHARS:
        raise json_error(400, f"'note' must be a string of at most {MAX_NOTE_CHARS} characters")
    if outcome == "failed" and not note.strip():
        raise json_error(400, "say what went wrong: a failed task needs a 'note'")
    try:
        task = await request.config_dict[PROMISES].close(
            request.match_info["id"], request["agent"], outcome, note.strip()
        )
    except LookupError as error:
        raise json_error(404, str(error)) from None
    except TaskConflict as error:
        raise json_error(409, str(error)) from None
    return web.json_response({"ok": True, "task": task.dict(), "told": task.told})
