"""Routing in each state, handoff, agents, hand-back, Rasa away, auth, bad input:
the real hub against real Redis; whole conversations with the really trained Rasa +
action server, the hub's own logic (auth, bad input, sessions, states) with the
stand-in for Rasa (tests/hub/conftest.py)."""

import asyncio
import json
import re

from redis import asyncio as aioredis

from bot.web.signing import sign
from contract import keys
from contract.handoff import Severity, read_packet
from scripts.stack import free_port
from tests.hub.helpers import WidgetCustomer, a_packet, login, rest_sender
from tests.shop import new_customer


async def say(client, sender, message, **extra):
    response = await client.post(
        "/webhooks/rest/webhook", json={"sender": sender, "message": message, **extra}
    )
    assert response.status == 200, await response.text()
    return await response.json()


def texts(replies):
    return " ".join(r.get("text", "") for r in replies)


async def state_of(redis_url, cid):
    redis = aioredis.from_url(redis_url, decode_responses=True)
    try:
        return await redis.hgetall(keys.conversation(cid)), await redis.xrange(keys.transcript(cid))
    finally:
        await redis.close(close_connection_pool=True)


async def test_in_bot_state_messages_go_to_rasa_and_everything_is_transcribed(hub, redis_url):
    sender = rest_sender()
    replies = await say(hub, sender, "I was charged twice for my last purchase")
    assert all(r["recipient_id"] == sender for r in replies)
    assert "Which order" in texts(replies)
    conv, log = await state_of(redis_url, f"rest-{sender}")
    assert conv["state"] == "bot" and conv["channel"] == "rest"
    assert [entry["from"] for _, entry in log][:2] == ["customer", "bot"]


async def test_handoff_queues_with_the_packet_and_later_messages_go_to_agents(hub, redis_url):
    sender = rest_sender()
    await say(hub, sender, "I was charged twice for my last purchase")
    replies = await say(hub, sender, "just put me through to a real person please")
    assert "passing your conversation to a colleague" in texts(replies)
    assert not any("custom" in r for r in replies)  # the packet is for agents, not customers
    # Nobody online: say when, offer a call back or an email.
    assert "isn't online right now" in texts(replies) and "will reply by" in texts(replies)
    assert [b["payload"] for b in replies[-1]["buttons"]] == ["/followup_call", "/followup_email"]
    cid = f"rest-{sender}"
    conv, _ = await state_of(redis_url, cid)
    packet = json.loads(conv["packet"])
    assert conv["state"] == "queued" and packet["reason"] == "customer_asked"
    assert packet["intents"] == ["complain_billing", "request_human"]

    # Now the customer's messages go to the agents, not to Rasa.
    more = await say(hub, sender, "hello? is anyone there")
    assert "added that to your case" in texts(more)
    # Still nobody online: the same "reply by" as the handoff, not "in about N minutes".
    assert "will reply by" in texts(more) and "minutes" not in texts(more)
    followup = await say(hub, sender, "/followup_email")
    assert "email you" in texts(followup)
    conv, log = await state_of(redis_url, cid)
    assert conv["followup"] == "email"
    assert "hello? is anyone there" in [e["text"] for _, e in log]


async def test_a_redelivered_message_is_handled_once(hub_fake, redis_url):
    sender = rest_sender()
    first = await say(hub_fake, sender, "hi", metadata={"message_id": "m-1"})
    again = await say(hub_fake, sender, "hi", metadata={"message_id": "m-1"})
    assert first and again == []
    _, log = await state_of(redis_url, f"rest-{sender}")
    assert [e["text"] for _, e in log].count("hi") == 1


async def test_rasa_away_means_an_apology_within_seconds_and_a_queue_place(make_hub, redis_url):
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there: Rasa is stopped
    client = await make_hub(rasa_url=dead, rasa_timeout=2.0, agent_online_seconds=0.001)
    sender = rest_sender()
    loop = asyncio.get_running_loop()
    started = loop.time()
    replies = await say(client, sender, "my parcel never arrived, order 1048213")
    assert loop.time() - started < 5
    assert "having trouble answering" in texts(replies) and "nothing you wrote is lost" in texts(replies)
    conv, log = await state_of(redis_url, f"rest-{sender}")
    packet = read_packet(json.loads(conv["packet"]))  # the assistant's own packet type
    assert conv["state"] == "queued" and packet.reason == "assistant_unavailable"
    assert packet.conversation_id == f"rest-{sender}" and packet.channel == "rest"
    # Summarised in both languages, with the customer's words; a case reference they were told.
    assert "my parcel never arrived, order 1048213" in packet.summary.en
    assert "Tin nhắn cuối của khách" in packet.summary.vi
    assert re.fullmatch(r"SR-[A-Z2-9]{6}", packet.case_ref) and packet.case_ref in texts(replies)
    # The transcript is the hub's, kept once beside the packet.
    assert "transcript" not in json.loads(conv["packet"])
    assert [e["text"] for _, e in log][0] == "my parcel never arrived, order 1048213"
    health = await client.get("/health")
    assert (await health.json())["rasa"] == "down"


