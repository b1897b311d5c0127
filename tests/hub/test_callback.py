"""Call-back tasks: "Call me back" asks for the number (or offers the verified one on
record, masked) and a time window, books a task the agents see with its own badge, and
the agent marks it done or "no answer" from the console's API."""

from datetime import datetime, timedelta, timezone
import json
from types import SimpleNamespace

from redis import asyncio as aioredis

from bot.aftercare.callback import CallBacks
from bot.core.texts import Texts
from bot.settings import Settings
from contract import keys
from tests.hub.helpers import WidgetCustomer, login


async def queued(client):
    customer = WidgetCustomer(str(client.make_url("/")))
    session_id = await customer.connect()
    await customer.say("I was charged twice for my last purchase")
    await customer.until(lambda m: "Which order" in m.get("text", "") or "quick_replies" in m)
    await customer.say("/request_human")
    await customer.until(lambda m: any(q["payload"] == "/followup_call" for q in m.get("quick_replies", [])))
    return customer, session_id.rpartition(".")[0]


async def test_call_me_back_asks_number_and_time_then_the_agent_sees_and_closes_the_task(hub):
    customer, cid = await queued(hub)
    try:
        await customer.say("/followup_call")
        assert "Which phone number" in (await customer.next())["text"]
        await customer.say("hmm, not sure")
        assert "couldn't read a phone number" in (await customer.next())["text"]
        await customer.say("my number is 0912 345 678")
        ask = await customer.next()
        assert "ending in …678" in ask["text"]
        assert [q["payload"] for q in ask["quick_replies"]] == [
            "/callback_morning",
            "/callback_afternoon",
            "/callback_evening",
        ]
        await customer.say("/callback_afternoon")
        booked = (await customer.next())["text"]
        assert "will call you on the number ending in …678" in booked
        assert "between 12:00 and 17:00" in booked
        assert " today " in booked or " tomorrow " in booked

        # The agent's console lists the task, with the full number.
        assert (await hub.get("/api/agent/callbacks")).status == 401
        await login(hub)
        tasks = (await (await hub.get("/api/agent/callbacks")).json())["callbacks"]
        [task] = [t for t in tasks if t["conversation_id"] == cid]
        assert task["phone"] == "0912 345 678" and (task["from"], task["to"]) == ("12:00", "17:00")
        queue = (await (await hub.get("/api/agent/queue")).json())["queue"]
        assert [c["followup"] for c in queue if c["id"] == cid] == ["call"]

        # No answer: the customer is told, and the task stays with the attempt counted.
        response = await hub.post(f"/api/agent/callbacks/{cid}", json={"outcome": "no_answer"})
        assert response.status == 200
        assert "couldn't reach you" in (await customer.next())["text"]
        tasks = (await (await hub.get("/api/agent/callbacks")).json())["callbacks"]
        assert [t["attempts"] for t in tasks if t["conversation_id"] == cid] == [1]

        # Done: the task leaves the list; both calls are in the transcript.
        response = await hub.post(f"/api/agent/callbacks/{cid}", json={"outcome": "done", "note": "sorted"})
        assert response.status == 200
        tasks = (await (await hub.get("/api/agent/callbacks")).json())["callbacks"]
        assert cid not in [t["conversation_id"] for t in tasks]
        transcript = (await (await hub.get(f"/api/agent/conversations/{cid}")).json())["transcript"]
        notes = [e["text"] for e in transcript if e["from"] == "system"]
        assert any(n.startswith("call-back: no answer") for n in notes)
        assert any(n.startswith("call-back done by agent") and n.endswith(": sorted") for n in notes)

        # Bad input: a clear 4xx.
        for body, status in (
            ({"outcome": "maybe"}, 400),
            ({"outcome": "done", "note": 5}, 400),
            ({"outcome": "done"}, 404),
        ):
            response = await hub.post(f"/api/agent/callbacks/{cid}", json=body)
            assert response.status == status and "error" in await response.json()
        assert (await hub.post("/api/agent/callbacks/nobody", json=[])).status == 400
    finally:
        await customer.close()


async def test_a_verified_customers_number_on_record_is_offered_masked(hub, redis_url):
    customer, cid = await queued(hub)
    redis = aioredis.from_url(redis_url, decode_responses=True)
    try:
        # What the trust work puts in the packet for a verified customer.
        packet = json.loads(await redis.hget(keys.conversation(cid), "packet"))
        packet["customer"]["phone"] = "+84 987 654 321"
        await redis.hset(keys.conversation(cid), "packet", json.dumps(packet))
        await customer.say("/followup_call")
        ask = await customer.next()
        assert "on your account, ending in …321" in ask["text"] and "987" not in ask["text"]
        await customer.say("/callback_morning")
        assert "between 08:00 and 12:00" in (await customer.next())["text"]
    finally:
        await redis.close(close_connection_pool=True)
        await customer.close()


def test_the_window_is_today_while_it_is_still_open_else_tomorrow():
    vietnam = timezone(timedelta(hours=7))
    settings = Settings(support_utc_offset=7)
    store = SimpleNamespace(redis=None)

    def slot(hour, minute, payload):
        now = datetime(2026, 11, 23, hour, minute, tzinfo=vietnam).timestamp()
        return CallBacks(store, Texts(), settings, clock=lambda: now)._slot(payload)

    assert slot(10, 0, "/callback_afternoon")["day"] == "today"
    assert slot(15, 30, "/callback_afternoon")["day"] == "today"
    assert slot(16, 30, "/callback_afternoon")["day"] == "tomorrow"  # under an hour left
    assert slot(22, 0, "/callback_morning")["day"] == "tomorrow"
    assert (
        slot(9, 0, "/callback_morning")["starts_at"]
        == datetime(2026, 11, 23, 9, 0, tzinfo=vietnam).timestamp()
    )  # already in the window: now
