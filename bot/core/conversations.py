"""Conversations in Redis, and the one owner of their state (core/conversation.py is
what one conversation holds).

Every change of a conversation's state happens in ConversationStore, atomically, and
only from the states the machine allows:

    (new)          -> BOT      get_or_create
    CLOSED         -> BOT      reopen: a new message after a resolved case
    BOT            -> QUEUED   enqueue: a handoff (once: queued or with an agent, it stays;
                               one handoff once, by its key, early word or relay)
    QUEUED         -> BOT      withdraw: the customer takes the request back before anyone has it
    QUEUED         -> AGENT    claim
    AGENT          -> AGENT    transfer, to an online colleague
    AGENT          -> QUEUED   release, back to its first place in the queue
    AGENT          -> CLOSED   resolve
    AGENT          -> BOT      hand_back

Report events are recorded where the state changes (core/reporting.py), and every change
is published on keys.EVENTS so that every hub process's consoles see it. The transcript
of a conversation is written here too (the atomic steps' Lua is in core/scripts.py).
"""

from enum import IntEnum
import json
import time
from typing import Any, Dict, List, Optional

from redis.exceptions import WatchError

from bot.core.conversation import Conversation, State
from bot.core.reporting import Reporting
from bot.core.scripts import ENQUEUE, LOG_INBOUND
from contract import keys, memory

SEVERITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}


class Enqueued(IntEnum):
    """What `enqueue` did (false only for NOT)."""

    NOT = 0  # queued or with an agent already: nothing added, nobody alerted
    NOW = 1  # queued now: reported, and the consoles told
    BEFORE = 2  # this very handoff was queued already (its early word): nothing added


def queue_score(severity: str, queued_at: float) -> float:
    """Severity first (critical lowest score), then who has waited longest."""
    return SEVERITY_RANK.get(severity, 2) * 1e11 + queued_at


