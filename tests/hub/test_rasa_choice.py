"""One conversation, one Rasa (bot/core/rasa_client.py): with several Rasa servers, every
message of a conversation goes to the same one on every hub, whatever the order of their
lists; it moves to its next server only while its own refuses connections, and comes
back when that server is up again. Two stand-in Rasa servers, real hubs, real Redis."""

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
import pytest

from bot.app import create_app
from bot.core.rasa_client import RasaClient, ranked
from scripts.stack import free_port
from tests.hub.helpers import FakeRasa, hub_settings, rest_sender

CONVERSATIONS = 13  # odd: a round-robin would not line up with it by chance


class StandIn:
    """A stand-in Rasa that can be stopped (its port then refuses connections) and
    started again on the same port."""

    def __init__(self, host: str = "127.0.0.1", port=None) -> None:
        self.fake = FakeRasa()
        self.server = None
        self.host, self.port = host, port

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/webhooks/rest/webhook", self.fake.webhook)
        app.router.add_get("/", self.status)
        return app

    async def status(self, request: web.Request) -> web.Response:
        return web.json_response({"version": "stand-in"})

    async def start(self) -> "StandIn":
        self.server = TestServer(self.app(), host=self.host, port=self.port)
        await self.server.start_server()
        self.port = self.server.port
        self.fake.url = f"http://{self.host}:{self.port}"
        return self

    async def stop(self) -> None:
        await self.server.close()

    def senders(self):
        return [body["sender"] for body in self.fake.received]


@pytest.fixture
async def two_rasa():
    servers = [await StandIn().start(), await StandIn().start()]
    yield servers
    for server in servers:
        if server.server is not None and not server.server.closed:
            await server.stop()


async def say(hub, sender, text):
    response = await hub.post("/webhooks/rest/webhook", json={"sender": sender, "message": text})
    assert response.status == 200, await response.text()
    return await response.json()


def served_by(servers, cid):
    return {i for i, server in enumerate(servers) if cid in server.senders()}


async def test_every_message_of_a_conversation_goes_to_one_rasa_on_every_hub(
    aiohttp_client, redis_url, two_rasa
):
    urls = [server.fake.url for server in two_rasa]
    hub_a = await aiohttp_client(create_app(hub_settings(redis_url, ",".join(urls))))
    hub_b = await aiohttp_client(create_app(hub_settings(redis_url, ",".join(reversed(urls)))))
    senders = [rest_sender() for _ in range(CONVERSATIONS)]
    for turn in range(3):
        for n, sender in enumerate(senders):
            await say((hub_a, hub_b)[(n + turn) % 2], sender, f"message {turn}")
    homes = {}
    for sender in senders:
        where = served_by(two_rasa, f"rest-{sender}")
        assert len(where) == 1, f"rest-{sender} went to Rasa servers {where}"
        homes[sender] = where.pop()
        assert urls[homes[sender]] == ranked(f"rest-{sender}", urls)[0]
    assert set(homes.values()) == {0, 1}, "both servers carry conversations"
    # Each server saw its conversations' messages in order.
    for server in two_rasa:
        for sender in {s for s in server.senders()}:
            said = [b["message"] for b in server.fake.received if b["sender"] == sender]
            assert said == ["message 0", "message 1", "message 2"]


async def test_a_conversation_moves_only_while_its_rasa_refuses_and_comes_back(
    aiohttp_client, redis_url, two_rasa
):
    urls = [server.fake.url for server in two_rasa]
    hub = await aiohttp_client(create_app(hub_settings(redis_url, ",".join(urls))))
    senders = [rest_sender() for _ in range(CONVERSATIONS)]
    for sender in senders:
        await say(hub, sender, "before")
    home = {s: served_by(two_rasa, f"rest-{s}").pop() for s in senders}
    assert set(home.values()) == {0, 1}
    down, up = two_rasa
    await down.stop()  # its port now refuses connections
    for sender in senders:
        replies = await say(hub, sender, "while one is down")
        assert replies and replies[0]["text"] == "heard: while one is down"  # answered, not apologised
    moved = [b["sender"] for b in up.fake.received if b["message"] == "while one is down"]
    assert sorted(moved) == sorted(f"rest-{s}" for s in senders)  # all on the one left
    stayed = [b["sender"] for b in up.fake.received if b["message"] == "before"]
    assert sorted(stayed) == sorted(f"rest-{s}" for s in senders if home[s] == 1)

    await down.start()  # the same port again
    for text in ("after", "and again"):
        for sender in senders:
            await say(hub, sender, text)
    for sender in senders:
        back = [
            i
            for i, server in enumerate(two_rasa)
            if any(
                b["sender"] == f"rest-{sender}" and b["message"] in ("after", "and again")
                for b in server.fake.received
            )
        ]
        assert back == [home[sender]], f"rest-{sender} should be back on server {home[sender]} only"


def test_losing_a_server_moves_only_its_own_conversations():
    urls = [f"http://rasa-{n}:5005" for n in range(4)]
    cids = [f"w{n}" for n in range(400)]
    before = {cid: ranked(cid, urls)[0] for cid in cids}
    after = {cid: ranked(cid, urls[:2] + urls[3:])[0] for cid in cids}
    assert all(after[cid] == before[cid] for cid in cids if before[cid] != urls[2])
    assert all(ranked(cid, list(reversed(urls))) == ranked(cid, urls) for cid in cids)
    shares = [sum(1 for cid in cids if before[cid] == url) for url in urls]
    assert min(shares) > 60, shares  # about 100 each


async def test_behind_a_headless_service_each_ready_pod_is_a_server_of_its_own():
    """RASA_RESOLVE: one URL whose name resolves to an address per ready Rasa pod (two
    stand-ins on 127.0.0.1 and 127.0.0.2, the same port; the name's answers set here)."""
    port = free_port()
    pods = [await StandIn("127.0.0.1", port).start(), await StandIn("127.0.0.2", port).start()]
    ready = ["127.0.0.1", "127.0.0.2"]

    async def dns(host, asked_port):
        assert (host, asked_port) == ("rasa-headless", port)
        return list(ready)

    senders = [rest_sender() for _ in range(CONVERSATIONS)]
    try:
        async with aiohttp.ClientSession() as session:
            client = RasaClient(session, [f"http://rasa-headless:{port}"], 10, dns, resolve_every=0)
            for text in ("one", "two"):
                for sender in senders:
                    assert (await client.send(sender, text, {}))[0]["text"] == f"heard: {text}"
            home = {}
            for sender in senders:
                where = [i for i, pod in enumerate(pods) if sender in pod.senders()]
                assert len(where) == 1, (sender, where)
                home[sender] = where[0]
            assert set(home.values()) == {0, 1}
            assert set(await client.health()) == {f"http://127.0.0.1:{port}", f"http://127.0.0.2:{port}"}
            ready.remove("127.0.0.2")  # that pod is not ready any more: out of the Service's answer
            for sender in senders:
                await client.send(sender, "three", {})
            assert all(b["message"] != "three" for b in pods[1].fake.received)
            ready.append("127.0.0.2")  # back: its conversations return to it
            for sender in senders:
                await client.send(sender, "four", {})
            for sender in senders:
                assert [b["message"] for b in pods[home[sender]].fake.received if b["sender"] == sender][
                    -1
                ] == "four"
    finally:
        for pod in pods:
            await pod.stop()
