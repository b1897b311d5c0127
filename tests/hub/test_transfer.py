"""Transfer to a colleague who is online (alerted on their console, on another hub
process), never to one who is not (409); release back to the queue at the original
place. The customer is told in one line. Real hub processes and Redis; the stand-in
Rasa (only the handoff matters here)."""

from bot.console.passwords import hash_password
from bot.core.texts import Texts
from bot.settings import DEMO_AGENTS, parse_agents
from contract import keys
from tests.helpers import eventually
from tests.hub.helpers import login, rest_sender

PASSWORD = "colleague-pass"
AGENTS = {**parse_agents(DEMO_AGENTS), "lan": hash_password(PASSWORD), "minh": hash_password(PASSWORD)}


async def handed_off(client):
    sender = rest_sender()
    response = await client.post(
        "/webhooks/rest/webhook", json={"sender": sender, "message": "/request_human"}
    )
    assert response.status == 200, await response.text()
    return sender, f"rest-{sender}"


async def missed(client, sender):
    body = await (await client.get("/webhooks/rest/messages", params={"sender": sender})).json()
    return [m.get("text", "") for m in body["messages"]]


async def online(client, name, timeout=10):
    """Wait until the console's heartbeat has marked `name` online."""

    async def agents_once_online():
        agents = (await (await client.get("/api/agent/agents")).json())["agents"]
        return agents if any(a["name"] == name and a["online"] for a in agents) else None

    return await eventually(agents_once_online, timeout, f"{name} coming online")


async def next_event(ws, kind, timeout=10):
    while True:
        event = await ws.receive_json(timeout=timeout)
        if event.get("type") == kind:
            return event


async def test_transfer_to_an_online_colleague_who_is_alerted_and_never_to_an_offline_one(
    make_hub_fake, redis
):
    me = await make_hub_fake(agents=AGENTS, agent_online_seconds=60.0)
    colleague = await make_hub_fake(agents=AGENTS, agent_online_seconds=60.0)  # another hub process
    await login(me)
    await login(colleague, "lan", PASSWORD)
    sender, cid = await handed_off(me)
    origin = str(colleague.make_url("")).rstrip("/")
    ws = await colleague.ws_connect("/api/agent/ws", headers={"Origin": origin})
    try:
        agents = await online(me, "lan")
        assert {a["name"] for a in agents} == {"lan", "minh"}  # not me
        assert not next(a for a in agents if a["name"] == "minh")["online"]
        # Only the owner may pass it on.
        assert (await me.post(f"/api/agent/conversations/{cid}/transfer", json={"to": "lan"})).status == 409
        assert (await me.post(f"/api/agent/conversations/{cid}/claim")).status == 200
        for body, status in (
            ({}, 400),
            ({"to": 7}, 400),
            ({"to": "agent"}, 400),
            ({"to": "nobody"}, 404),
            ({"to": "minh"}, 409),
        ):
            response = await me.post(f"/api/agent/conversations/{cid}/transfer", json=body)
            assert response.status == status, (body, await response.text())
            assert "error" in await response.json()
        assert (await (await me.get(f"/api/agent/conversations/{cid}")).json())["agent"] == "agent"

        response = await me.post(f"/api/agent/conversations/{cid}/transfer", json={"to": "lan"})
        assert response.status == 200, await response.text()
        event = await next_event(ws, "transfer")
        assert event == {"type": "transfer", "conversation_id": cid, "from": "agent", "to": "lan"}
        theirs = await (await colleague.get("/api/agent/queue")).json()
        assert cid in [c["id"] for c in theirs["mine"]]
        assert cid not in [c["id"] for c in (await (await me.get("/api/agent/queue")).json())["mine"]]
        # The customer is told once, in their language, with nobody's login name.
        told = Texts().text("agent_transferred", "en")
        assert (await missed(me, sender)).count(told) == 1
        assert not any("lan" in text.split() for text in await missed(me, sender))
        # The new owner can answer; the old one no longer can.
        assert (await me.post(f"/api/agent/conversations/{cid}/messages", json={"text": "x"})).status == 409
        assert (
            await colleague.post(f"/api/agent/conversations/{cid}/messages", json={"text": "Lan here"})
        ).status == 200
        assert (await colleague.post(f"/api/agent/conversations/{cid}/resolve", json={})).status == 200
    finally:
        await ws.close()
        await redis.zrem(keys.AGENTS_ONLINE, "lan")


async def test_release_puts_it_back_at_its_original_place_and_tells_the_customer(make_hub_fake):
    client = await make_hub_fake(agents=AGENTS)
    await login(client)
    first_sender, first = await handed_off(client)
    _, second = await handed_off(client)
    try:
        assert (await client.post(f"/api/agent/conversations/{first}/release")).status == 409  # not mine
        assert (await client.post(f"/api/agent/conversations/{first}/claim")).status == 200
        queue = [c["id"] for c in (await (await client.get("/api/agent/queue")).json())["queue"]]
        assert first not in queue and second in queue
        response = await client.post(f"/api/agent/conversations/{first}/release")
        assert response.status == 200, await response.text()
        body = await response.json()
        queue = [c["id"] for c in (await (await client.get("/api/agent/queue")).json())["queue"]]
        assert queue.index(first) < queue.index(second)  # it waited longer: ahead again
        assert body["position"] == queue.index(first) + 1 and body["state"] == "queued"
        detail = await (await client.get(f"/api/agent/conversations/{first}")).json()
        assert detail["state"] == "queued" and detail["agent"] == ""
        assert (await missed(client, first_sender)).count(Texts().text("agent_released", "en")) == 1
        # Released twice is refused: it is not the agent's any more.
        assert (await client.post(f"/api/agent/conversations/{first}/release")).status == 409
    finally:
        for cid in (first, second):
            await client.post(f"/api/agent/conversations/{cid}/claim")
            await client.post(f"/api/agent/conversations/{cid}/resolve", json={})


def test_the_one_line_exists_in_both_languages():
    texts = Texts()
    for key in ("agent_transferred", "agent_released"):
        assert texts.text(key, "en") != texts.text(key, "vi")
        assert "\n" not in texts.text(key, "vi")