async def test_with_several_rasa_servers_a_stopped_one_is_skipped(make_hub, assistant):
    # Round-robin over a stopped server and the live one: every message still reaches
    # the live Rasa (whichever comes first in turn), and /health names each server.
    dead = f"http://127.0.0.1:{free_port()}"
    client = await make_hub(rasa_url=f"{dead},{assistant.rasa_url}", agent_online_seconds=0.001)
    sender = rest_sender()
    first = await say(client, sender, "I was charged twice for my last purchase")
    second = await say(client, sender, "it's 1048213")
    assert "Which order" in texts(first)
    assert "1048213" in texts(second) and "having trouble answering" not in texts(second)
    health = await (await client.get("/health")).json()
    assert health["rasa"] == "ok"
    assert health["rasa_servers"] == {dead: "down", assistant.rasa_url: "ok"}


async def test_the_agent_api_and_console_need_a_login(hub_fake):
    for method, path in [
        ("GET", "/api/agent/queue"),
        ("GET", "/api/agent/conversations/x"),
        ("POST", "/api/agent/conversations/x/claim"),
        ("POST", "/api/agent/conversations/x/messages"),
        ("GET", "/api/agent/ws"),
    ]:
        response = await hub_fake.request(method, path)
        assert response.status == 401, path
    page = await hub_fake.get("/agent", allow_redirects=False)
    assert page.status == 302 and page.headers["Location"] == "/agent/login"
    wrong = await hub_fake.post("/api/agent/login", json={"name": "agent", "password": "guess"})
    assert wrong.status == 401
    forged = await hub_fake.get("/api/agent/queue", cookies={"sr_agent": sign("made-up", "test-secret")})
    assert forged.status == 401


async def test_bad_input_gets_a_clear_4xx_and_nothing_is_stored(hub_fake, redis_url):
    cases = [
        (b"{not json", 400),
        (json.dumps(["a list"]).encode(), 400),
        (json.dumps({"message": "hi"}).encode(), 400),
        (json.dumps({"sender": "a b/c", "message": "hi"}).encode(), 400),
        (json.dumps({"sender": "ok1", "message": ""}).encode(), 400),
        (json.dumps({"sender": "ok2", "message": "x" * 2001}).encode(), 413),
        (json.dumps({"sender": "ok3", "message": "hi", "metadata": "nope"}).encode(), 400),
    ]
    for body, status in cases:
        response = await hub_fake.post(
            "/webhooks/rest/webhook", data=body, headers={"Content-Type": "application/json"}
        )
        assert response.status == status, body
        assert "error" in await response.json()
    for sender in ("ok1", "ok2", "ok3"):
        conv, log = await state_of(redis_url, f"rest-{sender}")
        assert conv == {} and log == []
    await login(hub_fake)
    assert (await hub_fake.get("/api/agent/conversations/rest-nobody")).status == 404
    assert (await hub_fake.post("/api/agent/conversations/rest-nobody/claim")).status == 404


