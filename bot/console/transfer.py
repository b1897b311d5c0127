"""Passing a conversation on: to a colleague who is online, or back to the queue (at its
first place: its first queueing time keeps its rank among the same severity).

Either way the customer is told in one line, in their language (data/hub/messages.yml:
agent_transferred, agent_released), without naming anyone, and the transcript keeps a
"system" entry for the agents (never delivered: core/outgoing.py OUTGOING). The state
change itself is the conversation store's (core/conversations.py transfer, release).
"""

from aiohttp import web

from bot.console.conversations import owned
from bot.core.conversation import State
from bot.web.appkeys import OUTBOX, SETTINGS, STORE
from bot.web.http import json_error, read_json

NOT_YOURS = "only the agent who has the conversation can pass it on"
CHANGED = "the conversation changed meanwhile; reload it"


async def online_agents(request: web.Request) -> web.Response:
    """The other agents, and who is online (to transfer to)."""
    settings = request.config_dict[SETTINGS]
    online = set(await request.config_dict[STORE].agents_online(settings.agent_online_seconds))
    others = [
        {"name": name, "online": name in online}
        for name in sorted(settings.agents)
        if name != request["agent"]
    ]
    return web.json_response({"agents": others})


async def transfer(request: web.Request) -> web.Response:
    agent, conv = await owned(request, NOT_YOURS)
    body = await read_json(request)
    to = body.get("to")
    settings, store = request.config_dict[SETTINGS], request.config_dict[STORE]
    if not isinstance(to, str) or not to.strip():
        raise json_error(400, "'to' must name an agent")
    if to == agent:
        raise json_error(400, "the conversation is already yours")
    if to not in settings.agents:
        raise json_error(404, "no such agent")
    if to not in await store.agents_online(settings.agent_online_seconds):
        raise json_error(409, f"{to} is not online; pick a colleague who is, or release it to the queue")
    if not await store.transfer(conv, agent, to):
        raise json_error(409, CHANGED)
    await store.log(
        conv.id, "system", f"transferred by {agent} to {to}", {"transfer": {"from": agent, "to": to}}
    )
    await store.publish({"type": "transfer", "conversation_id": conv.id, "from": agent, "to": to})
    await request.config_dict[OUTBOX].notice(conv, "agent_transferred")
    return web.json_response({"ok": True, "state": State.AGENT.value, "agent": to})


async def release(request: web.Request) -> web.Response:
    agent, conv = await owned(request, NOT_YOURS)
    store = request.config_dict[STORE]
    if not await store.release(conv, agent):
        raise json_error(409, CHANGED)
    await store.log(conv.id, "system", f"released to the queue by {agent}", {"release": {"from": agent}})
    await request.config_dict[OUTBOX].notice(conv, "agent_released")
    return web.json_response(
        {"ok": True, "state": State.QUEUED.value, "position": await store.position(conv.id)}
    )
