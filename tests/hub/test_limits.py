"""Limits that hold across hub processes (Redis), checked before anything is stored:
sign-in throttling, and token buckets per socket, conversation and address with a
conversation's byte budget, past which the customer hears a polite "one moment" and
nothing of the message is kept. Each limit's test turns the others off, so it fails
when its own limit is gone."""

import asyncio
import contextlib
import json
import logging
import uuid

import pytest
import socketio

from bot.console import auth
from bot.console.labels import ConsoleLabels
from bot.core import limits
from bot.core.conversations import ConversationStore
from bot.core.reporting import Reporting
from bot.settings import DEMO_LOGIN
from bot.web.appkeys import CHANNELS
from contract import keys
from tests.helpers import eventually
from tests.hub.helpers import (
    INTROS,
    PACKET,
    WidgetCustomer,
    client_from,
    login,
    loopback_address,
    rest_sender,
    without_intro,
)

# Every bucket off but the one a test is about.
NO_BUCKETS = dict(
    messages_per_conversation_minute=0,
    widget_messages_per_socket_minute=0,
    widget_messages_per_ip_minute=0,
    widget_conversations_per_ip_minute=0,
    conversation_bytes=0,
)


def only(**limits_on):
    return {**NO_BUCKETS, **limits_on}


async def customer_lines(redis, cid):
    return [e["text"] for _, e in await redis.xrange(keys.transcript(cid)) if e["from"] == "customer"]


async def conversation_keys_in_redis(redis, cid):
    return sorted(
        [key async for key in redis.scan_iter(match=f"sr:conv:{cid}:*")]
        + [key async for key in redis.scan_iter(match=keys.conversation(cid))]
    )


async def reply_to(customer):
    """The reply a message gets (the assistant's or "one moment"), after the hub's first
    line when it starts a conversation."""
    message = await customer.next()
    return (await customer.next() if message.get("text") in INTROS else message)["text"]


async def say_and_hear(customer, text):
    """One message, and the one reply it gets."""
    await customer.say(text)
    return await reply_to(customer)


async def test_repeated_wrong_passwords_for_a_name_get_a_429_with_retry_after(make_hub_fake):
    hub = await make_hub_fake()
    name = f"nobody-{uuid.uuid4().hex[:8]}"
    for _ in range(limits.LOGIN_FAILURES_PER_NAME_AND_ADDRESS.most):
        response = await hub.post("/api/agent/login", json={"name": name, "password": "guess"})
        assert response.status == 401
    throttled = await hub.post("/api/agent/login", json={"name": name, "password": "guess"})
    assert throttled.status == 429 and "error" in await throttled.json()
    assert 0 < int(throttled.headers["Retry-After"]) <= limits.LOGIN_FAILURES_PER_NAME_AND_ADDRESS.window
    # Another hub process sharing Redis throttles the same name from the same address.
    other = await make_hub_fake()
    assert (await other.post("/api/agent/login", json={"name": name, "password": "x"})).status == 429


def counting_password_checks(monkeypatch):
    """Counts the real scrypt checks the hub makes: [made, most at once]."""
    counts = [0, 0]
    running = 0
    real_check = auth.check_password

    def counting_check(password, hashed):
        nonlocal running
        counts[0] += 1
        running += 1
        counts[1] = max(counts[1], running)
        try:
            return real_check(password, hashed)
        finally:
            running -= 1

    monkeypatch.setattr(auth, "check_password", counting_check)
    return counts


