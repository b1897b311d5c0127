"""The Rasa process's faster paths (contract/rasa_runtime.py, contract/rasa_stores.py)
give what Rasa 3.6's own code gives: each case runs both, on a real Redis, and compares."""

import asyncio
import json
import time

from jsonschema import ValidationError, validate
import pytest
from rasa.core.actions.action import RemoteAction
from rasa.core.tracker_store import RedisTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from contract import rasa_runtime
from contract.rasa_stores import TrackerStore
from tests.helpers import ROOT


@pytest.fixture(scope="module")
def rasa_domain():
    return Domain.load(str(ROOT / "domain.yml"))


def stores(redis_url, rasa_domain):
    """Ours and Rasa's own, on the same Redis, under different key prefixes."""
    from urllib.parse import urlparse

    address = urlparse(redis_url)
    options = dict(host=address.hostname, port=address.port, db=0, record_exp=60)
    ours = TrackerStore(rasa_domain, key_prefix="oursx", **options)
    theirs = RedisTrackerStore(rasa_domain, key_prefix="rasax", **options)
    return ours, theirs


def session(start: float, text: str, language: str):
    """One conversation session: Rasa's start of session, a turn, a slot, a reply."""
    return [
        ActionExecuted("action_session_start", timestamp=start),
        SessionStarted(timestamp=start + 0.001),
        SlotSet("language", language, timestamp=start + 0.002),
        ActionExecuted("action_listen", timestamp=start + 0.003),
        UserUttered(text, {"name": "greet", "confidence": 1.0}, timestamp=start + 0.004),
        SlotSet("complaint_type", "delivery", timestamp=start + 0.005),
        ActionExecuted("utter_greet", timestamp=start + 0.006),
        BotUttered("hello", {"elements": None}, timestamp=start + 0.007),
        ActionExecuted("action_listen", timestamp=start + 0.008),
    ]


def stored(store, sender):
    return json.loads(store.red.get(store.key_prefix + sender))["events"]


def same_tracker(a: DialogueStateTracker, b: DialogueStateTracker) -> None:
    assert a.as_dialogue().as_dict() == b.as_dialogue().as_dict()
    assert a.current_state() == b.current_state()


def test_the_latest_session_loads_and_a_turn_saves_as_rasa_does(redis_url, rasa_domain, sender):
    ours, theirs = stores(redis_url, rasa_domain)
    now = time.time() - 100
    events = session(now, "hi", "en") + session(now + 10, "xin chào", "vi")
    for store in (ours, theirs):
        asyncio.run(store.save(DialogueStateTracker.from_events(sender, events, rasa_domain.slots)))
    assert stored(ours, sender) == stored(theirs, sender)

    mine, rasas = asyncio.run(ours.retrieve(sender)), asyncio.run(theirs.retrieve(sender))
    same_tracker(mine, rasas)
    assert len(mine.events) == len(session(0, "", "")), "only the latest session"
    assert mine.get_slot("language") == "vi"
    same_tracker(
        asyncio.run(ours.retrieve_full_tracker(sender)), asyncio.run(theirs.retrieve_full_tracker(sender))
    )

    # The next turn, on the latest session only: the earlier session stays stored.
    turn = [UserUttered("my parcel is late", {"name": "complain_delivery"}), ActionExecuted("action_listen")]
    for tracker, store in ((mine, ours), (rasas, theirs)):
        for event in turn:
            tracker.update(event)
        asyncio.run(store.save(tracker))
    assert stored(ours, sender) == stored(theirs, sender)
    assert len(stored(ours, sender)) == len(events) + len(turn)


def test_a_tracker_that_does_not_continue_the_stored_one_is_merged_by_rasa(redis_url, rasa_domain, sender):
    ours, theirs = stores(redis_url, rasa_domain)
    now = time.time() - 100
    first = session(now, "hi", "en")
    for store in (ours, theirs):
        asyncio.run(store.save(DialogueStateTracker.from_events(sender, first, rasa_domain.slots)))
    # Another writer's events, which the tracker in hand has not seen.
    other = DialogueStateTracker.from_events(sender, first + [SlotSet("language", "vi", timestamp=now + 1)])
    for store in (ours, theirs):
        asyncio.run(store.save(other))
    in_hand = DialogueStateTracker.from_events(
        sender, first + [UserUttered("hello again", {"name": "greet"}, timestamp=now + 2)], rasa_domain.slots
    )
    for store in (ours, theirs):
        asyncio.run(store.save(in_hand))
    assert stored(ours, sender) == stored(theirs, sender)
    assert [e.get("value") for e in stored(ours, sender) if e.get("name") == "language"] == ["en", "vi"]


