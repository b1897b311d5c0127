"""Limits that hold across hub processes (Redis): sign-in throttling, a polite "one
moment" when a conversation or a socket sends too much, nothing lost either way."""

import asyncio
import uuid

from bot import limits
from contract import keys
from tests.hub.conftest import WidgetCustomer, login, rest_sender


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