async def test_a_burst_of_wrong_passwords_gets_no_more_checks_than_the_limit(
    make_hub_fake, monkeypatch, caplog
):
    hub = await make_hub_fake()
    checks = counting_password_checks(monkeypatch)
    caplog.set_level(logging.INFO, logger="bot.console.auth")
    async with client_from(loopback_address()) as attacker:
        url = str(hub.make_url("/api/agent/login"))
        burst = [
            attacker.post(url, json={"name": DEMO_LOGIN[0], "password": f"guess {n}"}) for n in range(60)
        ]
        responses = await asyncio.gather(*burst)
        statuses = sorted(response.status for response in responses)
        for response in responses:
            response.release()
    assert checks[0] <= limits.LOGIN_FAILURES_PER_NAME_AND_ADDRESS.most
    assert statuses.count(401) == checks[0] and statuses.count(429) == 60 - checks[0]
    assert checks[1] <= auth.SCRYPT_AT_ONCE
    lines = [record.getMessage() for record in caplog.records]
    assert sum(line.startswith(f"failed sign-in for {DEMO_LOGIN[0]!r}") for line in lines) == checks[0]
    locked = [line for line in lines if line.startswith(f"sign-in locked for {DEMO_LOGIN[0]!r}")]
    assert sum(line.endswith("(login-name-address)") for line in locked) == 1  # logged once
    assert not any("guess" in line for line in lines)  # never a password


async def test_failures_from_one_address_do_not_lock_the_agent_out_at_another(make_hub_fake, caplog):
    hub = await make_hub_fake()
    caplog.set_level(logging.INFO, logger="bot.console.auth")
    url = str(hub.make_url("/api/agent/login"))
    async with client_from("127.0.0.2") as elsewhere:
        for _ in range(limits.LOGIN_FAILURES_PER_NAME_AND_ADDRESS.most + 2):
            response = await elsewhere.post(url, json={"name": DEMO_LOGIN[0], "password": "wrong"})
            response.release()
        locked = await elsewhere.post(url, json={"name": DEMO_LOGIN[0], "password": DEMO_LOGIN[1]})
        assert locked.status == 429  # that address is locked out, even with the right password
    await login(hub)  # from 127.0.0.1: the agent signs in
    lines = [record.getMessage() for record in caplog.records]
    assert f"agent {DEMO_LOGIN[0]!r} signed in from 127.0.0.1" in lines
    assert any(line.startswith(f"sign-in locked for {DEMO_LOGIN[0]!r} from 127.0.0.2") for line in lines)
    # Guesses at names that are nobody's are logged without the name (it may be a password).
    await hub.post("/api/agent/login", json={"name": "hunter2-typed-in-the-name", "password": "x"})
    assert any(
        r.getMessage().startswith("failed sign-in for (a name that is no agent's)") for r in caplog.records
    )
    assert not any("hunter2" in r.getMessage() for r in caplog.records)


async def test_the_queue_for_password_checks_is_bounded(make_hub_fake, monkeypatch):
    hub = await make_hub_fake()
    release = asyncio.Event()
    loop = asyncio.get_running_loop()

    def slow_check(password, hashed):  # holds its slot until the test lets it go
        asyncio.run_coroutine_threadsafe(release.wait(), loop).result()
        return False

    monkeypatch.setattr(auth, "check_password", slow_check)
    most = auth.SCRYPT_AT_ONCE + auth.SCRYPT_QUEUE
    names = [f"queue-{uuid.uuid4().hex[:6]}" for _ in range(most + 3)]
    addresses = [loopback_address() for _ in names]  # each its own address: no count is over
    sessions = [client_from(address) for address in addresses]
    url = str(hub.make_url("/api/agent/login"))
    try:
        waiting = [
            asyncio.create_task(session.post(url, json={"name": name, "password": "x"}))
            for session, name in zip(sessions[:most], names[:most], strict=True)
        ]
        checks = hub.app[auth.PASSWORD_CHECKS]
        await eventually(lambda: checks.pending >= most, 10, "two checking, the rest waiting")
        refused = await asyncio.wait_for(
            asyncio.gather(
                *[
                    session.post(url, json={"name": name, "password": "x"})
                    for session, name in zip(sessions[most:], names[most:], strict=True)
                ]
            ),
            10,
        )  # at once, not queued
        assert [r.status for r in refused] == [429] * 3 and all(r.headers["Retry-After"] for r in refused)
        release.set()
        assert [r.status for r in await asyncio.gather(*waiting)] == [401] * most
    finally:
        release.set()
        for session in sessions:
            await session.close()


