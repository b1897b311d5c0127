"""Conversations in Redis: state, identity, handoff packet, transcript, queue, presence.

States: "bot" (the assistant answers), "queued" (waiting for a person), "agent" (owned
by an agent), "closed". Every change publishes an event on keys.EVENTS so every hub
process's consoles see it.
"""

from dataclasses import dataclass, field
import json
import time
from typing import Any, Dict, List, Optional

from redis.exceptions import WatchError

from bot.identity import trust_label
from contract import events, keys, memory
from contract.handoff import HandoffPacket, read_packet

SEVERITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}


@dataclass
class Conversation:
    id: str
    state: str = "bot"
    channel: str = ""
    identity: Dict[str, Any] = field(default_factory=dict)
    language: str = "en"
    agent: str = ""
    severity: str = ""
    packet: Optional[Dict[str, Any]] = None
    queued_at: float = 0.0
    created_at: float = 0.0
    updated_at: float = 0.0
    followup: str = ""
    note: str = ""

    @classmethod
    def from_hash(cls, cid: str, data: Dict[str, str]) -> "Conversation":
        return cls(
            id=cid,
            state=data.get("state", "bot"),
            channel=data.get("channel", ""),
            identity=json.loads(data.get("identity") or "{}"),
            language=data.get("language") or "en",
            agent=data.get("agent", ""),
            severity=data.get("severity", ""),
            packet=json.loads(data["packet"]) if data.get("packet") else None,
            queued_at=float(data.get("queued_at") or 0),
            created_at=float(data.get("created_at") or 0),
            updated_at=float(data.get("updated_at") or 0),
            followup=data.get("followup", ""),
            note=data.get("note", ""),
        )

    def handoff(self) -> Optional[HandoffPacket]:
        """The packet, typed; None without one or for one this hub cannot read."""
        return read_packet(self.packet)

    def summary(self) -> Dict[str, Any]:
        """What the queue view shows (from a packet this hub reads; else only the hash)."""
        packet = self.handoff()
        order_id = ""
        if packet is not None:
            order_id = str((packet.order or {}).get("order_id") or packet.details.get("order_id") or "")
        return {
            "id": self.id,
            "state": self.state,
            "channel": self.channel,
            "trust": trust_label(self.identity, packet),
            "shop_customer": self.identity.get("shop_customer"),
            "language": self.language,
            "agent": self.agent,
            "severity": self.severity or "unknown",
            "queued_at": self.queued_at,
            "updated_at": self.updated_at,
            "reason": packet.reason if packet else "",
            "summary": packet.summary.en if packet else "",
            "complaint_type": packet.complaint_type if packet else None,
            "followup": self.followup,
            # For the console's queue card: a name only when the customer is verified.
            "customer_name": packet.customer.name if packet and packet.customer.verified else "",
            "severity_reasons": packet.severity.reasons if packet else [],
            "repeat_contact": packet.repeat_contact if packet else False,
            "order_id": order_id,
        }


# Queue a conversation unless it is already queued or with an agent (one round trip, so
# concurrent handoffs of one conversation cannot both add it).
_ENQUEUE = """
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'queued' or state == 'agent' then return 0 end
redis.call('HSET', KEYS[1], 'state', 'queued', 'severity', ARGV[3], 'packet', ARGV[4],
           'queued_at', ARGV[5], 'language', ARGV[6], 'updated_at', ARGV[5], 'agent', '')
redis.call('HDEL', KEYS[1], 'first_reply_at')  -- the next agent reply is a first one
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return 1
"""


# A customer's message: the transcript entry, then its dedupe marker, in one step (a
# script stops at an error without undoing what it did: the marker comes last).
_LOG_INBOUND = """
local seen = redis.call('GET', KEYS[1])
if seen then return seen end
local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'from', 'customer',
                      'text', ARGV[3], 'data', '{}', 'message_id', ARGV[4], 'at', ARGV[5])
redis.call('EXPIRE', KEYS[2], ARGV[6])
redis.call('HSET', KEYS[3], 'updated_at', ARGV[7], 'last_customer_at', ARGV[7])
redis.call('SET', KEYS[1], 'taken', 'EX', ARGV[1])
return 'new'
"""


def queue_score(severity: str, queued_at: float) -> float:
    """Severity first (critical lowest score), then who has waited longest."""
    return SEVERITY_RANK.get(severity, 2) * 1e11 + queued_at


