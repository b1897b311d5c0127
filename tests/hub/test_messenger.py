"""Messenger against a local fake Graph API that records what it receives, with webhook
payloads shaped as Meta documents them; the real hub and Redis, with the trained Rasa for
whole conversations and the stand-in (tests/hub/conftest.py) for the channel's own logic."""

import hashlib
import hmac
import json
import time

import pytest
from redis import asyncio as aioredis

from bot.channels.graph import split_text, to_messenger
from bot.channels.routes import MESSENGER
from contract import keys, memory
from tests.hub.helpers import APP_SECRET as SECRET
from tests.hub.helpers import INTROS, PAGE, VERIFY, WidgetCustomer, batch, deliver, login, psid, text_event
from tests.shop import new_customer


@pytest.fixture
async def fb(make_hub, graph):
    return await make_hub(
        fb_verify_token=VERIFY,
        fb_app_secret=SECRET,
        fb_page_token="page-token",
        fb_graph_url=graph.url,
        agent_online_seconds=0.001,
    )


@pytest.fixture
async def fb_fake(make_hub_fake, graph):
    """The same, on the stand-in Rasa: for the channel's own logic."""
    return await make_hub_fake(
        fb_verify_token=VERIFY, fb_app_secret=SECRET, fb_page_token="page-token", fb_graph_url=graph.url
    )


