"""Passing a conversation on: to a colleague who is online, or back to the queue.

    GET  /api/agent/agents                         the other agents, and who is online
    POST /api/agent/conversations/{id}/transfer    {"to": "<agent>"}: only an online agent
         (else 409); their console is alerted (event "transfer")
    POST /api/agent/conversations/{id}/release     back to the queue at its original place
         (its first queueing time keeps its rank among the same severity)

Either way the customer is told in one line, in their language (data/hub/messages.yml:
agent_transferred, agent_released), without naming anyone, and the transcript keeps a
"system" entry for the agents (never delivered: bot/catchup.py OUTGOING).
"""

import time

from aiohttp import web
from redis.exceptions import WatchError

from bot.appkeys import ROUTER, SETTINGS, STORE, TEXTS
from bot.auth import current_agent
from bot.conversations import queue_score
from bot.http import json_error, read_json
from contract import keys


async def _owned(request: web.Request):
    agent = await current_agent(request)
    conv = await request.app[STORE].get(request.match_info["cid"])
    if conv is None:
        raise json_error(404, "no such conversation")
    if conv.state != "agent" or conv.agent != agent:
        raise json_error(409, "only the agent who has the conversation can pass it on")
    return agent, conv


async def _move(
    redis, cid: str, agent: str, mapping: dict, *, to: str = "", queue_at: float = 0, severity: str = ""
) -> bool:
    """Atomically, and only if `agent` still has it: change owner or re-queue."""
    key = keys.conversation(cid)
    async with redis.pipeline(transaction=True) as pipe:
        await pipe.watch(key)
        state, owner = await pipe.hmget(key, "state", "agent")
        if state != "agent" or owner != agent:
            await pipe.unwatch()
            return False
        pipe.multi()
        pipe.hset(key, mapping={**mapping, "updated_at": time.time()})
        pipe.srem(keys.agent_conversations(agent), cid)
        if to:
            pipe.sadd(keys.agent_conversations(to), cid)
        else:
            pipe.zadd(keys.QUEUE, {cid: queue_score(severity, queue_at)})
        try:
            await pipe.execute()
        except WatchError:  # changed meanwhile (resolved, forgotten...)
            return False
    return True


async def online_agents(request: web.Request) -> web.Response:
    agent = await current_agent(request)
    settings = request.app[SETTINGS]
    online = set(await request.app[STORE].agents_online(settings.agent_online_seconds))
    others = [{"name": name, "online": name in online} for name in sorted(settings.agents) if name != agent]
    return web.json_response({"agents": others})


async def transfer(request: web.Request) -> web.Response:
    agent, conv = await _owned(request)
    body = await read_json(request)
    to = body.get("to")
    settings, store = request.app[SETTINGS], request.app[STORE]
    if not isinstance(to, str) or not to.strip():
        raise json_error(400, "'to' must name an agent")
    if to == agent:
        raise json_error(400, "the conversation is already yours")
    if to not in settings.agents:
        raise json_error(404, "no such agent")
    if to not in await store.agents_online(settings.agent_online_seconds):
        raise json_error(409, f"{to} is not online; pick a colleague who is, or release it to the queue")
    if not await _move(store.redis, conv.id, agent, {"agent": to}, to=to):
        raise json_error(409, "the conversation changed meanwhile; reload it")
    await store.log(
        conv.id, "system", f"transferred by {agent} to {to}", {"transfer": {"from": agent, "to": to}}
    )
    await store.publish({"type": "transfer", "conversation_id": conv.id, "from": agent, "to": to})
    await store.publish({"type": "queue", "conversation_id": conv.id})
    await request.app[ROUTER].notify(conv, request.app[TEXTS].message("agent_transferred", conv.language))
    return web.json_response({"ok": True, "state": "agent", "agent": to})


async def release(request: web.Request) -> web.Response:
    agent, conv = await _owned(request)
    store = request.app[STORE]
    queued_at = conv.queued_at or time.time()  # its first place in the queue, kept
    if not await _move(
        store.redis,
        conv.id,
        agent,
        {"state": "queued", "agent": ""},
        queue_at=queued_at,
        severity=conv.severity,
    ):
        raise json_error(409, "the conversation changed meanwhile; reload it")
    await store.log(conv.id, "system", f"released to the queue by {agent}", {"release": {"from": agent}})
    await store.publish({"type": "queue", "conversation_id": conv.id})
    await request.app[ROUTER].notify(conv, request.app[TEXTS].message("agent_released", conv.language))
    return web.json_response({"ok": True, "state": "queued", "position": await store.position(conv.id)})


def setup(app: web.Application) -> None:
    app.router.add_get("/api/agent/agents", online_agents)
    app.router.add_post("/api/agent/conversations/{cid}/transfer", transfer)
    app.router.add_post("/api/agent/conversations/{cid}/release", release)