class ConversationStore:
    def __init__(self, redis) -> None:
        self.redis = redis

    async def get(self, cid: str) -> Optional[Conversation]:
        data = await self.redis.hgetall(keys.conversation(cid))
        return Conversation.from_hash(cid, data) if data else None

    async def get_or_create(self, cid: str, channel: str, identity: Dict[str, Any]) -> Conversation:
        now = time.time()
        key = keys.conversation(cid)
        pipe = self.redis.pipeline(transaction=True)
        pipe.hsetnx(key, "state", "bot")
        pipe.hsetnx(key, "channel", channel)
        pipe.hsetnx(key, "created_at", now)
        if identity:
            pipe.hset(key, "identity", json.dumps(identity))
        pipe.hset(key, "updated_at", now)
        pipe.expire(key, keys.CONVERSATION_TTL)
        created = (await pipe.execute())[0]
        conv = await self.get(cid)
        assert conv is not None  # written just above
        if created:  # for the recovery reports (contract/events.py)
            await events.record(self.redis, "started", cid, at=now, channel=channel, language=conv.language)
        return conv

    async def log_inbound(self, cid: str, text: str, message_id: str) -> str:
        """Transcribe a customer's message unless its id was seen before. "new": written
        now; "taken": written by an earlier attempt that did not finish (route it again);
        anything else: handled before (a redelivery). The transcript entry and the dedupe
        marker are written together, the marker last, so a marker never stands for a
        message missing from the transcript."""
        now = time.time()
        state = await self.redis.eval(
            _LOG_INBOUND,
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

    async def last_customer_at(self, cid: str) -> float:
        return float(await self.redis.hget(keys.conversation(cid), "last_customer_at") or 0)

    async def transcript(self, cid: str) -> List[Dict[str, Any]]:
        rows = await self.redis.xrange(keys.transcript(cid))
        return [
            {**fields, "data": json.loads(fields.get("data") or "{}"), "id": entry_id}
            for entry_id, fields in rows
        ]

    async def update(self, cid: str, **fields) -> None:
        values = {
            k: (json.dumps(v) if isinstance(v, (dict, list)) else v)
            for k, v in fields.items()
            if v is not None
        }
        values["updated_at"] = time.time()
        await self.redis.hset(keys.conversation(cid), mapping=values)

    async def enqueue(self, cid: str, severity: str, packet: Dict[str, Any], language: str) -> bool:
        """Queue for a person, atomically and once: a conversation already queued or with
        an agent keeps its place, packet and agent (a repeated or concurrent handoff adds
        no entry and alerts no one). True if it was queued now."""
        now = time.time()
        added = await self.redis.eval(
            _ENQUEUE,
            2,
            keys.conversation(cid),
            keys.QUEUE,
            cid,
            queue_score(severity, now),
            severity,
            json.dumps(packet),
            now,
            language,
        )
        if not added:
            return False
        channel = await self.redis.hget(keys.conversation(cid), "channel") or ""
        await events.record(
            self.redis,
            "handoff",
            cid,
            at=now,
            reason=packet.get("reason") or "unknown",
            severity=severity,
            complaint_type=packet.get("complaint_type") or "unknown",
            channel=channel,
            language=language,
        )
        await self.publish({"type": "queue", "conversation_id": cid})
        return True

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

    async def claim(self, cid: str, agent: str) -> bool:
        """Queued -> agent, atomically: two agents cannot both own it."""
        key = keys.conversation(cid)
        async with self.redis.pipeline(transaction=True) as pipe:
            await pipe.watch(key)
            state = await pipe.hget(key, "state")
            if state != "queued":
                await pipe.unwatch()
                return False
            pipe.multi()
            pipe.hset(key, mapping={"state": "agent", "agent": agent, "updated_at": time.time()})
            pipe.zrem(keys.QUEUE, cid)
            pipe.sadd(keys.agent_conversations(agent), cid)
            try:
                await pipe.execute()
            except WatchError:  # someone else changed it first (Redis being away is a 503)
                return False
        await self.publish({"type": "queue", "conversation_id": cid})
        return True

    async def release(self, cid: str, agent: str, state: str, note: str = "") -> None:
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(
            keys.conversation(cid),
            mapping={"state": state, "agent": "", "note": note, "updated_at": time.time()},
        )
        pipe.zrem(keys.QUEUE, cid)
        pipe.srem(keys.agent_conversations(agent), cid)
        await pipe.execute()
        await self.publish({"type": "queue", "conversation_id": cid})

    async def owned_by(self, agent: str) -> List[Conversation]:
        ids = sorted(await self.redis.smembers(keys.agent_conversations(agent)))
        found = [await self.get(cid) for cid in ids]
        return [c for c in found if c is not None and c.state == "agent" and c.agent == agent]

    async def forget(self, cid: str) -> None:
        """Delete the conversation: its transcript, its place in the queue, its follow-up
        and call-back state (a phone number), and Rasa's tracker of it (README "Privacy
        and identity")."""
        await memory.forget_conversations(self.redis, [cid])
        await self.publish({"type": "queue", "conversation_id": cid})

    async def mark_reassured(self, cid: str, interval: float) -> bool:
        """True for the one hub process that should send the next "still here"."""
        return bool(await self.redis.set(keys.still_here(cid), 1, nx=True, ex=max(1, int(interval))))

    async def heartbeat(self, agent: str) -> None:
        await self.redis.zadd(keys.AGENTS_ONLINE, {agent: time.time()})

    async def agents_online(self, within: float) -> List[str]:
        return await self.redis.zrangebyscore(keys.AGENTS_ONLINE, time.time() - within, "+inf")

    async def publish(self, event: Dict[str, Any]) -> None:
        await self.redis.publish(keys.EVENTS, json.dumps(event))
