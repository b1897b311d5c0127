"""The widget's delivery: every outgoing message reaches the customer exactly once, in
order, whichever hub process wrote it.

Delivery is driven by the transcript, not by the code that wrote the message: each
widget socket has a cursor (the last entry id it was sent), and whenever an outgoing
entry is transcribed (the "message" event every hub process hears), the process holding
the socket sends it everything after its cursor (core/outgoing.py reads it).

On (re)connect the shop page sends `catch_up {after}` (right after the widget's own
`session_request`, which it may overtake): the id of the last message it actually
rendered (bot/static/shop.js). The socket's cursor starts there, so what was sent but
never shown (reload in the middle of a turn, a closed tab) is sent again and nothing
shown is sent twice. Live delivery to a new socket waits for that `catch_up` for at most
CATCH_UP_WAIT seconds, so that replayed messages come before new ones; a client that
never sends it (any other rasa-webchat page) gets live messages from its connection on.
The page also sends `seen {message_id}` after rendering (core/outgoing.py acknowledge).
"""

import asyncio
import contextlib
from dataclasses import dataclass, field
import logging
from typing import Any, Dict, Optional, Set

from bot.core.outgoing import OUTGOING, acknowledge, acknowledged, entries_after, last_entry, valid_id

log = logging.getLogger(__name__)
CATCH_UP_WAIT = 2.0


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
                entries = await entries_after(self.redis, state.cid, state.cursor, 100)
                if not entries:
                    return
                for entry_id, message in entries:
                    if message is not None:
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

    def take(self, event: Dict[str, Any]) -> bool:
        """One event of the hub's stream (core/events.py): a transcript addition is
        delivered; False once the hub is shutting down."""
        if event.get("type") == "shutdown":
            return False
        if event.get("type") == "reconnected":  # events may have been missed
            for cid in list(self.by_conversation):
                self.transcribed(cid)
        elif event.get("type") == "message" and (event.get("message") or {}).get("from") in OUTGOING:
            self.transcribed(event.get("conversation_id", ""))
        return True

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5)