async def test_a_flood_from_one_socket_stores_nothing_past_the_limit(make_hub_fake, fake_rasa, redis):
    hub = await make_hub_fake(**only(widget_messages_per_socket_minute=5))
    customer = WidgetCustomer(str(hub.make_url("/")), acknowledge=False)
    try:
        await customer.connect()  # the session request takes one token: four messages left
        cid = customer.session_id.rpartition(".")[0]
        replies = [await say_and_hear(customer, f"flood {n}") for n in range(30)]
    finally:
        await customer.close()
    assert replies[:4] == [f"heard: flood {n}" for n in range(4)]
    assert all("One moment" in reply for reply in replies[4:])
    assert await customer_lines(redis, cid) == [f"flood {n}" for n in range(4)]
    assert len(fake_rasa.sent_for(cid)) == 4
    # What the conversation holds in Redis: its hash, its transcript, its byte count and
    # a dedupe marker for each of the four messages; nothing of the other 26.
    stored = await conversation_keys_in_redis(redis, cid)
    assert len([key for key in stored if ":seen:" in key]) == 4
    assert len(await redis.xrange(keys.transcript(cid))) == 9  # the first line, four messages, four replies


async def test_a_flood_in_one_conversation_gets_one_moment_and_is_not_stored(make_hub_fake, fake_rasa, redis):
    hub = await make_hub_fake(**only(messages_per_conversation_minute=5))
    sender = rest_sender()
    for n in range(5):
        replies = await (
            await hub.post("/webhooks/rest/webhook", json={"sender": sender, "message": f"m{n}"})
        ).json()
        replies = without_intro(replies) if n == 0 else replies
        assert replies[0]["text"] == f"heard: m{n}"
    refused = await hub.post("/webhooks/rest/webhook", json={"sender": sender, "message": "one more"})
    assert refused.status == 200 and "One moment" in (await refused.json())[0]["text"]
    assert 0 < int(refused.headers["Retry-After"]) <= 12  # a token every 12 s
    assert len(fake_rasa.sent_for(f"rest-{sender}")) == 5  # not sent on to the assistant...
    assert await customer_lines(redis, f"rest-{sender}") == [f"m{n}" for n in range(5)]  # ...nor stored
    # In Vietnamese to a customer writing Vietnamese, and the next conversation is not held back.
    refused = await hub.post(
        "/webhooks/rest/webhook", json={"sender": sender, "message": "shop ơi cho em hỏi"}
    )
    assert "chờ em một chút" in (await refused.json())[0]["text"]
    other = await hub.post("/webhooks/rest/webhook", json={"sender": rest_sender(), "message": "hi"})
    assert without_intro(await other.json())[0]["text"] == "heard: hi"


async def test_messages_from_one_address_are_limited_across_its_sockets(make_hub_fake, redis):
    hub = await make_hub_fake(**only(widget_messages_per_ip_minute=4))
    address = loopback_address()
    first, second = (WidgetCustomer(str(hub.make_url("/")), address=address) for _ in range(2))
    elsewhere = WidgetCustomer(str(hub.make_url("/")), address=loopback_address())
    try:
        for customer in (first, second, elsewhere):
            await customer.connect()
        heard = [await say_and_hear(customer, "hello") for customer in (first, second, first, second)]
        assert heard == ["heard: hello"] * 4
        assert "One moment" in await say_and_hear(second, "and again")
        assert "One moment" in await say_and_hear(first, "me too")
        assert await say_and_hear(elsewhere, "hello") == "heard: hello"  # another address is not held back
        assert await customer_lines(redis, second.session_id.rpartition(".")[0]) == ["hello", "hello"]
    finally:
        for customer in (first, second, elsewhere):
            await customer.close()


