"""The agents' queue has a handoff the moment the assistant decides it, not when Rasa's
turn ends (contract/handoff_requests.py): the console sees it while Rasa's answer is
still held back; the turn's relay of the same packet then adds nothing (one queue entry,
one report event, one console notification) and tells the customer their place; and a
turn that fails after the decision leaves the customer queued with the assistant's packet."""

import asyncio
import contextlib
from dataclasses import dataclass
import json
import time
from typing import Any, AsyncIterator

import aiohttp
from aiohttp import web

from bot.console.labels import ConsoleLabels
from bot.core.conversations import ConversationStore, Enqueued
from bot.core.reporting import Reporting
from contract import events, handoff_requests, keys
from contract.handoff import read_packet
from tests.helpers import eventually
from tests.hub.helpers import INTROS, PACKET, login, rest_sender


class HeldRasa:
    """Between the hub and the real Rasa: each message goes on at once, and Rasa's answer
    is held back until `release` is set (the rest of the turn, as slow as a test wants)."""

    def __init__(self, rasa_url: str) -> None:
        self.rasa_url = rasa_url
        self.release = asyncio.Event()
        self.url = ""

    async def webhook(self, request: web.Request) -> web.Response:
        body = await request.read()
        async with aiohttp.ClientSession() as http:
            async with http.post(
                f"{self.rasa_url}/webhooks/rest/webhook",
                data=body,
                headers={"Content-Type": "application/json"},
            ) as answer:
                status, text = answer.status, await answer.text()
        await self.release.wait()
        return web.Response(status=status, text=text, content_type="application/json")

    async def root(self, request: web.Request) -> web.Response:
        return web.json_response({"version": "held"})


class Console:
    """An agent console's live feed: every event it got about one conversation."""

    def __init__(self, ws, cid: str) -> None:
        self.ws = ws
        self.cid = cid
        self.got = []

    async def next_queue_event(self, timeout: float = 30) -> dict:
        while True:
            event = await asyncio.wait_for(self.ws.receive_json(), timeout)
            if event.get("conversation_id") == self.cid:
                self.got.append(event)
                if event.get("type") == "queue":
                    return event

    async def queue_events(self, redis) -> list:
        """Every queue event about the conversation so far: the feed is read up to a marker
        published now (pub/sub keeps the order, so whatever was published before is in)."""
        marker = {"type": "end-of-test", "conversation_id": self.cid}
        await redis.publish(keys.EVENTS, json.dumps(marker))
        while True:
            event = await asyncio.wait_for(self.ws.receive_json(), 10)
            if event == marker:
                return [e for e in self.got if e.get("type") == "queue"]
            if event.get("conversation_id") == self.cid:
                self.got.append(event)


async def open_console(client, cid: str) -> Console:
    await login(client)
    ws = await client.ws_connect("/api/agent/ws", headers={"Origin": str(client.make_url("")).rstrip("/")})
    return Console(ws, cid)


async def handoff_reports(redis, cid: str, since: float) -> list:
    named = await events.ref(redis, cid)
    return [
        e
        for e in await events.read(redis, since, time.time() + 1)
        if e["kind"] == "handoff" and e["cid"] == named
    ]


