"""Catch-up: every outgoing message reaches the customer exactly once, in order.

An outgoing message's id is its transcript stream entry id ("1732334400123-0"), so ids
order like the transcript. Widget delivery is driven by the transcript, not by the code
that wrote the message: each widget socket has a cursor (the last entry id it was sent),
and whenever an outgoing entry is transcribed (the "message" event every hub process
hears), the process holding the socket sends it everything after its cursor. A socket
is therefore sent each entry once, in stream order, whichever process wrote it.

On (re)connect the shop page sends `catch_up {after}` (right after the widget's own
`session_request`, which it may overtake): the id of the last message it actually
rendered (bot/static/shop.js). The socket's cursor starts there, so what was
sent but never shown (reload in the middle of a turn, a closed tab) is sent again and
nothing shown is sent twice. Live delivery to a new socket waits for that `catch_up`
for at most CATCH_UP_WAIT seconds, so that replayed messages come before new ones; a
client that never sends it (any other rasa-webchat page) gets live messages from its
connection on, as before.

The page also sends `seen {message_id}` after rendering; the conversation's
acknowledged id in Redis (keys.acknowledged) only moves forward, and is what email
follow-up (bot/followup.py) checks.
"""

import asyncio
import contextlib
from dataclasses import dataclass, field
import json
import logging
import re
from typing import Any, Dict, List, Optional, Set

from contract import keys

log = logging.getLogger(__name__)

OUTGOING = ("bot", "agent")  # transcript senders the customer sees
ENTRY_ID = re.compile(r"^\d{1,19}-\d{1,19}$")  # within Redis's 64-bit stream ids
CATCH_UP_WAIT = 2.0
REPLAY_LIMIT = 500

# Only ever moves forward: stream ids compare as (milliseconds, sequence).
_ADVANCE = """
local current = redis.call('GET', KEYS[1])
local function parts(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
if current then
  local cm, cs = parts(current)
  local nm, ns = parts(ARGV[1])
  if nm < cm or (nm == cm and ns <= cs) then
    redis.call('EXPIRE', KEYS[1], ARGV[2])
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
"""


def valid_id(value: Any) -> bool:
    return isinstance(value, str) and bool(ENTRY_ID.match(value))


def as_message(entry_id: str, fields: Dict[str, Any]) -> Dict[str, Any]:
    """A transcript entry as the hub's outgoing message: {id, text?, buttons?, image?}."""
    data = fields.get("data")
    if isinstance(data, str):
        try:
            data = json.loads(data or "{}")
        except ValueError:
            data = {}
    data = data if isinstance(data, dict) else {}
    message: Dict[str, Any] = {"id": entry_id}
    if fields.get("text"):
        message["text"] = fields["text"]
    for key in ("buttons", "image"):
        if data.get(key):
            message[key] = data[key]
    if fields.get("from") == "agent" and data.get("agent"):
        message["agent"] = data["agent"]
    return message


async def outgoing_after(redis, cid: str, after: str, limit: int = REPLAY_LIMIT) -> List[Dict[str, Any]]:
    """The outgoing messages of a conversation after entry id `after`, oldest first."""
    rows = await redis.xrange(keys.transcript(cid), min=f"({after}", max="+", count=limit)
    messages = [as_message(entry_id, fields) for entry_id, fields in rows if fields.get("from") in OUTGOING]
    return [m for m in messages if showable(m)]


def showable(message: Dict[str, Any]) -> bool:
    return bool(message.keys() & {"text", "buttons", "image"})


async def last_entry(redis, cid: str) -> str:
    rows = await redis.xrevrange(keys.transcript(cid), count=1)
    return rows[0][0] if rows else "0-0"


async def acknowledge(redis, cid: str, message_id: str) -> bool:
    """Record that the customer's widget rendered everything up to message_id."""
    if not valid_id(message_id):
        return False
    return bool(await redis.eval(_ADVANCE, 1, keys.acknowledged(cid), message_id, keys.CONVERSATION_TTL))


async def acknowledged(redis, cid: str) -> str:
    return await redis.get(keys.acknowledged(cid)) or ""


def id_key(entry_id: str):
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


@dataclass
class _Socket:
    cid: str
    cursor: str
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class WidgetDelivery:
    """This process's widget sockets and their cursors; `emit(sid, message)` sends one
    message (shaped by the widget channel)."""

    def __init__(self, redis, emit) -> None:
        self.redis = redis
        self.emit = emit
        self.sockets: Dict[str, _Socket] = {}
        self.by_conversation: Dict[str, Set[str]] = {}
        self.early: Dict[str, Optional[str]] = {}  # catch_up that overtook session_request
        self._tasks: Set[asyncio.Task] = set()

    async def open(self, sid: str, cid: str) -> None:
        self._forget(sid)
        state = _Socket(cid=cid, cursor=await last_entry(self.redis, cid))
        self.sockets[sid] = state
        self.by_conversation.setdefault(cid, set()).add(sid)
        asyncio.get_running_loop().call_later(CATCH_UP_WAIT, state.ready.set)
        if sid in self.early:
            await self.catch_up(sid, self.early.pop(sid))

    def close(self, sid: str) -> None:
        self.early.pop(sid, None)
        self._forget(sid)

    def _forget(self, sid: str) -> None:
        state = self.sockets.pop(sid, None)
        if state is not None:
            sids = self.by_conversation.get(state.cid, set())
            sids.discard(sid)
            if not sids:
                self.by_conversation.pop(state.cid, None)

    async def catch_up(self, sid: str, after: Optional[str]) -> None:
        """The page says what it last rendered: replay from there, then go live."""
        state = self.sockets.get(sid)
        if state is None:  # the page sends it right after session_request: it may overtake it
            self.early[sid] = after if valid_id(after) else None
            return
        async with state.lock:
            if not state.ready.is_set():
                if after is None or not valid_id(after):
                    after = await acknowledged(self.redis, state.cid) or "0-0"
                state.cursor = after
                state.ready.set()
        if after is not None and valid_id(after):
            await acknowledge(self.redis, state.cid, after)
        await self.flush(sid)

    async def flush(self, sid: str) -> None:
        state = self.sockets.get(sid)
        if state is None:
            return
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(state.ready.wait(), CATCH_UP_WAIT + 1)
        async with state.lock:
            while self.sockets.get(sid) is state:
                rows = await self.redis.xrange(
                    keys.transcript(state.cid), min=f"({state.cursor}", max="+", count=100
                )
                if not rows:
                    return
                for entry_id, fields in rows:
                    if fields.get("from") in OUTGOING:
                        message = as_message(entry_id, fields)
                        if showable(message):
                            await self.emit(sid, message)
                    state.cursor = entry_id

    def transcribed(self, cid: str) -> None:
        """An entry was added to cid's transcript (by any hub process)."""
        for sid in list(self.by_conversation.get(cid, ())):
            task = asyncio.create_task(self.flush(sid))
            self._tasks.add(task)
            task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("widget delivery failed: %s", task.exception())

    async def listen(self, events: asyncio.Queue) -> None:
        """Consume the hub's event stream (bot/events.py) for transcript additions."""
        while True:
            event = await events.get()
            if event.get("type") == "shutdown":
                return
            if event.get("type") == "reconnected":  # events may have been missed
                for cid in list(self.by_conversation):
                    self.transcribed(cid)
            elif event.get("type") == "message" and (event.get("message") or {}).get("from") in OUTGOING:
                self.transcribed(event.get("conversation_id", ""))

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5)
