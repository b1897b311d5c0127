"""Rasa's tracker and lock stores on the project's Redis, through Sentinel when it is set.

Rasa Open Source 3.6 talks to one Redis address only (rasa#3924, #5813). These are its own
Redis stores (rasa/core/tracker_store.py `RedisTrackerStore`, rasa/core/lock_store.py
`RedisLockStore`) with their client swapped for one from contract/redis_client.py: with
`REDIS_SENTINELS` set (the same variables as the hub's and the action server's), the
master the Sentinels name, followed through a failover; without, the address
`endpoints.yml` gives, exactly as `type: redis` would. Rasa uses the synchronous redis
client inside its async code, as its own stores do.

`endpoints.yml` names them by module path (`type: contract.rasa_stores.TrackerStore`);
its `url`, `port`, `db`, `password` and `key_prefix` keep their meaning. Only Rasa
imports this module: the hub never imports Rasa. Importing it also puts
contract/rasa_runtime.py's faster Rasa methods in place.

The tracker store keeps Rasa's Redis layout (one JSON value per conversation, every
session's events) and returns and stores the same trackers, with less CPU per turn
(issue 29, docs/benchmarks.md "CPU per message, stage by stage"):

- loading builds only the latest session, as Rasa returns, from its events: Rasa rebuilt
  every session of the conversation and then the latest once more, so a returning
  customer's turn cost more with every past session;
- saving writes the tracker in hand after the stored one when the stored events are
  where the tracker in hand begins (its whole history, or the sessions before its own):
  Rasa rebuilt the stored tracker and replayed the one in hand to find that out. Anything
  else (the events differ) is left to Rasa's own merge, unchanged.
"""

import json
import logging
from typing import Any, Callable, Dict, List, Optional, Text, Tuple, TypeVar
from urllib.parse import quote

from rasa.core.brokers.broker import EventBroker
from rasa.core.lock import TicketLock
from rasa.core.lock_store import DEFAULT_SOCKET_TIMEOUT_IN_SECONDS, LOCK_LIFETIME, LockError, RedisLockStore
from rasa.core.tracker_store import RedisTrackerStore
from rasa.shared.core.constants import ACTION_SESSION_START_NAME
from rasa.shared.core.conversation import Dialogue
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig
from redis.exceptions import WatchError

from contract import rasa_runtime
from contract.redis_client import RedisTarget, sync_client

log = logging.getLogger(__name__)
T = TypeVar("T")

rasa_runtime.install()


def latest_session_start(events: List[Dict[Text, Any]]) -> int:
    """Where the latest conversation session begins in stored events (its
    `action_session_start`), 0 when none does: where Rasa splits a tracker into sessions
    (rasa.shared.core.trackers.get_trackers_for_conversation_sessions)."""
    for index in range(len(events) - 1, -1, -1):
        event = events[index]
        if event.get("event") == "action" and event.get("name") == ACTION_SESSION_START_NAME:
            return index
    return 0


def _target(db: int, password: Optional[Text]) -> RedisTarget:
    """The Sentinels of the environment, with endpoints.yml's database and password."""
    found = RedisTarget.from_env()
    auth = f":{quote(password, safe='')}@" if password else ""
    # Only the password and database of this URL are used through Sentinel.
    return RedisTarget(
        url=f"redis://{auth}sentinel/{int(db)}",
        sentinels=found.sentinels,
        master_name=found.master_name,
        sentinel_password=found.sentinel_password,
    )


class TrackerStore(RedisTrackerStore):
    """`type: redis`'s tracker store, on the master the Sentinels name when they are set."""

    def __init__(
        self,
        domain: Domain,
        host: Text = "localhost",
        port: int = 6379,
        db: int = 0,
        username: Optional[Text] = None,
        password: Optional[Text] = None,
        event_broker: Optional[EventBroker] = None,
        record_exp: Optional[float] = None,
        key_prefix: Optional[Text] = None,
        **kwargs: Dict[Text, Any],
    ) -> None:
        super().__init__(
            domain,
            host=host,
            port=int(port),
            db=int(db),
            username=username,
            password=password or None,
            event_broker=event_broker,
            record_exp=record_exp,
            key_prefix=key_prefix,
            **kwargs,
        )
        target = _target(int(db), password or None)
        if target.uses_sentinel:
            self.red = sync_client(target, decode_responses=True, socket_timeout=10, socket_connect_timeout=5)
            log.info("tracker store on %s", target.describe())

    async def _retrieve(self, sender_id: Text, fetch_all_sessions: bool) -> Optional[DialogueStateTracker]:
        """Rasa's: the conversation's tracker, only its latest session unless all are
        asked for; built from that session's events alone."""
        stored = self.red.get(self.key_prefix + sender_id)
        if stored is None:
            return None
        if fetch_all_sessions:
            return self.deserialise_tracker(sender_id, stored)
        events = json.loads(stored).get("events") or []
        tracker = self.init_tracker(sender_id)
        latest = events[latest_session_start(events) :]
        tracker.recreate_from_dialogue(Dialogue.from_parameters({"name": sender_id, "events": latest}))
        return tracker

    async def save(self, tracker: DialogueStateTracker, timeout: Optional[float] = None) -> None:
        """Rasa's: the tracker in hand, after the stored sessions it does not hold."""
        if self.event_broker is not None:  # Rasa streams the new events: its own way
            return await super().save(tracker, timeout)
        key = self.key_prefix + tracker.sender_id
        stored = self.red.get(key)
        dialogue = tracker.as_dialogue().as_dict()
        if stored is not None:
            before = json.loads(stored).get("events") or []
            earlier = _earlier_sessions(before, dialogue["events"])
            if earlier is None:  # not a continuation of what is stored: Rasa's merge
                return await super().save(tracker, timeout)
            dialogue["events"] = earlier + dialogue["events"]
        self.red.set(key, json.dumps(dialogue), ex=timeout or self.record_exp)


