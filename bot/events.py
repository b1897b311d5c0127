"""Live events for agent consoles, through Redis pub/sub so that every hub process
behind a load balancer shows the same queue.

One listener task per process subscribes to keys.EVENTS and copies each event into
the queue of every console connected to this process. It reconnects with backoff if
Redis goes away, and then sends {"type": "reconnected"}: events published meanwhile
are lost, so the widget delivery catches up from the transcripts. A console's queue
is bounded: a console too slow to keep up loses old events, not the hub's memory (it
reloads its view on the next event).
"""

import asyncio
import contextlib
import json
import logging
from typing import Any, Dict, Set

from bot import keys

log = logging.getLogger(__name__)
CONSOLE_QUEUE_SIZE = 500


class EventHub:
    def __init__(self, redis) -> None:
        self.redis = redis
        self.consoles: Set[asyncio.Queue] = set()
        self._task = None
        # redis-py may turn a cancellation inside a timed read into a TimeoutError, which
        # the retry loop would swallow: stopping is therefore also signalled by a flag.
        self._stopping = False

    def connect(self) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue(maxsize=CONSOLE_QUEUE_SIZE)
        self.consoles.add(queue)
        return queue

    def disconnect(self, queue: asyncio.Queue) -> None:
        self.consoles.discard(queue)

    def _fan_out(self, event: Dict[str, Any]) -> None:
        for queue in list(self.consoles):
            if queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(event)

    async def _listen(self) -> None:
        delay, lost = 0.5, False
        while not self._stopping:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(keys.EVENTS)
                delay = 0.5
                if lost:  # events published meanwhile are gone: listeners catch up
                    lost = False
                    self._fan_out({"type": "reconnected"})
                while not self._stopping:
                    # Short waits: the client's socket timeout must not fire while idle.
                    message = await pubsub.get_message(timeout=1.0)
                    if message is None or message.get("type") != "message":
                        continue
                    try:
                        self._fan_out(json.loads(message["data"]))
                    except (TypeError, ValueError):
                        log.warning("ignoring a malformed event on %s", keys.EVENTS)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # Redis went away: retry with backoff
                if self._stopping:
                    return
                log.warning("event listener lost Redis (%s); retrying in %.1fs", error, delay)
                lost = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.close()

    def start(self) -> None:
        self._task = asyncio.create_task(self._listen())

    async def stop(self) -> None:
        self._stopping = True
        if self._task:
            self._task.cancel()
            await asyncio.wait([self._task], timeout=5)
        self._fan_out({"type": "shutdown"})  # consoles close their sockets
        self.consoles.clear()
