"""One turn of a conversation at a time (bot/core/turn_lock.py), on any number of hubs:
two hubs get a message of one conversation at the same instant, and the turns run one
after the other, each answered before the next reaches the assistant, in the order they
took their places; a running turn keeps its conversation while its hub renews its lease,
and a dead hub's turn holds it only until the lease ends.
Real hubs on real Redis, the stand-in Rasa held at a gate to keep a turn running."""

import asyncio
import time

from redis import asyncio as aioredis
from redis.exceptions import RedisError

from bot.core.turn_lock import TurnLock
from contract import keys
from tests.helpers import eventually
from tests.hub.helpers import INTROS, rest_sender, without_intro


async def waiting(redis, cid, count, timeout=10):
    """Until `count` turns of cid are in line (the running one included)."""

    async def line():
        return await redis.llen(keys.turns(cid)) >= count

    await eventually(line, timeout, f"{count} turns of {cid} in line", interval=0.01)


async def post(hub, sender, text, message_id=None):
    body = {"sender": sender, "message": text}
    if message_id:
        body["metadata"] = {"message_id": message_id}
    response = await hub.post("/webhooks/rest/webhook", json=body)
    assert response.status == 200, await response.text()
    return await response.json()


async def first_of(*aws):
    """Which of these finished first (its index); the others are cancelled."""
    tasks = [asyncio.ensure_future(a) for a in aws]
    done, pending = await asyncio.wait(tasks, timeout=15, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    assert done, "neither happened"
    return tasks.index(done.pop())


async def test_two_hubs_run_two_messages_of_a_conversation_one_after_the_other(
    make_hub_fake, fake_rasa, redis
):
    hub_a, hub_b = await make_hub_fake(), await make_hub_fake()
    sender = rest_sender()
    cid = f"rest-{sender}"
    fake_rasa.gate = asyncio.Event()  # a turn at the assistant stays there until the gate opens
    sent = [
        asyncio.create_task(post(hub_a, sender, "from hub a")),
        asyncio.create_task(post(hub_b, sender, "from hub b")),
    ]
    try:
        first = await asyncio.wait_for(fake_rasa.arrived.get(), 10)
        # The other message waits its turn; it never reaches the assistant meanwhile.
        assert await first_of(waiting(redis, cid, 2, timeout=15), fake_rasa.arrived.get()) == 0
        assert fake_rasa.arrived.empty()
        log = [e for _, e in await redis.xrange(keys.transcript(cid))]
        assert [e["text"] for e in log if e["from"] == "customer"] == [first["message"]]
    finally:
        fake_rasa.gate.set()
    replies = await asyncio.gather(*sent)
    # The first turn of the conversation starts with the hub's "automated assistant" line.
    assert [r[-1]["text"] for r in replies] == ["heard: from hub a", "heard: from hub b"]
    assert len(fake_rasa.sent_for(cid)) == 2
    # One after the other: each message, then its answer, in the order the assistant saw them.
    order = [body["message"] for body in fake_rasa.sent_for(cid)]
    log = [(e["from"], e["text"]) for _, e in await redis.xrange(keys.transcript(cid))]
    assert log[1][1] in INTROS and log[:1] + log[2:] == [
        ("customer", order[0]),
        ("bot", f"heard: {order[0]}"),
        ("customer", order[1]),
        ("bot", f"heard: {order[1]}"),
    ]
    assert not await redis.exists(keys.turns(cid), keys.turn_deadlines(cid))  # nothing left behind


async def test_turns_run_in_the_order_they_came(make_hub_fake, fake_rasa, redis):
    hubs = [await make_hub_fake(), await make_hub_fake()]
    sender = rest_sender()
    cid = f"rest-{sender}"
    fake_rasa.gate = asyncio.Event()
    sent = [asyncio.create_task(post(hubs[0], sender, "m0"))]
    try:
        await asyncio.wait_for(fake_rasa.arrived.get(), 10)
        for n in range(1, 5):  # each takes its place behind the one before, on either hub
            sent.append(asyncio.create_task(post(hubs[n % 2], sender, f"m{n}")))
            await waiting(redis, cid, n + 1)
    finally:
        fake_rasa.gate.set()
    await asyncio.gather(*sent)
    assert [body["message"] for body in fake_rasa.sent_for(cid)] == ["m0", "m1", "m2", "m3", "m4"]


async def test_a_duplicate_sent_to_two_hubs_at_once_is_routed_once(make_hub_fake, fake_rasa, redis):
    hub_a, hub_b = await make_hub_fake(), await make_hub_fake()
    sender = rest_sender()
    fake_rasa.gate = asyncio.Event()
    first = asyncio.create_task(post(hub_a, sender, "hello", "m-both"))
    try:
        await asyncio.wait_for(fake_rasa.arrived.get(), 10)
        again = asyncio.create_task(post(hub_b, sender, "hello", "m-both"))
        await waiting(redis, f"rest-{sender}", 2)
    finally:
        fake_rasa.gate.set()
    assert without_intro(await first)[0]["text"] == "heard: hello"
    assert await again == []  # its turn came after the first's: handled already
    assert len(fake_rasa.sent_for(f"rest-{sender}")) == 1


async def test_a_running_turn_keeps_its_conversation_and_a_dead_hub_s_turn_lets_go(redis_url):
    redis = aioredis.from_url(redis_url, decode_responses=True)
    try:
        cid = f"lock-{rest_sender()}"
        # A turn running longer than its lease keeps the conversation: its hub renews it.
        running = await TurnLock(redis, wait=10, longest=60, lease=2.0).acquire(cid)
        assert running is not None
        assert await TurnLock(redis, wait=4.5, longest=60, lease=2.0).acquire(cid) is None
        await running.release()
        # A turn whose hub died (nothing renews its lease) holds it only until the lease ends.
        dead = await TurnLock(redis, wait=10, longest=0, lease=1.5).acquire(cid)
        assert dead is not None
        started = time.monotonic()
        nxt = await TurnLock(redis, wait=10, longest=60).acquire(cid)
        assert nxt is not None and 1.2 < time.monotonic() - started < 4
        # A waiter that gives up (cancelled, or its hub stopping) leaves the line at once.
        waiter = asyncio.create_task(TurnLock(redis, wait=10, longest=60).acquire(cid))
        await waiting(redis, cid, 2)
        waiter.cancel()
        await asyncio.gather(waiter, return_exceptions=True)
        assert await redis.llen(keys.turns(cid)) == 1
        # One that waits past its bound gives up its place and says so (None).
        assert await TurnLock(redis, wait=0.2, longest=60).acquire(cid) is None
        assert await redis.llen(keys.turns(cid)) == 1
        await nxt.release()
        assert not await redis.exists(keys.turns(cid))
    finally:
        await redis.close(close_connection_pool=True)


async def test_a_turn_s_end_stops_its_renewal_even_if_redis_swallows_the_cancellation(redis_url):
    """redis-py may turn a cancellation in the middle of a command into a RedisError: the
    renewal must stop anyway, or the conversation stays held until `longest` (seen under
    make bench: a customer's next message waited 70 s)."""
    redis = aioredis.from_url(redis_url, decode_responses=True)
    try:
        cid = f"lock-{rest_sender()}"
        lock = TurnLock(redis, wait=10, longest=20, lease=2.0)
        real_renew, renewing = lock._renew, asyncio.Event()

        async def renew_that_swallows_cancellation(**kwargs):
            if not renewing.is_set():  # the first renewal: a command the release cancels mid-flight
                renewing.set()
                try:
                    await asyncio.sleep(3600)
                except asyncio.CancelledError:
                    raise RedisError("connection closed while reading") from None
            return await real_renew(**kwargs)

        lock._renew = renew_that_swallows_cancellation
        held = await lock.acquire(cid)
        assert held is not None
        await asyncio.wait_for(renewing.wait(), 10)  # the renewal is inside its Redis call
        release = asyncio.create_task(held.release())
        done, _ = await asyncio.wait({release}, timeout=5)
        assert release in done  # it returned, not after `longest` (20 s)
        assert held._renewing.done()
        after = await TurnLock(redis, wait=1, longest=60).acquire(cid)
        assert after is not None  # the conversation is free at once
        await after.release()
    finally:
        await redis.close(close_connection_pool=True)
