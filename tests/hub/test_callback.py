"""Call-back tasks: "Call me back" asks for the number (or offers the verified one on
record, masked) and a time window, books a task the agents see with its own badge, and
the agent marks it done or "no answer" from the console's API."""

from datetime import datetime, timedelta, timezone
import json
import time
from types import SimpleNamespace
import uuid

from redis import asyncio as aioredis

from bot.aftercare import callback
from bot.aftercare.callback import CallBacks
from bot.core.texts import Texts
from bot.settings import Settings
from contract import keys
from tests.helpers import eventually
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


async def booked(client):
    """A widget customer handed over (the stand-in Rasa) while nobody is online books a
    call-back for the afternoon; returns the conversation id."""
    customer = WidgetCustomer(str(client.make_url("/")))
    session_id = await customer.connect()
    try:
        await customer.say("/request_human")
        await customer.until(
            lambda m: any(q["payload"] == "/followup_call" for q in m.get("quick_replies", []))
        )
        for text in ("/followup_call", "0912 345 678", "/callback_afternoon"):
            await customer.say(text)
            reply = await customer.next()
        assert "will call you" in reply["text"]
    finally:
        await customer.close()
    return session_id.rpartition(".")[0]


async def listed(client):
    response = await client.get("/api/agent/callbacks")
    assert response.status == 200
    return [task["conversation_id"] for task in (await response.json())["callbacks"]]


async def test_a_call_back_nobody_made_is_swept_with_a_note(hub_fake, redis):
    real = await booked(hub_fake)
    await login(hub_fake)
    assert real in await listed(hub_fake)
    # Its window started a day and a half ago and nobody called: the listing sweeps it.
    await redis.zadd(keys.CALLBACKS, {real: time.time() - callback.EXPIRES_AFTER - 60})
    assert real not in await listed(hub_fake)
    assert await redis.zscore(keys.CALLBACKS, real) is None
    transcript = (await (await hub_fake.get(f"/api/agent/conversations/{real}")).json())["transcript"]
    assert any(e["from"] == "system" and e["text"].startswith("call-back expired") for e in transcript)
    assert (await redis.hgetall(keys.callback(real)))["step"] == "expired"
    # Without anyone listing, the hub's background round sweeps too.
    other = await booked(hub_fake)
    await redis.zadd(keys.CALLBACKS, {other: time.time() - callback.EXPIRES_AFTER - 60})

    async def swept():
        return await redis.zscore(keys.CALLBACKS, other) is None

    await eventually(swept, 10, "the background round's sweep")


async def test_old_and_fake_bookings_cannot_hide_a_real_one(hub_fake, redis):
    now = time.time()
    gone = [f"rest-gone-{uuid.uuid4().hex[:8]}" for _ in range(250)]  # conversations that expired
    fakes = [f"rest-fake-{uuid.uuid4().hex[:8]}" for _ in range(210)]  # bookings made to fill the list
    pipe = redis.pipeline(transaction=False)
    pipe.zadd(keys.CALLBACKS, {cid: now - 3600 - n for n, cid in enumerate(gone)})
    for n, cid in enumerate(fakes):
        pipe.hset(keys.conversation(cid), mapping={"state": "queued", "channel": "rest", "language": "en"})
        pipe.hset(keys.callback(cid), mapping={"step": "booked", "phone": "0900000000", "booked_at": now})
        pipe.zadd(keys.CALLBACKS, {cid: now - 1800 - n})
    await pipe.execute()
    early = f"rest-0000-{uuid.uuid4().hex[:8]}"  # an id that sorts before any other
    try:
        real = await booked(hub_fake)
        await login(hub_fake)
        shown = await listed(hub_fake)
        assert real in shown and set(fakes) <= set(shown) and not set(gone) & set(shown)
        assert not [cid for cid in gone if await redis.zscore(keys.CALLBACKS, cid) is not None]
        # Within one window, the first booked comes first, whatever its id.
        starts = await redis.zscore(keys.CALLBACKS, real)
        await redis.hset(keys.conversation(early), mapping={"state": "queued", "channel": "rest"})
        await redis.hset(keys.callback(early), mapping={"step": "booked", "booked_at": time.time()})
        await redis.zadd(keys.CALLBACKS, {early: starts})
        shown = await listed(hub_fake)
        assert shown.index(real) < shown.index(early)
    finally:
        await redis.zrem(keys.CALLBACKS, *gone, *fakes, early)
        await redis.delete(
            *(keys.conversation(cid) for cid in [*fakes, early]),
            *(keys.callback(cid) for cid in [*fakes, early]),
        )