async def test_a_socket_holds_at_most_three_conversations(make_hub_fake, redis):
    hub = await make_hub_fake(**NO_BUCKETS)
    customer = WidgetCustomer(str(hub.make_url("/")))
    confirms: asyncio.Queue = asyncio.Queue()
    customer.sio.on("session_confirm", confirms.put_nowait)
    confirmed = []

    async def session(session_id=None):  # as the widget does: it writes once confirmed
        await customer.sio.emit("session_request", {"session_id": session_id})
        confirmed.append(await asyncio.wait_for(confirms.get(), 10))

    try:
        await customer.sio.connect(str(hub.make_url("/")), socketio_path="socket.io", transports=["polling"])
        for _ in range(3):
            await session()
            await customer.sio.emit("user_uttered", {"message": "hello"})
            assert await reply_to(customer) == "heard: hello"
        # A fourth: refused, no session; the three it holds still work.
        await customer.sio.emit("session_request", {"session_id": None})
        assert "One moment" in (await customer.next())["text"] and confirms.empty()
        await session(confirmed[0])
        await customer.sio.emit("user_uttered", {"message": "back to the first"})
        assert (await customer.next())["text"] == "heard: back to the first"
    finally:
        await customer.close()
    assert len(set(confirmed)) == 3 and len(confirmed) == 4
    assert await customer_lines(redis, confirmed[0].rpartition(".")[0]) == ["hello", "back to the first"]


async def test_new_conversations_from_one_address_are_limited(make_hub_fake):
    hub = await make_hub_fake(**only(widget_conversations_per_ip_minute=2))
    address = loopback_address()
    customers = [WidgetCustomer(str(hub.make_url("/")), address=address) for _ in range(4)]
    try:
        kept = [await customers[0].connect(), await customers[1].connect()]
        await customers[2].sio.connect(
            str(hub.make_url("/")), socketio_path="socket.io", transports=["polling"]
        )
        await customers[2].sio.emit("session_request", {"session_id": None})
        assert "One moment" in (await customers[2].next())["text"] and not customers[2].confirmed.is_set()
        # Coming back to a conversation it has is not a new one.
        assert await customers[3].connect(kept[0]) == kept[0]
        assert await say_and_hear(customers[3], "still me") == "heard: still me"
    finally:
        for customer in customers:
            await customer.close()


async def test_a_conversation_s_byte_budget_once_spent_takes_no_more(make_hub_fake, fake_rasa, redis):
    hub = await make_hub_fake(**only(conversation_bytes=4 * limits.MESSAGE_FLOOR))
    sender = rest_sender()
    long_one = "ố" * 600  # costs its size: 1,800 bytes of UTF-8 (600 characters)
    for text in ("short", long_one, "short again"):  # 1 KiB (the floor) + 1,800 + 1 KiB
        replies = await (
            await hub.post("/webhooks/rest/webhook", json={"sender": sender, "message": text})
        ).json()
        assert replies[-1]["text"] == f"heard: {text}"  # the first after the hub's first line
    refused = await hub.post("/webhooks/rest/webhook", json={"sender": sender, "message": "one too many"})
    assert "too long" in (await refused.json())[0]["text"] and "Retry-After" not in refused.headers
    assert await customer_lines(redis, f"rest-{sender}") == ["short", long_one, "short again"]
    assert int(await redis.get(keys.conversation_bytes(f"rest-{sender}"))) == 2 * limits.MESSAGE_FLOOR + 1800
    assert await redis.ttl(keys.conversation_bytes(f"rest-{sender}")) > keys.CONVERSATION_TTL - 60


