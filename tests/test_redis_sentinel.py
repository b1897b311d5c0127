"""Redis Sentinel for every role (contract/redis_client.py): the hub's client, the action
server's, python-socketio's manager and Rasa's own tracker and lock stores (built by
Rasa's loader from the real endpoints.yml) against a real master, replica and three
Sentinels on loopback (scripts/redis_group.py). The master is killed: each client
follows the replica the Sentinels promote, with what was written before still there."""

import asyncio
import json
from pathlib import Path
import secrets

import pytest
import redis
from redis import asyncio as aioredis
import socketio

from actions import store as actions_store
from bot.settings import Settings
from contract import keys
from contract.redis_client import RedisTarget, async_client, close, parse_sentinels, socketio_manager_args
from scripts.redis_group import RedisGroup
from tests.helpers import eventually

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def group(tmp_path):
    group = RedisGroup(tmp_path / "redis", secrets.token_hex(16), down_after_ms=2000)
    try:
        group.start()
        yield group
    finally:
        group.stop()


def rasa_stores(monkeypatch, group: RedisGroup):
    """Rasa's tracker and lock stores as `rasa run --endpoints endpoints.yml` builds them."""
    from rasa.core.lock_store import LockStore
    from rasa.core.tracker_store import create_tracker_store
    from rasa.shared.core.domain import Domain
    from rasa.utils.endpoints import read_endpoint_config

    for name, value in {
        **group.env(),
        "REDIS_HOST": "127.0.0.1",
        "REDIS_PORT": "1",  # not used: Sentinel is
        "REDIS_DB": "0",
        "REDIS_PASSWORD": group.password,
        "ACTION_PORT": "5055",
    }.items():
        monkeypatch.setenv(name, value)
    endpoints = str(ROOT / "endpoints.yml")
    trackers = create_tracker_store(
        read_endpoint_config(endpoints, "tracker_store"), Domain.from_path(ROOT / "domain.yml")
    )
    locks = LockStore.create(read_endpoint_config(endpoints, "lock_store"))
    return trackers, locks


def test_sentinels_are_parsed_and_a_bad_entry_is_named():
    assert parse_sentinels(" 10.0.0.1:26379, sentinel-1.svc:26380,[::1]:26381 ") == (
        ("10.0.0.1", 26379),
        ("sentinel-1.svc", 26380),
        ("::1", 26381),
    )
    with pytest.raises(ValueError, match="'sentinel-2'"):
        parse_sentinels("sentinel-1:26379,sentinel-2")
    with pytest.raises(ValueError, match="REDIS_SENTINELS"):
        Settings.from_env({"REDIS_SENTINELS": "a:1,b"})
    target = Settings.from_env(
        {
            "REDIS_URL": "redis://:p%40ss@ignored:1/3",
            "REDIS_SENTINELS": "a:1,b:2",
            "REDIS_MASTER_NAME": "shop",
            "REDIS_SENTINEL_PASSWORD": "s",
        }
    ).redis_target
    assert (target.sentinels, target.master_name, target.password, target.db, target.sentinel_password) == (
        (("a", 1), ("b", 2)),
        "shop",
        "p@ss",
        3,
        "s",
    )
    assert not Settings.from_env({}).redis_target.uses_sentinel