async def test_the_console_has_the_handoff_before_rasa_s_turn_ends(
    make_hub, assistant, aiohttp_server, redis
):
    held = HeldRasa(assistant.rasa_url)
    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", held.webhook)
    app.router.add_get("/", held.root)
    server = await aiohttp_server(app)
    client = await make_hub(rasa_url=str(server.make_url("")).rstrip("/"))
    sender = rest_sender()
    cid = f"rest-{sender}"
    console = await open_console(client, cid)
    since = time.time()
    try:
        turn = asyncio.create_task(
            client.post(
                "/webhooks/rest/webhook",
                json={"sender": sender, "message": "can I talk to a real person please"},
            )
        )
        # The action server decided; Rasa's answer is held back: the turn has not ended.
        await console.next_queue_event()
        assert not turn.done()
        conv = await redis.hgetall(keys.conversation(cid))
        assert conv["state"] == "queued"
        packet = read_packet(json.loads(conv["packet"]))
        assert packet is not None and packet.reason == "customer_asked"
        assert (packet.conversation_id, packet.channel) == (cid, "rest")
        assert await redis.zscore(keys.QUEUE, cid) is not None

        held.release.set()
        response = await turn
        assert response.status == 200
        intro, *replies = await response.json()
        assert intro["text"] in INTROS
        [text] = [r["text"] for r in replies if r.get("text")]
        # The customer hears their place as from any handoff (an agent is online: the console).
        assert " in line" in text and "added that to your case" not in text
        assert packet.case_ref in text
        assert len(await console.queue_events(redis)) == 1
        assert len(await handoff_reports(redis, cid, since)) == 1
        assert await redis.hget(keys.conversation(cid), "queued_at") == conv["queued_at"]
    finally:
        held.release.set()
        await console.ws.close()


@dataclass
class MidTurn:
    """A customer's "/request_human" turn held in the stand-in Rasa (until
    `fake_rasa.gate` is set), after the early word the action server publishes when it
    decides (actions/handoff.py), and an agent console watching the conversation."""

    client: Any
    cid: str
    console: Console
    turn: asyncio.Task


@contextlib.asynccontextmanager
async def early_word_mid_turn(make_hub_fake, fake_rasa, redis) -> AsyncIterator[MidTurn]:
    client = await make_hub_fake()
    sender = rest_sender()
    cid = f"rest-{sender}"
    console = await open_console(client, cid)
    fake_rasa.gate = asyncio.Event()
    try:
        turn = asyncio.create_task(
            client.post("/webhooks/rest/webhook", json={"sender": sender, "message": "/request_human"})
        )
        await asyncio.wait_for(fake_rasa.arrived.get(), 10)
        await handoff_requests.announce(redis, cid, read_packet(PACKET))
        await console.next_queue_event()
        yield MidTurn(client, cid, console, turn)
    finally:
        fake_rasa.status = 200
        fake_rasa.gate.set()
        await console.ws.close()


async def claimed_behind_the_turn(mid: MidTurn, redis) -> asyncio.Task:
    """The agent claims it mid-turn: the claim is theirs at once, and its word to the
    customer waits in the conversation's line of turns, behind the turn still running."""
    claim = asyncio.create_task(mid.client.post(f"/api/agent/conversations/{mid.cid}/claim"))
    await eventually(lambda: _equals(redis.llen(keys.turns(mid.cid)), 2), message="not behind the turn")
    assert await redis.hget(keys.conversation(mid.cid), "state") == "agent"
    return claim


async def _equals(value, expected) -> bool:
    return await value == expected


async def test_the_turn_s_relay_after_the_early_word_adds_nothing(make_hub_fake, fake_rasa, redis):
    since = time.time()
    async with early_word_mid_turn(make_hub_fake, fake_rasa, redis) as mid:
        queued_at = await redis.hget(keys.conversation(mid.cid), "queued_at")
        assert queued_at and not mid.turn.done()

        fake_rasa.gate.set()  # Rasa answers, with the same packet
        response = await mid.turn
        assert response.status == 200
        texts = [r.get("text", "") for r in await response.json()]
        # Told their place as for any handoff, never "added to your case".
        assert any("isn't online right now" in t for t in texts), texts
        assert not any("added that to your case" in t for t in texts), texts
        assert len(await mid.console.queue_events(redis)) == 1
        assert len(await handoff_reports(redis, mid.cid, since)) == 1
        assert await redis.hget(keys.conversation(mid.cid), "queued_at") == queued_at
        assert await redis.zscore(keys.QUEUE, mid.cid) is not None