def _earlier_sessions(
    stored: List[Dict[Text, Any]], new: List[Dict[Text, Any]]
) -> Optional[List[Dict[Text, Any]]]:
    """The stored events that go before `new` when `new` continues what is stored: [] when
    `new` begins with all of it, the earlier sessions when it begins with the latest one
    (a tracker loaded with its latest session only), None otherwise."""
    if new[: len(stored)] == stored:
        return []
    start = latest_session_start(stored)
    if start and new[: len(stored) - start] == stored[start:]:
        return stored[:start]
    return None


class LockStore(RedisLockStore):
    """`type: redis`'s lock store, on the master the Sentinels name when they are set.
    Rasa builds a custom lock store from its endpoint configuration alone.

    Each change to a conversation's ticket lock is one Redis transaction here. Rasa's own
    reads the lock, changes it and writes it back in separate calls (its authors call it
    "far from atomic", rasa#3933): two Rasa processes given one conversation's messages at
    the same instant could both be issued the same ticket and both run a turn at once, and
    a turn ending as another's ticket was issued could drop that ticket or delete the lock
    under it. Here the lock's key is WATCHed from the read to the write, and a change that
    lost the race is made again on what the other process wrote (make bench's lock-store
    check found such a conversation: two turns' events interleaved)."""

    def __init__(self, endpoint_config: EndpointConfig) -> None:
        kwargs = dict(endpoint_config.kwargs)
        password = kwargs.pop("password", None) or None
        db = int(kwargs.pop("db", 1))
        super().__init__(host=endpoint_config.url or "localhost", password=password, db=db, **kwargs)
        target = _target(db, password)
        if target.uses_sentinel:
            timeout = float(kwargs.get("socket_timeout", DEFAULT_SOCKET_TIMEOUT_IN_SECONDS))
            self.red = sync_client(target, socket_timeout=timeout, socket_connect_timeout=5)
            log.info("lock store on %s", target.describe())

    def _change(
        self, conversation_id: Text, change: Callable[[Optional[TicketLock]], Tuple[Optional[TicketLock], T]]
    ) -> T:
        """`change` applied to the conversation's stored lock (None: there is none) in one
        transaction: it returns the lock to store (None: delete it) and a result. Tried
        again whenever another client changed the lock between the read and the write."""
        key = self.key_prefix + conversation_id
        while True:
            with self.red.pipeline() as pipe:
                try:
                    pipe.watch(key)
                    stored = pipe.get(key)
                    lock = TicketLock.from_dict(json.loads(stored)) if stored is not None else None
                    kept, result = change(lock)
                    pipe.multi()
                    if kept is not None:
                        pipe.set(key, kept.dumps())
                    elif stored is not None:
                        pipe.delete(key)
                    pipe.execute()
                    return result
                except WatchError:
                    continue

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """Rasa's: a new ticket on the conversation's lock (made if there is none)."""

        def issue(lock: Optional[TicketLock]) -> Tuple[Optional[TicketLock], int]:
            lock = lock or TicketLock(conversation_id)
            return lock, lock.issue_ticket(lock_lifetime)

        try:
            return self._change(conversation_id, issue)
        except Exception as error:
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def update_lock(self, conversation_id: Text) -> None:
        """Rasa's: the lock without its expired tickets."""

        def update(lock: Optional[TicketLock]) -> Tuple[Optional[TicketLock], None]:
            if lock is not None:
                lock.remove_expired_tickets()
            return lock, None

        self._change(conversation_id, update)

    def finish_serving(self, conversation_id: Text, ticket_number: int) -> None:
        """Rasa's: the lock without this ticket."""
        self._change(conversation_id, lambda lock: (_without(lock, ticket_number), None))

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        """Rasa's: the lock without this ticket, deleted when nobody else waits on it (in
        one step: a ticket issued meanwhile keeps the lock)."""

        def finish(lock: Optional[TicketLock]) -> Tuple[Optional[TicketLock], None]:
            lock = _without(lock, ticket_number)
            return (lock if lock is not None and lock.is_someone_waiting() else None), None

        self._change(conversation_id, finish)


def _without(lock: Optional[TicketLock], ticket_number: int) -> Optional[TicketLock]:
    if lock is not None:
        lock.remove_ticket_for(ticket_number)
    return lock