async def test_widget_customer_handoff_agent_reply_and_hand_back(make_hub, redis_url):
    glasses = new_customer(redis_url, orders=(("delivered", 480_000),))
    order_id = glasses.order.order_id
    client = await make_hub(agent_online_seconds=60)
    await login(client)
    # The console is open: the agent is online and sees the queue live.
    ws = await client.ws_connect("/api/agent/ws", headers={"Origin": str(client.make_url("")).rstrip("/")})
    customer = WidgetCustomer(str(client.make_url("/")))
    session_id = await customer.connect()
    try:
        await customer.say(f"the glass set arrived smashed, order {order_id}")
        # A stranger: proof is asked before anything of the order is shown.
        asked = await customer.until(lambda m: "quick_replies" in m)
        assert any(f"look into order {order_id} once I know" in m.get("text", "") for m in asked)
        assert not any(glasses.order.items["en"] in m.get("text", "") for m in asked)
        await customer.say("/request_human")
        queued = await customer.until(lambda m: " in line" in m.get("text", ""))
        assert any("passing your conversation" in m.get("text", "") for m in queued)

        cid = session_id.rpartition(".")[0]
        event = await asyncio.wait_for(ws.receive_json(), 10)
        while event.get("type") != "queue":
            event = await asyncio.wait_for(ws.receive_json(), 10)
        listing = await (await client.get("/api/agent/queue")).json()
        # The customer was told their real place (other tests' conversations may wait too).
        position = [c["id"] for c in listing["queue"]].index(cid) + 1
        assert f"You're number {position} in line." in queued[-1]["text"]
        # Writing again while waiting, with an agent online: the place and the minutes.
        await customer.say("are you there?")
        waiting = await customer.until(lambda m: "added that to your case" in m.get("text", ""))
        assert " in line" in waiting[-1]["text"] and "minutes" in waiting[-1]["text"]
        detail = await (await client.get(f"/api/agent/conversations/{cid}")).json()
        # The agent sees the order, marked as claimed (not proved by the customer).
        assert detail["packet"]["order"] is None
        assert detail["packet"]["claimed_order"]["order_id"] == order_id
        assert detail["packet"]["details_trust"] == {"order_id": "claimed"}
        assert detail["transcript"][0]["text"] == f"the glass set arrived smashed, order {order_id}"

        assert (await client.post(f"/api/agent/conversations/{cid}/claim")).status == 200
        assert (await client.post(f"/api/agent/conversations/{cid}/claim")).status == 409
        joined = await customer.next()
        assert "from our team has joined" in joined["text"]
        await client.post(
            f"/api/agent/conversations/{cid}/messages",
            json={"text": "Hi, I'm sending a new set today by express."},
        )
        reply = await customer.next()
        assert reply["text"] == "Hi, I'm sending a new set today by express."

        response = await client.post(
            f"/api/agent/conversations/{cid}/handback",
            json={"note": "a new glass set goes out today by express"},
        )
        assert response.status == 200, await response.text()
        recap = await customer.until(lambda m: len(m.get("quick_replies", [])) == 5)
        # Back with the assistant, on every channel, it says first that it is automated.
        assert "you're back with the shop's automated assistant" in recap[0]["text"]
        assert "To recap: a new glass set goes out today by express" in recap[1]["text"]
        conv, _ = await state_of(redis_url, cid)
        assert conv["state"] == "bot"
    finally:
        await customer.close()
        await ws.close()


async def test_a_forged_or_foreign_session_id_starts_a_new_conversation(hub_fake):
    owner = WidgetCustomer(str(hub_fake.make_url("/")))
    owner_session = await owner.connect()
    cid = owner_session.rpartition(".")[0]
    intruders = []
    try:
        for forged in (cid, cid + ".AAAAAAAAAAAAAAAAAAAAAAAA", sign(cid, "another-secret"), 42):
            intruder = WidgetCustomer(str(hub_fake.make_url("/")))
            intruders.append(intruder)
            issued = await intruder.connect(session_id=forged)
            assert issued != owner_session and issued.rpartition(".")[0] != cid
        # The owner's replies never reach anyone else. Each socket gets its messages in
        # order: had an intruder joined the owner's room, the owner's reply (already sent)
        # would reach it before the reply to its own message.
        await owner.say("my parcel is late")
        owners = (await owner.next())["metadata"]["message_id"]
        for intruder in intruders:
            await intruder.say("hi")
            first = await intruder.next()
            assert first["metadata"]["message_id"] != owners and "order" not in first.get("text", "")
    finally:
        await owner.close()
        for intruder in intruders:
            await intruder.close()


async def test_a_reload_keeps_the_same_conversation(hub_fake, redis_url):
    first = WidgetCustomer(str(hub_fake.make_url("/")))
    session_id = await first.connect()
    await first.say("hi")
    await first.intro()
    await first.next()
    await first.close()
    again = WidgetCustomer(str(hub_fake.make_url("/")))
    try:
        assert await again.connect(session_id=session_id) == session_id
        await again.say("my parcel is late")
        await again.next()
        _, log = await state_of(redis_url, session_id.rpartition(".")[0])
        assert [e["text"] for _, e in log if e["from"] == "customer"] == ["hi", "my parcel is late"]
    finally:
        await again.close()