async def test_one_socket_cannot_start_calls_without_end(make_hub_fake, fake_rasa, redis):
    hub = await make_hub_fake()
    fake_rasa.gate = asyncio.Event()  # the assistant is slow: replies wait
    customer = WidgetCustomer(str(hub.make_url("/")))
    await customer.connect()
    try:
        for n in range(3):
            await customer.say(f"busy {n}")
        # All three are in flight: one with the assistant, two waiting their turn (one
        # turn of a conversation at a time, bot/core/turn_lock.py).
        await asyncio.wait_for(fake_rasa.arrived.get(), 10)
        cid = customer.session_id.rpartition(".")[0]
        await asyncio.wait_for(turns_waiting(redis, cid, 3), 10)
        await customer.say("and another")
        held = await customer.until(lambda m: "One moment" in m.get("text", ""))
        assert "send it again" in held[-1]["text"]
        assert fake_rasa.arrived.empty()  # the fourth was not sent on...
        assert "and another" not in await customer_lines(redis, cid)  # ...nor stored: sent again later
        fake_rasa.gate.set()
        await customer.until(lambda m: m.get("text", "").startswith("heard"))
    finally:
        fake_rasa.gate.set()
        await customer.close()


async def test_a_queue_entry_goes_when_its_conversation_has_expired(make_hub_fake, redis):
    hub = await make_hub_fake()
    sender = rest_sender()
    cid = f"rest-{sender}"
    await hub.post("/webhooks/rest/webhook", json={"sender": sender, "message": "/request_human"})
    assert await redis.zscore(keys.QUEUE, cid) is not None
    await redis.delete(keys.conversation(cid))  # as if its 30 days had passed
    await login(hub)
    listing = await (await hub.get("/api/agent/queue")).json()
    assert cid not in [c["id"] for c in listing["queue"]]
    assert await redis.zscore(keys.QUEUE, cid) is None


async def queue_events(redis, cid, during):
    """The console's queue events about cid published while `during` runs."""
    pubsub = redis.pubsub()
    await pubsub.subscribe(keys.EVENTS)
    await pubsub.get_message(timeout=1)  # the subscription's confirmation
    try:
        await during()
        await redis.publish(keys.EVENTS, json.dumps({"type": "end-of-test"}))
        events = []
        while True:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=5)
            assert message is not None, "the end marker never came"
            event = json.loads(message["data"])
            if event["type"] == "end-of-test":
                return events
            if event["type"] == "queue" and event.get("conversation_id") == cid:
                events.append(event)
    finally:
        await pubsub.unsubscribe()
        await pubsub.close()


async def test_a_flood_of_handoff_requests_queues_once_and_alerts_once(make_hub_fake, fake_rasa, redis):
    hub = await make_hub_fake()
    sender = rest_sender()
    cid = f"rest-{sender}"
    fake_rasa.gate = asyncio.Event()  # the first is with the assistant while the others come

    async def flood():
        posts = [
            asyncio.create_task(
                hub.post("/webhooks/rest/webhook", json={"sender": sender, "message": "/request_human"})
            )
            for _ in range(5)
        ]
        await asyncio.wait_for(fake_rasa.arrived.get(), 10)
        await asyncio.wait_for(turns_waiting(redis, cid, 5), 10)  # the other four wait their turn
        fake_rasa.gate.set()
        for response in await asyncio.gather(*posts):
            assert response.status == 200
            assert (await response.json())[-1]["text"]  # every request gets an answer
        queued_at = await redis.hget(keys.conversation(cid), "queued_at")
        # Asked again once queued: no second entry, the wait so far is kept.
        await hub.post("/webhooks/rest/webhook", json={"sender": sender, "message": "/request_human"})
        assert await redis.hget(keys.conversation(cid), "queued_at") == queued_at

    events = await queue_events(redis, cid, flood)
    assert len(events) == 1  # the agents are alerted once
    assert await redis.zscore(keys.QUEUE, cid) is not None
    # Handoffs that do meet (a turn's and a hand-back's) still queue once: the store's step is atomic.
    store = ConversationStore(redis, Reporting(redis, ConsoleLabels().first_response_minutes))
    other = f"rest-{rest_sender()}"
    await store.get_or_create(other, "rest", {})
    added = await asyncio.gather(*(store.enqueue(other, "medium", PACKET, "en") for _ in range(5)))
    assert sorted(added) == [False, False, False, False, True]


