"""The hub's report events about agents (contract/events.py), called from bot/agents.py:
an agent's first reply after a handoff (its wait against the first-response target of
data/hub/console.yml) and a case an agent resolved or handed back."""

import time

from aiohttp import web

from bot.appkeys import LABELS, REDIS
from contract import events, keys


async def agent_replied(app: web.Application, conv) -> None:
    """The first agent reply since the conversation was (last) handed off."""
    redis = app[REDIS]
    now = time.time()
    if not conv.queued_at or not await redis.hsetnx(keys.conversation(conv.id), "first_reply_at", now):
        return
    minutes = app[LABELS].first_response_minutes
    target = 60 * minutes.get(conv.severity, minutes["unknown"])
    wait = max(0.0, now - conv.queued_at)
    await events.record(
        redis,
        "first_reply",
        conv.id,
        at=now,
        wait=round(wait, 1),
        severity=conv.severity or "unknown",
        target=target,
        met=wait <= target,
    )


async def agent_resolved(app: web.Application, conv) -> None:
    packet = conv.packet or {}
    await events.record(
        app[REDIS],
        "resolved",
        conv.id,
        by="agent",
        duration=round(max(0.0, time.time() - (conv.created_at or time.time())), 1),
        complaint_type=packet.get("complaint_type") or "unknown",
        channel=conv.channel,
        language=conv.language,
    )
