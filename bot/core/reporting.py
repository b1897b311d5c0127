"""The hub's report events (contract/events.py), recorded by the conversation store at
the moment a conversation's state changes (as Chatwoot's reporting listener does), never
by an HTTP handler: a conversation started, handed off, an agent's first reply after a
handoff (its wait against the first-response target of data/hub/console.yml), a
request for a person the customer took back while queued, and a case an agent resolved
or handed back. The action server records the rest."""

import time
from typing import Mapping

from bot.core.conversation import Conversation
from contract import events


class Reporting:
    def __init__(self, redis, first_response_minutes: Mapping[str, float]) -> None:
        self.redis = redis
        self.first_response_minutes = first_response_minutes

    async def started(self, conv: Conversation, at: float) -> None:
        await events.record(
            self.redis, "started", conv.id, at=at, channel=conv.channel, language=conv.language
        )

    async def handed_off(self, conv: Conversation, at: float) -> None:
        packet = conv.packet or {}
        await events.record(
            self.redis,
            "handoff",
            conv.id,
            at=at,
            reason=packet.get("reason") or "unknown",
            severity=conv.severity,
            complaint_type=packet.get("complaint_type") or "unknown",
            channel=conv.channel,
            language=conv.language,
        )

    async def withdrawn(self, conv: Conversation, at: float) -> None:
        await events.record(
            self.redis, "handoff_withdrawn", conv.id, at=at, channel=conv.channel, language=conv.language
        )

    async def first_reply(self, conv: Conversation, at: float) -> None:
        minutes = self.first_response_minutes
        target = 60 * minutes.get(conv.severity, minutes["unknown"])
        wait = max(0.0, at - conv.queued_at)
        await events.record(
            self.redis,
            "first_reply",
            conv.id,
            at=at,
            wait=round(wait, 1),
            severity=conv.severity or "unknown",
            target=target,
            met=wait <= target,
        )

    async def resolved(self, conv: Conversation) -> None:
        packet = conv.packet or {}
        await events.record(
            self.redis,
            "resolved",
            conv.id,
            by="agent",
            duration=round(max(0.0, time.time() - (conv.created_at or time.time())), 1),
            complaint_type=packet.get("complaint_type") or "unknown",
            channel=conv.channel,
            language=conv.language,
        )