async def test_every_role_follows_the_master_through_a_failover(group, monkeypatch):
    from rasa.core.lock_store import RedisLockStore
    from rasa.core.tracker_store import RedisTrackerStore
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from contract.rasa_stores import LockStore, TrackerStore

    target = group.target()
    hub = async_client(Settings.from_env(group.env()).redis_target, decode_responses=True, socket_timeout=5)
    for name, value in group.env().items():
        monkeypatch.setenv(name, value)
    actions_store._clients.clear()
    actions = actions_store.get_redis()  # from the environment, as the action server does
    url, options = socketio_manager_args(target)
    manager = socketio.AsyncRedisManager(url, channel=keys.SOCKETIO_CHANNEL, redis_options=options)
    trackers, locks = rasa_stores(monkeypatch, group)
    inner = getattr(trackers, "_tracker_store", trackers)
    # Rasa's loader falls back to an in-memory store when a custom class fails to load.
    assert isinstance(inner, TrackerStore) and isinstance(locks, LockStore)
    assert isinstance(inner, RedisTrackerStore) and isinstance(locks, RedisLockStore)
    sender = f"sentinel-{secrets.token_hex(4)}"
    try:
        await hub.set("sr:test:hub", "before")
        await actions.set("sr:test:actions", "before")
        tracker = DialogueStateTracker.from_events(
            sender, [ActionExecuted("action_listen"), UserUttered("hello", {"name": "greet"})]
        )
        await trackers.save(tracker)
        ticket = locks.issue_ticket(sender)
        master = group.master_port()
        plain = redis.Redis(port=master, password=group.password)
        assert plain.wait(1, 5000) == 1  # the replica has it all before the master goes
        plain.close()

        old = group.kill_master()
        new = await asyncio.to_thread(group.wait_for_failover, old)
        assert new != old

        # What was written before the failover is read back through each client...
        assert await hub.get("sr:test:hub") == "before"
        assert await actions.get("sr:test:actions") == "before"
        stored = await trackers.retrieve(sender)
        assert [e.as_dict().get("text") for e in stored.events if isinstance(e, UserUttered)] == ["hello"]
        assert locks.get_lock(sender).last_issued == ticket
        # ... and writes go to the promoted replica, the new master.
        await hub.set("sr:test:hub", "after")
        await actions.set("sr:test:actions", "after")
        locks.issue_ticket(sender)
        direct = aioredis.Redis(port=new, password=group.password, decode_responses=True)
        listener = direct.pubsub(ignore_subscribe_messages=True)
        await listener.subscribe(keys.SOCKETIO_CHANNEL)
        await manager._publish({"method": "emit", "event": "ping"})  # what every socket.io emit does
        message = None
        while message is None:
            message = await listener.get_message(timeout=5)
        assert json.loads(message["data"])["event"] == "ping"
        assert await direct.mget("sr:test:hub", "sr:test:actions") == ["after", "after"]
        assert json.loads(await direct.get(f"rasalock:lock:{sender}"))["tickets"]
        assert await direct.exists(keys.rasa_tracker(sender))
        await listener.close()
        await direct.close()
        # The old master started again comes back as the new one's replica, with what was
        # written since (never as a master with its old data, which a second failover could
        # promote: scripts/redis_group.py).
        await asyncio.to_thread(group.restart, old)
        assert group.role(old) == ("slave", new)
        copy = aioredis.Redis(port=old, password=group.password, decode_responses=True)

        async def synced():
            return await copy.get("sr:test:hub") == "after"

        await eventually(synced, 15, "the old master, now a replica, has the new write")
        await copy.close()
    finally:
        await close(hub)
        await close(actions)
        actions_store._clients.clear()
        if manager.redis is not None:
            await manager.redis.close(close_connection_pool=True)


def test_without_sentinels_the_stores_are_rasa_s_own_on_one_address(redis_url, monkeypatch):
    from contract.rasa_stores import LockStore, TrackerStore

    target = RedisTarget(url=redis_url)
    assert not target.uses_sentinel
    monkeypatch.delenv("REDIS_SENTINELS", raising=False)
    tracker_store = TrackerStore(
        domain=None, host="127.0.0.1", port=redis_url.rsplit(":", 1)[1].split("/")[0]
    )
    assert tracker_store.red.connection_pool.connection_kwargs["host"] == "127.0.0.1"
    assert not hasattr(tracker_store.red.connection_pool, "sentinel_manager")
    from rasa.utils.endpoints import EndpointConfig

    lock_store = LockStore(EndpointConfig(url="127.0.0.1", port=6390, db=2, key_prefix="rasalock"))
    assert lock_store.red.connection_pool.connection_kwargs["port"] == 6390
    assert lock_store.key_prefix == "rasalock:lock:"