async def turns_waiting(redis, cid, count):
    """Until `count` turns of cid are in line, the running one included (turn_lock.py)."""

    async def line():
        return await redis.llen(keys.turns(cid)) >= count

    await eventually(line, 10, f"{count} turns of {cid} in line", interval=0.01)


async def test_a_late_handoff_leaves_the_conversation_with_its_agent(redis):
    store = ConversationStore(redis, Reporting(redis, ConsoleLabels().first_response_minutes))
    cid = f"rest-{rest_sender()}"
    await store.get_or_create(cid, "rest", {})
    assert await store.enqueue(cid, "medium", {"reason": "customer_asked"}, "en")
    assert await store.claim(cid, "agent")
    # A handoff packet that was already on its way when the agent claimed it.
    assert not await store.enqueue(cid, "high", {"reason": "customer_asked"}, "en")
    conv = await store.get(cid)
    assert (conv.state, conv.agent) == ("agent", "agent")
    assert await redis.zscore(keys.QUEUE, cid) is None
    assert await store.resolve(conv, "agent", "")
    await store.forget(cid)


@contextlib.asynccontextmanager
async def fresh_count(redis, limit_name):
    """The loopback address's count for one per-address limit, from zero, and cleared
    after (every test comes from 127.0.0.1)."""
    key = limits.counter_key(limits.Limit(limit_name, 0, 60), "127.0.0.1")
    await redis.delete(key)
    try:
        yield
    finally:
        await redis.delete(key)


async def test_rest_calls_from_one_address_are_limited_across_hub_processes(make_hub_fake, redis):
    hub = await make_hub_fake(rest_per_ip_minute=5)
    other = await make_hub_fake(rest_per_ip_minute=5)
    async with fresh_count(redis, "rest-ip"):
        for n in range(5):
            response = await hub.post(
                "/webhooks/rest/webhook", json={"sender": rest_sender(), "message": f"hi {n}"}
            )
            assert response.status == 200
        for client in (hub, other):
            throttled = await client.post(
                "/webhooks/rest/webhook", json={"sender": rest_sender(), "message": "hi"}
            )
            assert throttled.status == 429 and "error" in await throttled.json()
            assert 0 < int(throttled.headers["Retry-After"]) <= 60
        assert (await hub.get(f"/webhooks/rest/messages?sender={rest_sender()}")).status == 429


async def test_messenger_deliveries_from_one_address_are_limited(make_hub_fake, redis):
    hub = await make_hub_fake(messenger_per_ip_minute=3)
    async with fresh_count(redis, "messenger-ip"):
        statuses = [
            (await hub.post("/webhooks/facebook/webhook", json={"object": "page", "entry": []})).status
            for _ in range(4)
        ]
        assert all(status != 429 for status in statuses[:3])
        assert statuses[3] == 429


async def test_new_widget_connections_from_one_address_are_limited(make_hub_fake, redis):
    hub = await make_hub_fake(widget_connects_per_ip_minute=2)
    async with fresh_count(redis, "widget-connect-ip"):
        customers = [WidgetCustomer(str(hub.make_url("/"))) for _ in range(3)]
        try:
            await customers[0].connect()
            await customers[1].connect()
            await customers[1].say("an open socket's traffic is not counted")
            await customers[1].until(lambda m: m.get("text", "").startswith("heard"))
            with pytest.raises(socketio.exceptions.ConnectionError):
                await customers[2].connect()
            handshake = await hub.get("/socket.io/?EIO=4&transport=polling")
            assert handshake.status == 429 and int(handshake.headers["Retry-After"]) > 0
        finally:
            for customer in customers:
                await customer.close()


