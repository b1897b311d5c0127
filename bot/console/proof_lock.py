"""The proof lock on an order, for agents: see it beside the conversation, and lift it.

After MAX_PROOF_FAILURES wrong emails or phones for one order within a day, the
assistant checks nothing more against that order, not even the right one
(actions/details_form.py), and a person helps instead. An agent who has made sure who
the customer is some other way (a call, the shop's own records) lifts the lock, so the
customer can prove the order in the chat again: the order's count and this
conversation's own (contract/identity.py MAX_PROOF_FAILURES_PER_SENDER) start afresh.

    POST /api/agent/conversations/{id}/proof-lock/lift
        lifts the lock on the order the conversation is about (404 when there is
        none); who lifted it goes into the transcript, as the call-backs do
"""

from typing import Any, Dict, Optional

from aiohttp import web

from bot.console.conversations import conversation_of
from bot.core.conversation import Conversation
from bot.web.appkeys import REDIS, STORE
from bot.web.http import json_error
from contract import keys
from contract.identity import MAX_PROOF_FAILURES


def order_of(conv: Conversation) -> Optional[str]:
    """The order the conversation is about: looked up, or only named (claimed)."""
    packet = conv.handoff()
    if packet is None:
        return None
    order = packet.order or packet.claimed_order or {}
    found = order.get("order_id") or packet.details.get("order_id")
    return str(found) if found and str(found).isdigit() else None


async def lock_on(redis, order_id: Optional[str]) -> Optional[Dict[str, Any]]:
    """The order's lock, if the wrong answers reached the limit: how many, and for how long."""
    if not order_id:
        return None
    key = keys.order_proof_failures(order_id)
    failures = int(await redis.get(key) or 0)
    if failures < MAX_PROOF_FAILURES:
        return None
    return {"order_id": order_id, "failures": failures, "expires_in": max(await redis.ttl(key), 0)}


async def lift(request: web.Request) -> web.Response:
    agent = request["agent"]
    store, redis = request.config_dict[STORE], request.config_dict[REDIS]
    conv = await conversation_of(request)
    lock = await lock_on(redis, order_of(conv))
    if lock is None:
        raise json_error(404, "the order of this conversation is not locked")
    await redis.delete(keys.order_proof_failures(lock["order_id"]), keys.sender_proof_failures(conv.id))
    await store.log(
        conv.id,
        "system",
        f"proof lock on order {lock['order_id']} lifted by {agent} ({lock['failures']} wrong answers)",
    )
    return web.json_response({"ok": True, "lifted": lock})