async def test_waiting_customers_hear_we_are_still_here(make_hub_fake):
    client = await make_hub_fake(agent_online_seconds=0.001, still_here_after=1.0)
    customer = WidgetCustomer(str(client.make_url("/")))
    await customer.connect()
    try:
        await customer.say("/request_human")
        await customer.until(lambda m: "isn't online" in m.get("text", ""))
        still = await customer.until(lambda m: "Still here with you" in m.get("text", ""), timeout=10)
        assert "number" in still[-1]["text"]
    finally:
        await customer.close()


async def test_the_console_socket_refuses_another_origin(hub_fake):
    await login(hub_fake)
    response = await hub_fake.get(
        "/api/agent/ws",
        headers={
            "Origin": "https://evil.example",
            "Connection": "Upgrade",
            "Upgrade": "websocket",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        },
    )
    assert response.status == 403


async def test_health_reports_its_dependencies(hub, make_hub):
    response = await hub.get("/health")
    assert response.status == 200
    body = await response.json()
    channels = body.pop("channels")
    memory = body.pop("redis_memory")  # the test Redis has no maxmemory: no percent, no warning
    assert body == {"hub": "ok", "redis": "ok", "rasa": "ok", "actions": "ok"}
    assert memory["used_bytes"] > 0 and memory["max_bytes"] == 0 and "warning" not in memory
    # Every channel describes itself (the Channel protocol, bot/core/channel.py).
    assert [c["name"] for c in channels] == ["web", "rest"] and all(c["delivery"] for c in channels)
    # An action server that is down shows (make run's supervisor is restarting it).
    away = await make_hub(action_url=f"http://127.0.0.1:{free_port()}")
    assert (await (await away.get("/health")).json())["actions"] == "down"


async def _queued_and_claimed(client, fake_rasa, sender):
    await say(client, sender, "/request_human")  # the stand-in Rasa hands over
    await login(client)
    cid = f"rest-{sender}"
    assert (await client.post(f"/api/agent/conversations/{cid}/claim")).status == 200
    return cid


async def test_hand_back_relays_images_and_a_new_handoff_like_any_turn(make_hub_fake, fake_rasa, redis):
    client = await make_hub_fake()
    sender = rest_sender()
    cid = await _queued_and_claimed(client, fake_rasa, sender)
    # The assistant answers the hand-back with a picture and hands over again at once.
    fake_rasa.more["/agent_handback"] = [
        {"image": "https://shop.example/label.png"},
        {
            "custom": {
                "handoff": a_packet(
                    reason="critical_severity", severity=Severity(level="critical", reasons=["safety_risk"])
                )
            }
        },
    ]
    response = await client.post(f"/api/agent/conversations/{cid}/handback", json={"note": "done"})
    assert response.status == 200, await response.text()
    log = [e for _, e in await redis.xrange(keys.transcript(cid))]
    assert any(json.loads(e["data"]).get("image") == "https://shop.example/label.png" for e in log)
    conv = await redis.hgetall(keys.conversation(cid))
    assert conv["state"] == "queued" and conv["severity"] == "critical"
    assert read_packet(json.loads(conv["packet"])).reason == "critical_severity"
    assert not any("handoff" in e["data"] for e in log)  # the packet is for agents, never sent


async def test_a_packet_of_another_version_is_queued_and_shown_raw(make_hub_fake, fake_rasa, redis):
    client = await make_hub_fake()
    sender = rest_sender()
    older = {"reason": "customer_asked", "severity": {"level": "high"}, "summary": {"en": "old shape"}}
    fake_rasa.more["help me"] = [{"custom": {"handoff": older}}]
    await say(client, sender, "help me")
    await login(client)
    detail = await (await client.get(f"/api/agent/conversations/rest-{sender}")).json()
    assert detail["state"] == "queued" and detail["packet_readable"] is False
    assert detail["packet"]["summary"] == {"en": "old shape"}  # kept as it came, for the console
    assert detail["packet"]["conversation_id"] == f"rest-{sender}"


async def test_the_hub_decides_the_language_per_message_and_keeps_it_without_evidence(make_hub_fake, redis):
    client = await make_hub_fake()
    sender = rest_sender()
    cid = f"rest-{sender}"
    for text, language in (
        ("shop oi hang giao tre qua", "vi"),
        ("1048213", "vi"),
        ("ok", "vi"),
        ("my parcel is late, where is it", "en"),
        ("/request_human", "en"),
    ):
        await say(client, sender, text)
        assert await redis.hget(keys.conversation(cid), "language") == language, text