async def test_password_checks_run_a_few_at_a_time(make_hub_fake, monkeypatch):
    hub = await make_hub_fake()
    checks = counting_password_checks(monkeypatch)
    # From an address of its own: sign-ins being checked count against the limits until
    # they succeed, and other tests' wrong passwords from 127.0.0.1 stay counted a while.
    async with client_from(loopback_address()) as agent:
        url = str(hub.make_url("/api/agent/login"))
        logins = await asyncio.gather(
            *[
                agent.post(url, json={"name": DEMO_LOGIN[0], "password": DEMO_LOGIN[1]})
                for _ in range(limits.LOGIN_FAILURES_PER_NAME_AND_ADDRESS.most)
            ]
        )
        statuses = [response.status for response in logins]
        for response in logins:
            response.release()
    assert statuses == [200] * limits.LOGIN_FAILURES_PER_NAME_AND_ADDRESS.most
    assert checks[1] == auth.SCRYPT_AT_ONCE


async def test_health_and_the_log_warn_past_70_percent_of_redis_maxmemory(make_hub_fake, redis, caplog):
    hub = await make_hub_fake()
    calm = await (await hub.get("/health")).json()
    assert "warning" not in calm["redis_memory"] and calm["redis_memory"]["max_bytes"] == 0
    used = (await redis.info("memory"))["used_memory"]
    await redis.config_set("maxmemory", int(used / 0.74))  # about 74% in use
    try:
        body = await (await hub.get("/health")).json()
        memory = body["redis_memory"]
        assert 70 <= memory["percent"] < 100 and "maxmemory" in memory["warning"]
        assert any(r.levelname == "WARNING" and "of its maxmemory" in r.getMessage() for r in caplog.records)
        await redis.config_set("maxmemory", int(used / 0.5))  # back under: no warning
        assert "warning" not in (await (await hub.get("/health")).json())["redis_memory"]
    finally:
        await redis.config_set("maxmemory", 0)


async def test_a_burst_of_session_requests_from_one_socket_gets_three_conversations(make_hub_fake):
    hub = await make_hub_fake(**only(widget_messages_per_socket_minute=100))  # a bucket: a Redis call
    customer = WidgetCustomer(str(hub.make_url("/")))
    answers: asyncio.Queue = asyncio.Queue()
    customer.sio.on("session_confirm", lambda session_id: answers.put_nowait(("confirm", session_id)))
    customer.sio.on("bot_uttered", lambda data: answers.put_nowait(("refused", data["text"])))
    try:
        await customer.sio.connect(str(hub.make_url("/")), socketio_path="socket.io", transports=["polling"])
        for _ in range(10):  # all at once: the hub handles them concurrently
            await customer.sio.emit("session_request", {"session_id": None})
        got = [await asyncio.wait_for(answers.get(), 10) for _ in range(10)]  # one answer each
    finally:
        await customer.close()
    assert [kind for kind, _ in got].count("confirm") == limits.MAX_CONVERSATIONS_PER_SOCKET
    assert all("One moment" in text for kind, text in got if kind == "refused")


async def test_a_socket_that_leaves_while_its_session_is_issued_is_not_confirmed(make_hub_fake):
    hub = await make_hub_fake()
    widget = hub.server.app[CHANNELS]["web"]
    customer = WidgetCustomer(str(hub.make_url("/")))
    await customer.connect()
    [sid] = list(widget.held)  # the hub's id of this socket
    real_issue = widget.sessions.issue

    async def leaving_while_issued(cid, proved=0.0):  # the socket goes while Redis is asked
        await customer.close()
        await eventually(lambda: widget.sio.get_environ(sid) is None, 10, "the hub saw it leave")
        return await real_issue(cid, proved)

    widget.sessions.issue = leaving_while_issued
    await widget.session_request(sid, {"session_id": None})  # no error, nothing kept for it
    assert sid not in widget.session_of