async def test_a_turn_that_fails_after_the_early_word_keeps_the_customer_queued(
    make_hub_fake, fake_rasa, redis
):
    since = time.time()
    async with early_word_mid_turn(make_hub_fake, fake_rasa, redis) as mid:
        fake_rasa.status = 500  # the rest of the turn fails
        fake_rasa.gate.set()
        response = await mid.turn
        assert response.status == 200
        texts = [r.get("text", "") for r in await response.json()]
        # Sorry, with the case the assistant opened, and their place in the queue.
        assert any("trouble answering" in t and PACKET["case_ref"] in t for t in texts), texts
        assert any("isn't online right now" in t for t in texts), texts
        conv = await redis.hgetall(keys.conversation(mid.cid))
        assert conv["state"] == "queued"
        kept = json.loads(conv["packet"])
        assert kept["reason"] == "customer_asked" and kept["summary"] == PACKET["summary"]
        assert len(await mid.console.queue_events(redis)) == 1
        assert len(await handoff_reports(redis, mid.cid, since)) == 1


async def test_a_turn_that_fails_once_an_agent_has_the_early_handoff_names_the_assistant_s_case(
    make_hub_fake, fake_rasa, redis
):
    async with early_word_mid_turn(make_hub_fake, fake_rasa, redis) as mid:
        claim = await claimed_behind_the_turn(mid, redis)
        fake_rasa.status = 500
        fake_rasa.gate.set()
        response = await mid.turn
        texts = [r.get("text", "") for r in await response.json()]
        assert any("trouble answering" in t and PACKET["case_ref"] in t for t in texts), texts
        assert (await claim).status == 200
        conv = await redis.hgetall(keys.conversation(mid.cid))
        assert conv["state"] == "agent" and json.loads(conv["packet"])["reason"] == "customer_asked"


async def test_an_agent_who_claims_mid_turn_joins_after_the_assistant_s_handoff_line(
    make_hub_fake, fake_rasa, redis
):
    """Claimed from the early word while Rasa is still answering: the customer reads the
    assistant's handoff line first, then "Mai from our team has joined"."""
    async with early_word_mid_turn(make_hub_fake, fake_rasa, redis) as mid:
        claim = await claimed_behind_the_turn(mid, redis)
        fake_rasa.gate.set()
        assert (await mid.turn).status == 200 and (await claim).status == 200
        said = [e["text"] for _, e in await redis.xrange(keys.transcript(mid.cid)) if e["from"] == "bot"]
        # The stand-in assistant's handoff line is "heard: /request_human".
        assert [t for t in said if "heard:" in t or "has joined" in t][-2:] == [
            "heard: /request_human",
            "Mai from our team has joined and can see everything you've told us so far.",
        ], said


async def test_one_handoff_queues_once_and_a_stray_word_queues_nothing(redis):
    store = ConversationStore(redis, Reporting(redis, ConsoleLabels().first_response_minutes))
    cid = f"rest-{rest_sender()}"
    await store.get_or_create(cid, "rest", {})
    key = read_packet(PACKET).key()
    assert await store.enqueue(cid, "medium", PACKET, "en", key, existing=True) is Enqueued.NOW
    assert await store.enqueue(cid, "medium", PACKET, "en", key) is Enqueued.BEFORE
    assert await store.enqueue(cid, "high", PACKET, "en", "SR-OTHER1@1.0") is Enqueued.NOT
    assert await store.claim(cid, "agent")
    # The same handoff once an agent has it: nothing.
    assert await store.enqueue(cid, "medium", PACKET, "en", key) is Enqueued.NOT
    # A word about a conversation the hub never had (Rasa reached directly) makes none.
    nobody = f"rest-{rest_sender()}"
    assert await store.enqueue(nobody, "medium", PACKET, "en", key, existing=True) is Enqueued.NOT
    assert not await redis.exists(keys.conversation(nobody))
    assert await redis.zscore(keys.QUEUE, nobody) is None
    conv = await store.get(cid)
    assert await store.resolve(conv, "agent", "")
    await store.forget(cid)
