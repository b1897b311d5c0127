"""Catch-up: what a widget missed while it was away (or never rendered) is sent again
on reconnect, exactly once and in order, by whichever hub process it reconnects to;
REST callers fetch what they missed."""

from redis import asyncio as aioredis

from contract import keys
from tests.helpers import eventually
from tests.hub.helpers import WidgetCustomer, login, rest_sender


def mid(message):
    return (message.get("metadata") or {}).get("message_id")


def text(message):
    return message.get("text", "")


async def queued_widget_customer(client):
    """A widget customer who asked for a person; returns (customer, session id)."""
    customer = WidgetCustomer(str(client.make_url("/")))
    session_id = await customer.connect()
    await customer.say("I was charged twice for my last purchase")
    await customer.until(lambda m: "Which order" in text(m) or "quick_replies" in m)
    await customer.say("/request_human")
    await customer.until(
        lambda m: "quick_replies" in m and any(q["payload"] == "/followup_email" for q in m["quick_replies"])
    )
    return customer, session_id


async def agent_says(client, cid, words):
    response = await client.post(f"/api/agent/conversations/{cid}/messages", json={"text": words})
    assert response.status == 200, await response.text()


async def replay_until_marker(client, agent_client, cid, session_id, after, marker):
    """Reconnect, then have the agent send `marker`: everything received before the
    marker is what the reconnect replayed (no sleeps needed to know it is complete)."""
    again = WidgetCustomer(str(client.make_url("/")))
    await again.connect(session_id=session_id, after=after)
    await agent_says(agent_client, cid, marker)
    received = await again.until(lambda m: text(m) == marker)
    return again, received[:-1], received[-1]


async def test_a_widget_that_comes_back_gets_what_it_missed_once_and_in_order(make_hub):
    client = await make_hub(agent_online_seconds=0.001)
    customer, session_id = await queued_widget_customer(client)
    cid = session_id.rpartition(".")[0]
    last_seen = customer.last_id
    assert last_seen  # every message carries its id
    await customer.close()

    # While the customer is away, an agent claims the case and replies twice.
    await login(client)
    assert (await client.post(f"/api/agent/conversations/{cid}/claim")).status == 200
    await agent_says(client, cid, "Hi, I can see the double charge.")
    await agent_says(client, cid, "I've refunded the second one.")

    back, replayed, marker = await replay_until_marker(
        client, client, cid, session_id, last_seen, "first marker"
    )
    try:
        assert [text(m) for m in replayed][1:] == [
            "Hi, I can see the double charge.",
            "I've refunded the second one.",
        ]
        assert "has joined" in text(replayed[0])
        ids = [mid(m) for m in replayed + [marker]]
        assert all(ids) and len(set(ids)) == len(ids)
    finally:
        await back.close()

    # A second reconnect from where it stopped gets nothing new.
    again, replayed, _ = await replay_until_marker(
        client, client, cid, session_id, mid(marker), "second marker"
    )
    try:
        assert replayed == []
    finally:
        await again.close()


async def test_a_reload_in_the_middle_of_a_turn_gets_the_rest_of_the_turn(hub):
    customer = WidgetCustomer(str(hub.make_url("/")))
    session_id = await customer.connect()
    await customer.say("the glass set arrived smashed, order 2207718")
    turn = await customer.until(lambda m: "quick_replies" in m)
    assert len(turn) >= 2
    await customer.close()
    # The page had rendered only the first message of the turn when it reloaded.
    again = WidgetCustomer(str(hub.make_url("/")))
    try:
        await again.connect(session_id=session_id, after=mid(turn[0]))
        rest = await again.until(lambda m: "quick_replies" in m)
        assert [mid(m) for m in rest] == [mid(m) for m in turn[1:]]
        assert [text(m) for m in rest] == [text(m) for m in turn[1:]]
    finally:
        await again.close()


async def test_two_hub_processes_sharing_redis_agree_on_what_was_missed(make_hub):
    first = await make_hub(agent_online_seconds=0.001)
    second = await make_hub(agent_online_seconds=0.001)
    customer, session_id = await queued_widget_customer(first)
    cid = session_id.rpartition(".")[0]
    last_seen = customer.last_id
    await customer.close()

    await login(first)  # the agent works on the first process
    assert (await first.post(f"/api/agent/conversations/{cid}/claim")).status == 200
    await agent_says(first, cid, "Hello from the team.")

    # The customer comes back through the other process.
    back, replayed, marker = await replay_until_marker(
        second, first, cid, session_id, last_seen, "live through the other one"
    )
    try:
        assert "has joined" in text(replayed[0])
        assert [text(m) for m in replayed[1:]] == ["Hello from the team."]
    finally:
        await back.close()
    again, replayed, _ = await replay_until_marker(
        first, first, cid, session_id, mid(marker), "and back again"
    )
    try:
        assert replayed == []
    finally:
        await again.close()


async def acknowledged_in_redis(redis_url, cid, message_id):
    redis = aioredis.from_url(redis_url, decode_responses=True)
    try:

        async def acknowledged():
            return await redis.get(keys.acknowledged(cid)) == message_id

        await eventually(acknowledged, 10, f"{message_id} acknowledged in Redis")
    finally:
        await redis.close(close_connection_pool=True)


async def test_a_page_that_says_nothing_resumes_after_what_it_acknowledged(make_hub, redis_url):
    client = await make_hub(agent_online_seconds=0.001)
    customer, session_id = await queued_widget_customer(client)
    cid = session_id.rpartition(".")[0]
    await acknowledged_in_redis(redis_url, cid, customer.last_id)
    await customer.close()
    await login(client)
    assert (await client.post(f"/api/agent/conversations/{cid}/claim")).status == 200
    # No `after` from the page (e.g. its storage was cleared): the hub's acknowledged id.
    back, replayed, _ = await replay_until_marker(client, client, cid, session_id, None, "marker")
    try:
        assert len(replayed) == 1 and "has joined" in text(replayed[0])
    finally:
        await back.close()


async def test_rest_callers_fetch_what_they_missed(hub):
    sender = rest_sender()
    replies = []
    for words in ("I was charged twice for my last purchase", "just put me through to a real person please"):
        replies += await (
            await hub.post("/webhooks/rest/webhook", json={"sender": sender, "message": words})
        ).json()
    cid = f"rest-{sender}"
    everything = await hub.get("/webhooks/rest/messages", params={"sender": sender})
    assert everything.status == 200
    missed = (await everything.json())["messages"]
    assert [m["text"] for m in missed if m.get("text")] == [r["text"] for r in replies if r.get("text")]
    last = missed[-1]["id"]

    await login(hub)
    assert (await hub.post(f"/api/agent/conversations/{cid}/claim")).status == 200
    await agent_says(hub, cid, "I'm on it.")
    later = await (await hub.get("/webhooks/rest/messages", params={"sender": sender, "after": last})).json()
    assert [m["text"] for m in later["messages"]][-1] == "I'm on it."
    assert all(m["recipient_id"] == sender for m in later["messages"])
    nothing = await (
        await hub.get(
            "/webhooks/rest/messages", params={"sender": sender, "after": later["messages"][-1]["id"]}
        )
    ).json()
    assert nothing["messages"] == []

    for params in (
        {},
        {"sender": "bad sender!"},
        {"sender": sender, "after": "yesterday"},
        {"sender": sender, "after": "99999999999999999999-0"},
    ):
        bad = await hub.get("/webhooks/rest/messages", params=params)
        assert bad.status == 400 and "error" in await bad.json()
