"""Limits that hold across hub processes (Redis): sign-in throttling, a polite "one
moment" when a conversation or a socket sends too much, nothing lost either way."""

import asyncio
import contextlib
import json
import uuid

import pytest
import socketio

from bot.console import auth
from bot.core import limits
from bot.console.labels import ConsoleLabels
from bot.core.conversations import ConversationStore
from bot.core.reporting import Reporting
from bot.settings import DEMO_LOGIN
from contract import keys
from tests.hub.conftest import WidgetCustomer, login, rest_sender, without_intro


async def test_repeated_wrong_passwords_for_a_name_get_a_429_with_retry_after(make_hub_fake):
    hub = await make_hub_fake()
    name = f"nobody-{uuid.uuid4().hex[:8]}"
    for _ in range(limits.LOGIN_FAILURES_PER_NAME.most):
        response = await hub.post("/api/agent/login", json={"name": name, "password": "guess"})
        assert response.status == 401
    throttled = await hub.post("/api/agent/login", json={"name": name, "password": "guess"})
    assert throttled.status == 429 and "error" in await throttled.json()
    assert 0 < int(throttled.headers["Retry-After"]) <= limits.LOGIN_FAILURES_PER_NAME.window
    # Another hub process sharing Redis throttles the same name.
    other = await make_hub_fake()
    assert (await other.post("/api/agent/login", json={"name": name, "password": "x"})).status == 429


async def test_a_flood_in_one_conversation_gets_one_moment_and_loses_nothing(make_hub_fake, fake_rasa, redis):
    hub = await make_hub_fake()
    sender = rest_sender()
    most = limits.MESSAGES_PER_CONVERSATION.most
    for n in range(most):
        replies = await (await hub.post("/webhooks/rest/webhook", json={"sender": sender, "message": f"m{n}"})).json()
        replies = without_intro(replies) if n == 0 else replies
        assert replies[0]["text"] == f"heard: m{n}"
    replies = await (await hub.post("/webhooks/rest/webhook", json={"sender": sender, "message": "one more"})).json()
    assert "One moment" in replies[0]["text"]
    assert len(fake_rasa.sent_for(f"rest-{sender}")) == most  # not sent on to the assistant
    log = await redis.xrange(keys.transcript(f"rest-{sender}"))
    assert "one more" in [e["text"] for _, e in log if e["from"] == "customer"]


async def test_one_socket_cannot_start_calls_without_end(make_hub_fake, fake_rasa, redis):
    hub = await make_hub_fake()
    fake_rasa.gate = asyncio.Event()  # the assistant is slow: replies wait
    customer = WidgetCustomer(str(hub.make_url("/")))
    await customer.connect()
    try:
        for n in range(3):
            await customer.say(f"busy {n}")
        for _ in range(3):  # all three reached the assistant and are waiting
            await asyncio.wait_for(fake_rasa.arrived.get(), 10)
        await customer.say("and another")
        held = await customer.until(lambda m: "One moment" in m.get("text", ""))
        assert held
        assert fake_rasa.arrived.empty()  # the fourth was kept, not sent on...
        log = await redis.xrange(keys.transcript(customer.session_id.rpartition(".")[0]))
        assert "and another" in [e["text"] for _, e in log if e["from"] == "customer"]  # ...nor lost
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
    fake_rasa.gate = asyncio.Event()  # all five reach the assistant before any is answered

    async def flood():
        posts = [asyncio.create_task(hub.post("/webhooks/rest/webhook",
                                              json={"sender": sender, "message": "/request_human"}))
                 for _ in range(5)]
        for _ in posts:
            await asyncio.wait_for(fake_rasa.arrived.get(), 10)
        fake_rasa.gate.set()
        for response in await asyncio.gather(*posts):
            assert response.status == 200
            assert (await response.json())[-1]["text"]  # every request gets an answer
        queued_at = (await redis.hget(keys.conversation(cid), "queued_at"))
        # Asked again once queued: no second entry, the wait so far is kept.
        await hub.post("/webhooks/rest/webhook", json={"sender": sender, "message": "/request_human"})
        assert await redis.hget(keys.conversation(cid), "queued_at") == queued_at

    events = await queue_events(redis, cid, flood)
    assert len(events) == 1  # the agents are alerted once
    assert await redis.zscore(keys.QUEUE, cid) is not None


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
            response = await hub.post("/webhooks/rest/webhook", json={"sender": rest_sender(), "message": f"hi {n}"})
            assert response.status == 200
        for client in (hub, other):
            throttled = await client.post("/webhooks/rest/webhook", json={"sender": rest_sender(), "message": "hi"})
            assert throttled.status == 429 and "error" in await throttled.json()
            assert 0 < int(throttled.headers["Retry-After"]) <= 60
        assert (await hub.get(f"/webhooks/rest/messages?sender={rest_sender()}")).status == 429


async def test_messenger_deliveries_from_one_address_are_limited(make_hub_fake, redis):
    hub = await make_hub_fake(messenger_per_ip_minute=3)
    async with fresh_count(redis, "messenger-ip"):
        statuses = [(await hub.post("/webhooks/facebook/webhook", json={"object": "page", "entry": []})).status
                    for _ in range(4)]
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
    running, most = 0, 0
    real_check = auth.check_password

    def counting_check(password, hashed):  # the real scrypt check, counted
        nonlocal running, most
        running += 1
        most = max(most, running)
        try:
            return real_check(password, hashed)
        finally:
            running -= 1

    monkeypatch.setattr(auth, "check_password", counting_check)
    logins = await asyncio.gather(*[hub.post("/api/agent/login", json={"name": DEMO_LOGIN[0], "password": DEMO_LOGIN[1]})
                                    for _ in range(8)])
    assert [response.status for response in logins] == [200] * 8
    assert most == auth.SCRYPT_AT_ONCE
