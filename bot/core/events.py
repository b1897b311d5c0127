"""Live events for agent consoles, through Redis pub/sub so that every hub process
behind a load balancer shows the same queue.

One listener task per process subscribes to keys.EVENTS and copies each event into
the queue of every console connected to this process. It hears the assistant's early
handoff words too (keys.HANDOFF_REQUESTS, contract/handoff_requests.py), copied only to
the queues connected to that channel (bot/core/handoffs.py queues them). It reconnects
with back-off (redis-py's Retry) if Redis goes away, and then sends {"type":
"reconnected"}: events published meanwhile are lost, so the widget delivery catches up
from the transcripts.
A console's queue is bounded: a console too slow to keep up loses old events, not the
hub's memory (it reloads its view on the next event).
"""

import asyncio
import contextlib
import json
import logging
from typing import Any, Dict, Optional, Set

from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import RedisError

from contract import keys

log = logging.getLogger(__name__)
CONSOLE_QUEUE_SIZE = 500
RECONNECT_BASE = 0.25  # seconds; doubled after each failed attempt
RECONNECT_CAP = 10.0


class _Stopped(Exception):
    """The hub is stopping: no more reconnecting."""


class EventHub:
    CHANNELS = (keys.EVENTS, keys.HANDOFF_REQUESTS)

    def __init__(self, redis) -> None:
        self.redis = redis
        self.consoles: Set[asyncio.Queue] = set()  # keys.EVENTS's listeners
        self.requests: Set[asyncio.Queue] = set()  # keys.HANDOFF_REQUESTS's
        self._task: Optional[asyncio.Task] = None
        # redis-py may turn a cancellation inside a timed read into a TimeoutError, which
        # the retry loop would swallow: stopping is therefore also signalled by a flag.
        self._stopping = False

    def connect(self, channel: str = keys.EVENTS) -> asyncio.Queue:
        """A queue of the events of `channel` (one of CHANNELS), and of "reconnected" and
        "shutdown"."""
        queue: asyncio.Queue = asyncio.Queue(maxsize=CONSOLE_QUEUE_SIZE)
        self._listeners(channel).add(queue)
        return queue

    def disconnect(self, queue: asyncio.Queue) -> None:
        self.consoles.discard(queue)
        self.requests.discard(queue)

    def _listeners(self, channel: str) -> Set[asyncio.Queue]:
        if channel not in self.CHANNELS:
            raise ValueError(f"not a channel of the hub's: {channel!r}")
        return self.requests if channel == keys.HANDOFF_REQUESTS else self.consoles

    def _fan_out(self, event: Dict[str, Any], channel: str = "") -> None:
        """To the listeners of `channel`; without one (the listener's own news), to all."""
        for queue in list(self._listeners(channel) if channel else self.consoles | self.requests):
            if queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(event)

    async def _subscribed(self):
        pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(*self.CHANNELS)
        except BaseException:
            with contextlib.suppress(Exception):
                await pubsub.close()
            raise
        return pubsub

    async def _lost(self, error: Exception) -> None:
        if self._stopping:
            raise _Stopped()
        log.warning("event listener cannot subscribe (%s); retrying with back-off", error)

    async def _listen(self) -> None:
        # redis-py's Retry: ExponentialBackoff from RECONNECT_BASE, capped at RECONNECT_CAP,
        # for as long as it takes; each reconnection starts the back-off afresh.
        retry = Retry(
            ExponentialBackoff(cap=RECONNECT_CAP, base=RECONNECT_BASE),
            retries=-1,
            supported_errors=(RedisError, OSError),
        )
        lost = False
        while not self._stopping:
            try:
                pubsub = await retry.call_with_retry(self._subscribed, self._lost)
            except _Stopped:
                return
            if lost:  # events published meanwhile are gone: listeners catch up
                lost = False
                self._fan_out({"type": "reconnected"})
            try:
                while not self._stopping:
                    # Short waits: the client's socket timeout must not fire while idle.
                    message = await pubsub.get_message(timeout=1.0)
                    if message is None or message.get("type") != "message":
                        continue
                    channel = message.get("channel")
                    try:
                        self._fan_out(json.loads(message["data"]), channel)
                    except (TypeError, ValueError):
                        log.warning("ignoring a malformed event on %s", channel)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # Redis went away: subscribe again (above)
                if not self._stopping:
                    lost = True
                    log.warning("event listener lost Redis (%s); reconnecting", error)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.close()

    def close_consoles(self) -> None:
        """The hub is stopping: this process's consoles close their sockets, and open
        them again (bot/static/console/live.js), on another hub through the load
        balancer. Early handoff words are still queued while the turns in flight finish."""
        self._fan_out({"type": "shutdown"}, keys.EVENTS)

    def start(self) -> None:
        self._task = asyncio.create_task(self._listen())

    async def stop(self) -> None:
        self._stopping = True
        if self._task:
            self._task.cancel()
            await asyncio.wait([self._task], timeout=5)
        self._fan_out({"type": "shutdown"})  # consoles close their sockets
        self.consoles.clear()
        self.requests.clear()