def test_the_action_server_answer_is_checked_as_rasa_checks_it():
    action = RemoteAction("action_anything", None)
    good = {"events": [{"event": "slot", "name": "language", "value": "vi"}], "responses": [{"text": "hi"}]}
    assert rasa_runtime.validate_action_result(action, good) is True
    bad = {"events": [{"name": "language", "value": "vi"}], "responses": []}
    with pytest.raises(ValidationError) as raised:
        rasa_runtime.validate_action_result(action, bad)
    with pytest.raises(ValidationError) as expected:
        validate(bad, RemoteAction.action_response_format_spec())
    assert raised.value.message.startswith(expected.value.message)
    assert "Failed to validate Action server response" in raised.value.message


def test_the_response_schema_itself_is_checked_once_per_process(monkeypatch):
    from jsonschema.validators import validator_for

    checked = []
    cls = validator_for(RemoteAction.action_response_format_spec())
    original = cls.check_schema.__func__
    monkeypatch.setattr(cls, "check_schema", classmethod(lambda c, s: checked.append(1) or original(c, s)))
    monkeypatch.setattr(rasa_runtime, "_validator", None)
    action = RemoteAction("action_anything", None)
    for _ in range(3):
        rasa_runtime.validate_action_result(action, {"events": [], "responses": []})
    assert checked == [1]


def test_loading_the_stores_puts_the_faster_check_in_rasas_place():
    import contract.rasa_stores  # noqa: F401  (what endpoints.yml makes Rasa import)

    assert RemoteAction._validate_action_result is rasa_runtime.validate_action_result


# --- the lock store: one conversation's tickets across Rasa processes ---------------------------


def lock_stores(redis_url, prefix):
    """Two of our lock stores on one Redis, as two Rasa processes have, and Rasa's own."""
    from urllib.parse import urlparse

    from rasa.core.lock_store import RedisLockStore
    from rasa.utils.endpoints import EndpointConfig

    from contract.rasa_stores import LockStore

    address = urlparse(redis_url)
    config = EndpointConfig(url=address.hostname, port=address.port, db=0, key_prefix=prefix)
    rasas = RedisLockStore(host=address.hostname, port=address.port, db=0, key_prefix=prefix + "rasa")
    return LockStore(config), LockStore(config), rasas


def between_read_and_write(monkeypatch, method, other):
    """Runs `other()` once, the first time a lock store calls TicketLock.`method` on a lock
    it has read: as if another process changed the stored lock between this one's read
    and its write."""
    from rasa.core.lock import TicketLock

    original = getattr(TicketLock, method)
    pending = [other]

    def interleaved(self, *args, **kwargs):
        if pending:
            pending.pop()()
        return original(self, *args, **kwargs)

    monkeypatch.setattr(TicketLock, method, interleaved)


@pytest.mark.parametrize("ours", [True, False], ids=["ours", "rasa's own"])
def test_two_processes_issuing_tickets_at_once_get_different_ones(redis_url, sender, monkeypatch, ours):
    first, second, rasas = lock_stores(redis_url, "lockx")
    store = first if ours else rasas
    other = second if ours else rasas
    theirs = []
    between_read_and_write(monkeypatch, "issue_ticket", lambda: theirs.append(other.issue_ticket(sender)))
    mine = store.issue_ticket(sender)
    lock = store.get_lock(sender)
    if not ours:  # Rasa's own: both hold ticket 0, and both would run their turn at once
        assert mine == theirs[0] == 0 and lock.last_issued == 0
        return
    assert sorted([mine, theirs[0]]) == [0, 1] and lock.last_issued == 1
    assert not lock.is_locked(theirs[0]) and lock.is_locked(mine)  # one runs, one waits


@pytest.mark.parametrize("ours", [True, False], ids=["ours", "rasa's own"])
def test_a_turn_ending_as_another_begins_keeps_the_new_ticket(redis_url, sender, monkeypatch, ours):
    first, second, rasas = lock_stores(redis_url, "lockx")
    store = first if ours else rasas
    other = second if ours else rasas
    running = store.issue_ticket(sender)
    waiting = []
    between_read_and_write(
        monkeypatch, "remove_ticket_for", lambda: waiting.append(other.issue_ticket(sender))
    )
    store.cleanup(sender, running)
    lock = store.get_lock(sender)
    if not ours:  # Rasa's own dropped the waiting ticket: the next turn would wait for nobody
        assert lock is None or lock.now_serving != waiting[0]
        return
    assert lock is not None and lock.now_serving == waiting[0] and not lock.is_locked(waiting[0])
    other.cleanup(sender, waiting[0])
    assert other.get_lock(sender) is None  # the last turn out removes the lock


async def test_rasa_processes_take_one_conversations_turns_one_at_a_time(redis_url, sender):
    first, second, _ = lock_stores(redis_url, "lockx")
    inside, most = 0, 0

    async def turn(store):
        nonlocal inside, most
        async with store.lock(sender, wait_time_in_seconds=0.001):
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0)  # let the other turns try to come in
            inside -= 1

    await asyncio.gather(*(turn(first if i % 2 else second) for i in range(20)))
    assert most == 1 and first.get_lock(sender) is None