async def test_subscription_verification(fb_fake, make_hub_fake):
    ok = await fb_fake.get(
        "/webhooks/facebook/webhook",
        params={"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"},
    )
    assert ok.status == 200 and await ok.text() == "1158201444"
    wrong = await fb_fake.get(
        "/webhooks/facebook/webhook",
        params={"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "x"},
    )
    assert wrong.status == 403
    off = await make_hub_fake()  # no credentials: the channel is off and says so
    response = await off.get("/webhooks/facebook/webhook")
    assert response.status == 404 and "FB_APP_SECRET" in (await response.json())["error"]


async def test_a_missing_or_wrong_signature_is_refused_and_nothing_is_done(fb_fake, graph):
    user = psid()
    body = batch([text_event(user, "hello")])
    assert (await deliver(fb_fake, body, signature="")).status == 403
    assert (await deliver(fb_fake, body, signature="sha256=" + "0" * 64)).status == 403
    assert (await deliver(fb_fake, body, signature="sha1=abc")).status == 403
    assert graph.to(user) == []
    assert (
        await fb_fake.post(
            "/webhooks/facebook/webhook",
            data=b"{bad",
            headers={
                "X-Hub-Signature-256": "sha256="
                + hmac.new(SECRET.encode(), b"{bad", hashlib.sha256).hexdigest()
            },
        )
    ).status == 400


async def test_every_event_of_a_batch_is_handled_and_receipts_are_ignored(fb, graph):
    first, second = psid(), psid()
    echo = {
        "sender": {"id": PAGE},
        "recipient": {"id": first},
        "timestamp": 1,
        "message": {"is_echo": True, "app_id": 1, "mid": "m_echo", "text": "our own reply"},
    }
    delivery = {
        "sender": {"id": first},
        "recipient": {"id": PAGE},
        "delivery": {"mids": ["m_echo"], "watermark": 1},
    }
    read = {"sender": {"id": second}, "recipient": {"id": PAGE}, "timestamp": 2, "read": {"watermark": 1}}
    response = await deliver(
        fb, batch([text_event(first, "hi"), echo, delivery], [read, text_event(second, "xin chào shop")])
    )
    assert response.status == 200
    assert graph.texts(first) and graph.texts(second)
    actions = [c.get("sender_action") for c in graph.to(first) if "sender_action" in c]
    assert actions == ["mark_seen", "typing_on"]  # once: receipts and echoes did nothing
    assert any("Chào" in t or "chào" in t for t in graph.texts(second))


async def test_a_redelivered_mid_is_processed_once(fb_fake, graph, redis):
    user = psid()
    event = text_event(user, "hello", mid="m_redelivered_" + user)
    await deliver(fb_fake, batch([event]))
    replies = len(graph.texts(user))
    assert replies >= 1  # the first delivery was answered
    await deliver(fb_fake, batch([event]))
    assert len(graph.texts(user)) == replies  # the second was not, nor transcribed again
    log = await redis.xrange(keys.transcript(f"fb-{user}"))
    assert [e["text"] for _, e in log if e["from"] == "customer"] == ["hello"]


async def test_typing_indicator_and_seen_come_before_the_reply(fb_fake, graph):
    user = psid()
    await deliver(fb_fake, batch([text_event(user, "my parcel still hasn't arrived")]))
    kinds = [
        "sender_action:" + c["sender_action"] if "sender_action" in c else "message" for c in graph.to(user)
    ]
    assert kinds[:2] == ["sender_action:mark_seen", "sender_action:typing_on"]
    assert "message" in kinds[2:]
    assert all(c["token"] == "page-token" for c in graph.to(user))
    assert all(c.get("messaging_type") == "RESPONSE" for c in graph.to(user) if "message" in c)


def test_long_text_is_split_at_word_boundaries_never_cut():
    text = " ".join(f"word{i}" for i in range(400))  # ~3000 characters
    parts = split_text(text)
    assert all(len(p) <= 640 for p in parts) and len(parts) >= 4
    assert " ".join(parts) == text
    assert all(not p.startswith(" ") and not p.endswith(" ") for p in parts)


def test_buttons_become_at_most_13_quick_replies_with_short_titles():
    buttons = [{"title": f"Option number {i} with a long title", "payload": f"/p{i}"} for i in range(15)]
    parts = to_messenger({"text": "x " * 500, "buttons": buttons})
    assert len(parts) == 2 and "quick_replies" not in parts[0]
    quick = parts[-1]["quick_replies"]
    assert len(quick) == 13 and all(len(q["title"]) <= 20 for q in quick)
    assert quick[0] == {"content_type": "text", "title": "Option number 0…", "payload": "/p0"}


async def test_quick_replies_and_postbacks_are_understood(fb, graph):
    user = psid()
    await deliver(
        fb,
        batch(
            [
                {
                    "sender": {"id": user},
                    "recipient": {"id": PAGE},
                    "timestamp": 1,
                    "postback": {"title": "Get Started", "payload": "GET_STARTED", "mid": f"m_pb_{user}"},
                }
            ]
        ),
    )
    said = graph.texts(user)
    assert said[0] in INTROS and said[1].startswith("Hi!")  # first of all: an automated assistant
    await deliver(fb, batch([text_event(user, "the glass set arrived smashed, order 2207718")]))
    offer = [c for c in graph.to(user) if c.get("message", {}).get("quick_replies")][-1]
    titles = [q["title"] for q in offer["message"]["quick_replies"]]
    assert "Talk to a person" in titles and all(len(t) <= 20 for t in titles)
    await deliver(fb, batch([text_event(user, "Talk to a person", quick_reply="/request_human")]))
    assert any("passing your conversation to a colleague" in t for t in graph.texts(user))


async def test_an_attachment_is_acknowledged_politely(fb_fake, graph):
    user = psid()
    event = {
        "sender": {"id": user},
        "recipient": {"id": PAGE},
        "timestamp": 1,
        "message": {
            "mid": f"m_att_{user}",
            "attachments": [{"type": "image", "payload": {"url": "https://example.com/broken.jpg"}}],
        },
    }
    await deliver(fb_fake, batch([event]))
    assert any("I can only read text here" in t for t in graph.texts(user))


async def test_send_api_5xx_and_429_are_retried(fb, graph):
    user = psid()
    graph.fail_with, graph.fail_for = [500, 429], user  # mark_seen fails twice, then goes through
    await deliver(fb, batch([text_event(user, "hello")]))
    seen = [c for c in graph.to(user) if c.get("sender_action") == "mark_seen"]
    assert len(seen) == 3 and graph.texts(user)


async def test_complaint_handoff_agent_reply_and_hand_back_over_messenger(fb, graph):
    user = psid()
    await deliver(fb, batch([text_event(user, "I was charged twice for my last purchase")]))
    await deliver(fb, batch([text_event(user, "just put me through to a real person please")]))
    assert any("passing your conversation" in t for t in graph.texts(user))
    cid = f"fb-{user}"
    await login(fb)
    detail = await (await fb.get(f"/api/agent/conversations/{cid}")).json()
    assert detail["state"] == "queued" and detail["window"]["state"] == "open"
    assert detail["packet"]["channel"] == "messenger"
    assert (await fb.post(f"/api/agent/conversations/{cid}/claim")).status == 200
    response = await fb.post(
        f"/api/agent/conversations/{cid}/messages",
        json={"text": "Hi, I can see the double charge; refunding it now."},
    )
    assert response.status == 200
    sent = [c for c in graph.to(user) if c.get("message", {}).get("text", "").startswith("Hi, I can see")]
    assert sent and sent[-1]["messaging_type"] == "RESPONSE"
    response = await fb.post(
        f"/api/agent/conversations/{cid}/handback", json={"note": "the duplicate charge is being refunded"}
    )
    assert response.status == 200, await response.text()
    csat = [c for c in graph.to(user) if len(c.get("message", {}).get("quick_replies", [])) == 5]
    assert csat and "how happy are you" in csat[-1]["message"]["text"]
    assert any("To recap: the duplicate charge is being refunded" in t for t in graph.texts(user))


async def test_the_24_hour_rule_with_a_controlled_clock(fb_fake, graph):
    user = psid()
    await deliver(fb_fake, batch([text_event(user, "/request_human")]))
    cid = f"fb-{user}"
    await login(fb_fake)
    assert (await fb_fake.post(f"/api/agent/conversations/{cid}/claim")).status == 200
    channel = fb_fake.server.app[MESSENGER]
    start = time.time()

    channel.clock = lambda: start + 25 * 3600  # a day later: only a human agent, tagged
    detail = await (await fb_fake.get(f"/api/agent/conversations/{cid}")).json()
    assert detail["window"]["state"] == "human_agent_only"
    await fb_fake.post(
        f"/api/agent/conversations/{cid}/messages", json={"text": "Following up on your case."}
    )
    tagged = [c for c in graph.to(user) if c.get("message", {}).get("text") == "Following up on your case."]
    assert tagged[-1]["messaging_type"] == "MESSAGE_TAG" and tagged[-1]["tag"] == "HUMAN_AGENT"
    before = len(graph.to(user))
    refused = await fb_fake.post(f"/api/agent/conversations/{cid}/handback", json={"note": "done"})
    assert refused.status == 409  # the bot never writes outside 24 h
    assert len(graph.to(user)) == before

    channel.clock = lambda: start + 8 * 24 * 3600  # past 7 days: nobody may write on Messenger
    held = await fb_fake.post(f"/api/agent/conversations/{cid}/messages", json={"text": "Hello?"})
    # Not attempted on Messenger: without an email address it is a task for the team (core/windows.py).
    assert held.status == 200 and (await held.json())["delivered"] == "task"
    assert len(graph.to(user)) == before
    assert (await (await fb_fake.get(f"/api/agent/conversations/{cid}")).json())["window"][
        "state"
    ] == "closed"
    tasks = (await (await fb_fake.get("/api/agent/callbacks")).json())["callbacks"]
    assert any(t["conversation_id"] == cid and "messenger window is closed" in t["reason"] for t in tasks)
    await fb_fake.post(f"/api/agent/callbacks/{cid}", json={"outcome": "done"})


async def test_a_widget_customer_is_known_on_messenger_only_after_proving_an_order(fb, graph, redis_url):
    lan = new_customer(redis_url, orders=(("in_transit", 900_000),))
    order_id = lan.order.order_id
    widget = WidgetCustomer(str(fb.make_url("/")))
    session_id = await widget.connect()
    try:
        await widget.say(f"my parcel is late, order {order_id}")
        await widget.until(lambda m: "quick_replies" in m)  # the proof question
        await widget.say(f"it's {lan.customer.email}")
        await widget.until(lambda m: "quick_replies" in m)  # the order and the offers
    finally:
        await widget.close()
    redis = aioredis.from_url(redis_url, decode_responses=True)

    async def proved_as(cid):
        proof = await memory.session_proof(redis, cid, time.time())
        return proof.customer_id if proof else None

    try:
        web_customer = await proved_as(session_id.rpartition(".")[0])
        assert web_customer == await redis.get(keys.identity("shop", lan.customer.id))
        # On Messenger, the email alone is no proof: not welcomed, nothing recalled.
        user = psid()
        await deliver(fb, batch([text_event(user, f"hi, it's me again, {lan.customer.email}")]))
        said = " ".join(graph.texts(user))
        assert "Welcome back" not in said and order_id not in said
        assert await proved_as(f"fb-{user}") is None
        # Proving the order with the phone on it joins the two channels.
        await deliver(fb, batch([text_event(user, f"my parcel is late, order {order_id}")]))
        await deliver(fb, batch([text_event(user, lan.customer.phone)]))
        assert any("that matches" in t for t in graph.texts(user)), graph.texts(user)
        assert await proved_as(f"fb-{user}") == web_customer
    finally:
        await redis.close(close_connection_pool=True)


async def test_an_internal_note_is_never_sent_to_messenger(fb, graph):
    user = psid()
    await deliver(fb, batch([text_event(user, "I was charged twice for my last purchase")]))
    await deliver(fb, batch([text_event(user, "just put me through to a real person please")]))
    cid = f"fb-{user}"
    await login(fb)
    try:
        note = "NOTE-ONLY-FOR-AGENTS: refund approved by finance"
        response = await fb.post(f"/api/agent/conversations/{cid}/notes", json={"text": note + " (queued)"})
        assert response.status == 200, await response.text()
        assert (await fb.post(f"/api/agent/conversations/{cid}/claim")).status == 200
        assert (await fb.post(f"/api/agent/conversations/{cid}/notes", json={"text": note})).status == 200
        response = await fb.post(
            f"/api/agent/conversations/{cid}/messages", json={"text": "Refunding it now."}
        )
        assert response.status == 200
        assert graph.texts(user)[-1] == "Refunding it now."
        assert not any("NOTE-ONLY" in json.dumps(call) for call in graph.to(user))
    finally:
        await fb.post(f"/api/agent/conversations/{cid}/resolve", json={})


async def test_signed_but_malformed_events_are_a_200_and_nothing_else(fb_fake, graph, redis_url):
    """Found by the fault run's fuzz phase: shapes Meta never sends, correctly signed."""
    user = psid()
    odd = [
        {"sender": 7},
        {"sender": {"id": {"x": 1}}, "message": {"text": "hi"}},
        {"sender": {"id": "a:b"}, "message": {"mid": "m_1", "text": "hi"}},
        {"sender": {"id": user}, "message": {"mid": "m:x:log", "text": 5}},
        {"sender": {"id": user}, "message": {"mid": f"m_att_odd_{user}", "attachments": [7, {"type": {}}]}},
    ]
    for body in ({"object": "page", "entry": 5}, {"object": "page", "entry": [{"messaging": 3}]}, batch(odd)):
        assert (await deliver(fb_fake, body)).status == 200
    assert graph.to("a:b") == []  # not a PSID: no conversation, no keys, no answer
    redis = aioredis.from_url(redis_url, decode_responses=True)
    try:
        assert await redis.exists("sr:conv:fb-a:b") == 0
        # The attachment was still acknowledged; the odd message id was hashed.
        assert any("I can only read text here" in t for t in graph.texts(user))
        assert not await redis.keys(f"sr:conv:fb-{user}:seen:m:*")
    finally:
        await redis.close(close_connection_pool=True)