class ConversationStore:
    def __init__(self, redis, reporting: Reporting) -> None:
        self.redis = redis
        self.reporting = reporting

    # --- reading ---------------------------------------------------------------------

    async def get(self, cid: str) -> Optional[Conversation]:
        data = await self.redis.hgetall(keys.conversation(cid))
        return Conversation.from_hash(cid, data) if data else None

    async def position(self, cid: str) -> int:
        rank = await self.redis.zrank(keys.QUEUE, cid)
        return 0 if rank is None else rank + 1

    async def queue(self) -> List[Conversation]:
        """The queue in order; a conversation that expired meanwhile leaves it (the
        queue is one key without expiry: its entries must not outlive what they name)."""
        ids = await self.redis.zrange(keys.QUEUE, 0, 199)
        found = [await self.get(cid) for cid in ids]
        gone = [cid for cid, conv in zip(ids, found, strict=True) if conv is None]
        if gone:
            await self.redis.zrem(keys.QUEUE, *gone)
        return [c for c in found if c is not None]

    async def owned_by(self, agent: str) -> List[Conversation]:
        ids = sorted(await self.redis.smembers(keys.agent_conversations(agent)))
        found = [await self.get(cid) for cid in ids]
        return [c for c in found if c is not None and c.owned_by(agent)]

    # --- the state machine -----------------------------------------------------------

    async def get_or_create(self, cid: str, channel: str, identity: Dict[str, Any]) -> Conversation:
        """(new) -> BOT; an existing conversation keeps its state (its identity is the
        latest the channel vouched for)."""
        now = time.time()
        key = keys.conversation(cid)
        pipe = self.redis.pipeline(transaction=True)
        pipe.hsetnx(key, "state", State.BOT.value)
        pipe.hsetnx(key, "channel", channel)
        pipe.hsetnx(key, "created_at", now)
        if identity:
            pipe.hset(key, "identity", json.dumps(identity))
        pipe.hset(key, "updated_at", now)
        pipe.expire(key, keys.CONVERSATION_TTL)
        created = (await pipe.execute())[0]
        conv = await self.get(cid)
        assert conv is not None  # written just above
        if created:
            await self.reporting.started(conv, now)
        return conv

    async def reopen(self, conv: Conversation) -> None:
        """CLOSED -> BOT: a new contact after a resolved case starts with the bot."""
        conv.state = State.BOT
        await self.update(conv.id, state=State.BOT.value)

    async def enqueue(
        self,
        cid: str,
        severity: str,
        packet: Dict[str, Any],
        language: str,
        handoff: str = "",
        existing: bool = False,
    ) -> Enqueued:
        """-> QUEUED, atomically and once: a conversation already queued or with an agent
        keeps its place, packet and agent (a repeated or concurrent handoff adds no entry
        and alerts no one), and one handoff (`handoff`: its key, HandoffPacket.key) queues
        once, whether its early word or the turn's relay comes first. `existing`: only a
        conversation the hub has (the early word may name one it never had)."""
        now = time.time()
        added = Enqueued(
            await self.redis.eval(
                ENQUEUE,
                2,
                keys.conversation(cid),
                keys.QUEUE,
                cid,
                queue_score(severity, now),
                severity,
                json.dumps(packet),
                now,
                language,
                State.QUEUED.value,
                State.AGENT.value,
                handoff,
                "1" if existing else "",
            )
        )
        if added is not Enqueued.NOW:
            return added
        conv = await self.get(cid)
        if conv is not None:
            await self.reporting.handed_off(conv, now)
        await self.publish({"type": "queue", "conversation_id": cid})
        return added

    async def withdraw(self, conv: Conversation) -> bool:
        """QUEUED -> BOT: the customer took back their request for a person ("never mind,
        you can help me") before an agent claimed it; it leaves the queue (the consoles
        are told) and the assistant carries on. False when an agent has it already."""
        done = await self._move(conv.id, State.QUEUED, {"state": State.BOT.value, "agent": ""})
        if done:
            conv.state = State.BOT
            await self.reporting.withdrawn(conv, time.time())
        return done

    async def claim(self, cid: str, agent: str) -> bool:
        """QUEUED -> AGENT: two agents cannot both own it."""
        return await self._move(cid, State.QUEUED, {"state": State.AGENT.value, "agent": agent}, take=agent)

    async def transfer(self, conv: Conversation, agent: str, to: str) -> bool:
        """AGENT -> AGENT: from `agent` (only if it still has it) to a colleague."""
        return await self._move(conv.id, State.AGENT, {"agent": to}, owner=agent, take=to)

    async def release(self, conv: Conversation, agent: str) -> bool:
        """AGENT -> QUEUED at its first place (its first queueing time keeps its rank
        among the same severity)."""
        queued_at = conv.queued_at or time.time()
        return await self._move(
            conv.id,
            State.AGENT,
            {"state": State.QUEUED.value, "agent": ""},
            owner=agent,
            requeue=queue_score(conv.severity, queued_at),
        )

    async def resolve(self, conv: Conversation, agent: str, note: str) -> bool:
        """AGENT -> CLOSED."""
        return await self._finish(conv, agent, State.CLOSED, note)

    async def hand_back(self, conv: Conversation, agent: str, note: str) -> bool:
        """AGENT -> BOT: the assistant takes it again."""
        return await self._finish(conv, agent, State.BOT, note)

    async def _finish(self, conv: Conversation, agent: str, state: State, note: str) -> bool:
        done = await self._move(
            conv.id, State.AGENT, {"state": state.value, "agent": "", "note": note}, owner=agent
        )
        if done:
            await self.reporting.resolved(conv)
        return done

    async def _move(
        self,
        cid: str,
        source: State,
        mapping: Dict[str, Any],
        owner: str = "",
        take: str = "",
        requeue: Optional[float] = None,
    ) -> bool:
        """Change the hash atomically, only if the conversation is still in `source`
        (and still `owner`'s): the agent who gives it up leaves, `take` gets it, and the
        queue holds it exactly while it is queued."""
        key = keys.conversation(cid)
        async with self.redis.pipeline(transaction=True) as pipe:
            await pipe.watch(key)
            state, current = await pipe.hmget(key, "state", "agent")
            if state != source.value or (owner and current != owner):
                await pipe.unwatch()
                return False
            pipe.multi()
            pipe.hset(key, mapping={**mapping, "updated_at": time.time()})
            if current:
                pipe.srem(keys.agent_conversations(current), cid)
            if take:
                pipe.sadd(keys.agent_conversations(take), cid)
            if requeue is None:
                pipe.zrem(keys.QUEUE, cid)
            else:
                pipe.zadd(keys.QUEUE, {cid: requeue})
            try:
                await pipe.execute()
            except WatchError:  # someone else changed it first (Redis being away is a 503)
                return False
        await self.publish({"type": "queue", "conversation_id": cid})
        return True

    async def update(self, cid: str, **fields) -> None:
        """Fields that are not the state (language, follow-up choice)."""
        values = {
            k: (json.dumps(v) if isinstance(v, (dict, list)) else v)
            for k, v in fields.items()
            if v is not None
        }
        values["updated_at"] = time.time()
        await self.redis.hset(keys.conversation(cid), mapping=values)

    async def forget(self, cid: str) -> None:
        """Delete the conversation and everything kept about it, Rasa's tracker included
        (contract/memory.py forget_conversations: the one list, shared with the command
        line), then tell the consoles."""
        await memory.forget_conversations(self.redis, [cid])
        await self.publish({"type": "queue", "conversation_id": cid})

    # --- the transcript ----------------------------------------------------------------

    async def log_inbound(self, cid: str, text: str, message_id: str) -> str:
        """Transcribe a customer's message unless its id was seen before. "new": written
        now; "taken": written by an earlier attempt that did not finish (route it again);
        anything else: handled before (a redelivery). The transcript entry and the dedupe
        marker are written together, the marker last, so a marker never stands for a
        message missing from the transcript."""
        now = time.time()
        state = await self.redis.eval(
            LOG_INBOUND,
            3,
            keys.seen(cid, message_id),
            keys.transcript(cid),
            keys.conversation(cid),
            keys.DEDUPE_TTL,
            keys.TRANSCRIPT_MAX,
            text,
            message_id,
            f"{now:.3f}",
            keys.CONVERSATION_TTL,
            now,
        )
        if state == "new":
            entry = {
                "from": "customer",
                "text": text,
                "data": {},
                "message_id": message_id,
                "at": f"{now:.3f}",
            }
            await self.publish({"type": "message", "conversation_id": cid, "message": entry})
        return state

    async def handled(self, cid: str, message_id: str) -> None:
        """The message was routed to the end: a redelivery of it is answered with nothing."""
        await self.redis.set(keys.seen(cid, message_id), "done", xx=True, keepttl=True)

    async def first_time(self, cid: str, message_id: str) -> bool:
        """False when this message id was handled before (a redelivery)."""
        return bool(await self.redis.set(keys.seen(cid, message_id), 1, nx=True, ex=keys.DEDUPE_TTL))

    async def log(
        self, cid: str, sender: str, text: str = "", data: Optional[Dict] = None, message_id: str = ""
    ) -> Dict[str, Any]:
        now = time.time()
        entry = {
            "from": sender,
            "text": text or "",
            "data": json.dumps(data or {}),
            "message_id": message_id,
            "at": f"{now:.3f}",
        }
        pipe = self.redis.pipeline(transaction=True)
        pipe.xadd(keys.transcript(cid), entry, maxlen=keys.TRANSCRIPT_MAX, approximate=True)
        pipe.expire(keys.transcript(cid), keys.CONVERSATION_TTL)
        pipe.hset(
            keys.conversation(cid),
            mapping={"updated_at": now, **({"last_customer_at": now} if sender == "customer" else {})},
        )
        await pipe.execute()
        await self.publish(
            {"type": "message", "conversation_id": cid, "message": {**entry, "data": data or {}}}
        )
        return entry

    async def log_message(self, cid: str, sender: str, message: Dict[str, Any]) -> Dict[str, Any]:
        """A message as the channels carry it: its text, and the rest (buttons, image,
        the agent's name) as the entry's data."""
        data = {k: v for k, v in message.items() if k != "text"}
        return await self.log(cid, sender, message.get("text", ""), data)

    async def agent_replied(self, conv: Conversation) -> None:
        """An agent's reply was delivered: the first since the (last) handoff is reported."""
        now = time.time()
        if conv.queued_at and await self.redis.hsetnx(keys.conversation(conv.id), "first_reply_at", now):
            await self.reporting.first_reply(conv, now)

    async def last_customer_at(self, cid: str) -> float:
        return float(await self.redis.hget(keys.conversation(cid), "last_customer_at") or 0)

    async def transcript(self, cid: str) -> List[Dict[str, Any]]:
        rows = await self.redis.xrange(keys.transcript(cid))
        return [
            {**fields, "data": json.loads(fields.get("data") or "{}"), "id": entry_id}
            for entry_id, fields in rows
        ]

    # --- presence and events -------------------------------------------------------------

    async def mark_reassured(self, cid: str, interval: float) -> bool:
        """True for the one hub process that should send the next "still here"."""
        return bool(await self.redis.set(keys.still_here(cid), 1, nx=True, ex=max(1, int(interval))))

    async def heartbeat(self, agent: str) -> None:
        await self.redis.zadd(keys.AGENTS_ONLINE, {agent: time.time()})

    async def agents_online(self, within: float) -> List[str]:
        return await self.redis.zrangebyscore(keys.AGENTS_ONLINE, time.time() - within, "+inf")

    async def publish(self, event: Dict[str, Any]) -> None:
        await self.redis.publish(keys.EVENTS, json.dumps(event))
