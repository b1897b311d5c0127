"""Our own fault run (`make chaos`): the whole stack on free ports, customers writing at
a steady rate through the widget (socket.io, websocket transport) and the hub's REST
channel, while in turn Redis is paused, Redis is killed and restarted, Rasa is killed
and restarted, the action server is killed and restarted, and one of two hub processes
is killed and restarted. Then a fuzz phase: malformed requests from Hypothesis against
every public route and the socket.io events.

    python -m benchmarks.chaos [--customers 3] [--interval 4] [--fuzz 300]

Per fault: messages sent, accepted, answered or apologised for, found in the transcript
afterwards (lost = accepted but not found, or never accepted), 5xx answers (a 503 with
Retry-After while Redis is away is the designed answer and is counted apart), and the
time to heal (from the repair until a new customer gets a real answer again).

Customers behave like the real clients: a REST caller retries the same message id after
a 503 or a refused connection (and then tries the other hub, as a load balancer would);
a widget customer sends again when asked to, and reconnects (to the other hub if need
be) with its session id and a catch-up, as the shop page does.

Writes docs/reliability.md and results/chaos/chaos.json (--out DIR for another folder,
--no-docs to leave docs/ alone, as `make smoke` runs it). Every process it starts is
stopped at the end, even on failure.
"""

import argparse
import asyncio
from collections import Counter
from dataclasses import dataclass, field
import datetime
import json
import os
from pathlib import Path
import re
import secrets
import signal
import sys
import tempfile
import time
from typing import Dict, List, Optional, Set
import uuid

import aiohttp
import redis as redis_sync
import socketio

from benchmarks.customers import allow_websocket_transport
from benchmarks.report import machine, table
from bot.core.sessions import conversation_named
from bot.core.texts import Texts
from contract import keys
from contract.language import LANGUAGES
from scripts.stack import Stack, free_port, wait_for

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "results" / "chaos"
DOC = ROOT / "docs" / "reliability.md"
FB_SECRET = "chaos-app-secret"
ZALO = ("chaos-zalo-app", "chaos-zalo-oa-secret")  # app id, OA secret key
PHRASES = ["hi", "my parcel has not arrived yet", "can you check it for me", "ok thank you"]
GIVE_UP = 180.0  # a customer stops retrying one message after this long


@dataclass
class Sent:
    phase: str
    customer: str
    conversation: str
    text: str
    message_id: str = ""
    accepted: bool = False
    outcome: str = ""  # answered | apologised | asked to send again, then ...
    statuses: List[int] = field(default_factory=list)
    retries: int = 0


class Run:
    """Shared state: the current phase, every message sent, the apology texts."""

    def __init__(self, hubs: List[str], interval: float) -> None:
        self.hubs = hubs
        self.interval = interval
        self.phase = "warm-up"
        self.sent: List[Sent] = []
        self.down: Set[int] = set()  # hub indexes known to be down (the "load balancer" view)
        texts = Texts()
        self.apologies = [
            said_pattern(texts, key, lang) for key in ("assistant_unavailable",) for lang in LANGUAGES
        ]
        # "one moment" (a limit) keeps nothing: the customer sends it again, as asked
        self.send_again = {
            texts.text(key, lang) for key in ("send_again", "one_moment") for lang in LANGUAGES
        }
        self.stopping = False

    def kind(self, replies: List[dict]) -> str:
        said = [r.get("text", "") for r in replies]
        if any(apology.fullmatch(t) for apology in self.apologies for t in said):
            return "apologised"
        return "answered" if any(said) or replies else "no reply"


def said_pattern(texts: Texts, key: str, language: str) -> "re.Pattern[str]":
    """The hub's message `key` (data/hub/messages.yml) as a pattern: any case reference
    where the words have one (the apology names the conversation's case)."""
    marker = "\x00"
    parts = texts.text(key, language, case_ref=marker).split(marker)
    return re.compile(".+?".join(re.escape(part) for part in parts), re.S)


class RestCaller:
    """A shop server talking to the hub's REST channel for one customer at a time."""

    def __init__(self, run: Run, http: aiohttp.ClientSession, name: str, home: int) -> None:
        self.run, self.http, self.name, self.home = run, http, name, home
        self.sender = ""
        self.turn = 0
        self.fresh = True

    def new_conversation(self) -> None:
        self.fresh = True  # from the next message on

    async def send(self) -> None:
        if self.fresh:
            self.fresh, self.turn = False, 0
            self.sender = f"chaos-{self.name}-{uuid.uuid4().hex[:8]}"
        sender = self.sender
        text = PHRASES[self.turn % len(PHRASES)]
        self.turn += 1
        sent = Sent(self.run.phase, self.name, f"rest-{sender}", text, uuid.uuid4().hex)
        self.run.sent.append(sent)
        hub, started = self.home, time.monotonic()
        while time.monotonic() - started < GIVE_UP:
            url = f"{self.run.hubs[hub]}/webhooks/rest/webhook"
            try:
                async with self.http.post(
                    url,
                    json={"sender": sender, "message": text, "metadata": {"message_id": sent.message_id}},
                    timeout=aiohttp.ClientTimeout(total=60),
                ) as response:
                    sent.statuses.append(response.status)
                    if response.status == 200:
                        sent.accepted = True
                        sent.outcome = self.run.kind(await response.json())
                        return
                    retry = float(response.headers.get("Retry-After", 1))
            except (aiohttp.ClientError, asyncio.TimeoutError):
                sent.statuses.append(0)  # refused or cut: that hub is away; try the other
                hub, retry = (hub + 1) % len(self.run.hubs), 0.5
            sent.retries += 1
            await asyncio.sleep(min(retry, 2.0))
        sent.outcome = "gave up"


class WidgetVisitor:
    """A shop page with the widget: socket.io over websocket, session kept, catch-up."""

    def __init__(self, run: Run, name: str, home: int, secret: str) -> None:
        self.run, self.name, self.home, self.secret = run, name, home, secret
        self.hub = home
        self.sio: Optional[socketio.AsyncClient] = None
        self.session_id: Optional[str] = None
        self.last_id = None
        self.received: asyncio.Queue = asyncio.Queue()
        self.turn = 0
        self.fresh = False

    async def _connect(self) -> None:
        if self.sio is not None:
            await self._drop()
        sio = socketio.AsyncClient(reconnection=False)
        confirmed: asyncio.Future[str] = asyncio.get_running_loop().create_future()

        async def uttered(data):
            self.last_id = (data.get("metadata") or {}).get("message_id") or self.last_id
            await self.received.put(data)

        async def confirm(session_id):
            if not confirmed.done():
                confirmed.set_result(session_id)

        sio.on("bot_uttered", uttered)
        sio.on("session_confirm", confirm)
        self.sio = sio  # dropped (and its HTTP session closed) if anything below fails
        await sio.connect(
            self.run.hubs[self.hub], socketio_path="socket.io", transports=["websocket"], wait_timeout=10
        )
        await sio.emit("session_request", {"session_id": self.session_id})
        self.session_id = await asyncio.wait_for(confirmed, 10)
        await sio.emit("catch_up", {"after": self.last_id})

    async def _drop(self) -> None:
        sio, self.sio = self.sio, None
        if sio is not None:
            try:
                await asyncio.wait_for(sio.disconnect(), 5)
            except Exception:
                pass
            http = getattr(sio.eio, "http", None)  # engine.io's own aiohttp session
            if http is not None and not http.closed:
                await http.close()

    def new_conversation(self) -> None:
        self.fresh = True  # from the next message on

    async def replies(self, quiet: float = 1.0) -> List[dict]:
        """The replies to what was just sent: the first within 30 s, then any more until
        `quiet` seconds pass without one."""
        got = [await asyncio.wait_for(self.received.get(), 30)]
        while True:
            try:
                got.append(await asyncio.wait_for(self.received.get(), quiet))
            except asyncio.TimeoutError:
                return got

    async def send(self) -> None:
        if self.fresh:
            self.fresh, self.session_id, self.last_id, self.turn = False, None, None, 0
            await self._drop()
        text = PHRASES[self.turn % len(PHRASES)]
        self.turn += 1
        sent = Sent(self.run.phase, self.name, "", text)
        self.run.sent.append(sent)
        started = time.monotonic()
        while time.monotonic() - started < GIVE_UP:
            try:
                if self.sio is None or not self.sio.connected:
                    await self._connect()
                sio, session_id = self.sio, self.session_id
                if sio is None or session_id is None:
                    raise ValueError("not connected")  # as any failure here: connect again
                sent.conversation = conversation_named(session_id)
                while not self.received.empty():  # late replies to an earlier message
                    self.received.get_nowait()
                await sio.emit("user_uttered", {"message": text, "session_id": session_id})
                replies = await self.replies()
            except (socketio.exceptions.SocketIOError, asyncio.TimeoutError, OSError, ValueError):
                sent.retries += 1  # no answer or no connection: reconnect (the other hub if need be)
                await self._drop()
                self.hub = (self.hub + 1) % len(self.run.hubs) if self.hub in self.run.down else self.home
                await asyncio.sleep(1.0)
                continue
            if any(r.get("text") in self.run.send_again for r in replies):
                sent.retries += 1  # the customer sends it again in a moment, as asked
                await asyncio.sleep(1.0)
                continue
            sent.accepted = True
            sent.outcome = self.run.kind(replies)
            return
        sent.outcome = "gave up"


async def customer_loop(run: Run, customer, offset: float) -> None:
    await asyncio.sleep(offset)  # spread the customers over the interval
    while not run.stopping:
        begun = time.monotonic()
        await customer.send()
        await asyncio.sleep(max(run.interval - (time.monotonic() - begun), 0.1))


async def healed_after(
    run: Run, http: aiohttp.ClientSession, hub: int, limit: float = 300
) -> Optional[float]:
    """Seconds until a new REST customer gets a real answer (not an apology) again."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        try:
            async with http.post(
                f"{run.hubs[hub]}/webhooks/rest/webhook",
                json={"sender": f"probe-{uuid.uuid4().hex[:10]}", "message": "hi"},
                timeout=aiohttp.ClientTimeout(total=30),
            ) as response:
                if response.status == 200 and run.kind(await response.json()) == "answered":
                    return round(time.monotonic() - started, 1)
        except (aiohttp.ClientError, asyncio.TimeoutError):
            pass
        await asyncio.sleep(0.5)
    return None


# --- faults ------------------------------------------------------------------------------


def signal_group(stack: Stack, name: str, sig: int) -> None:
    os.killpg(stack.named[name].pid, sig)


def kill(stack: Stack, name: str) -> None:
    proc = stack.named[name]
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


class Faults:
    def __init__(self, stack: Stack, env: Dict[str, str], ports: List[int], run: Run) -> None:
        self.stack, self.env, self.ports, self.run = stack, env, ports, run

    def start_hub(self, index: int) -> None:
        name = "hub" if index == 0 else f"hub-{index + 1}"
        proc = self.stack.spawn_hub(name, HUB_PORT=str(self.ports[index]), **self.env)
        wait_for(f"{self.run.hubs[index]}/health", 60, proc)

    async def redis_paused(self, hold: float) -> None:
        signal_group(self.stack, "redis", signal.SIGSTOP)
        await asyncio.sleep(hold)
        signal_group(self.stack, "redis", signal.SIGCONT)

    async def redis_killed(self, hold: float) -> None:
        kill(self.stack, "redis")
        await asyncio.sleep(hold)
        await asyncio.to_thread(self.stack.start_redis)  # same port and append-only file

    async def rasa_killed(self, hold: float) -> None:
        kill(self.stack, "rasa")
        await asyncio.sleep(hold)
        self.stack.start_rasa()

    async def actions_killed(self, hold: float) -> None:
        kill(self.stack, "actions")
        await asyncio.sleep(hold)
        self.stack.start_actions()

    async def hub_killed(self, hold: float) -> None:
        kill(self.stack, "hub-2")
        self.run.down.add(1)
        await asyncio.sleep(hold)
        await asyncio.to_thread(self.start_hub, 1)
        self.run.down.discard(1)


# --- the run -----------------------------------------------------------------------------


async def faults_phase(args, stack: Stack, faults: Faults, run: Run, secret: str) -> Dict[str, dict]:
    allow_websocket_transport()
    results: Dict[str, dict] = {}
    async with aiohttp.ClientSession() as http:
        rest = [RestCaller(run, http, f"r{i}", i % 2) for i in range(args.customers)]
        widget = [WidgetVisitor(run, f"w{i}", i % 2, secret) for i in range(args.customers)]
        customers = rest + widget
        loops = [
            asyncio.create_task(customer_loop(run, c, args.interval * i / len(customers)))
            for i, c in enumerate(customers)
        ]
        try:
            await asyncio.sleep(args.steady)  # warm-up: everything answering
            plan = [
                ("Redis paused", faults.redis_paused, 0, args.hold),
                ("Redis killed and restarted", faults.redis_killed, 0, args.hold),
                ("Rasa killed and restarted", faults.rasa_killed, 0, args.hold),
                ("action server killed and restarted", faults.actions_killed, 0, args.hold),
                ("one of two hubs killed and restarted", faults.hub_killed, 1, args.hold),
            ]
            for name, fault, probe_hub, hold in plan:
                print(f"==> {name}", flush=True)
                for customer in customers:
                    customer.new_conversation()  # a fresh case each phase (a queued one stays queued)
                run.phase = name
                await asyncio.sleep(args.steady / 2)
                began = time.monotonic()
                await fault(hold)
                repaired = time.monotonic()
                heal = await healed_after(run, http, probe_hub)
                results[name] = {"fault_seconds": round(repaired - began, 1), "heal_seconds": heal}
                print(f"    healed {heal} s after the repair", flush=True)
                await asyncio.sleep(args.steady / 2)
            run.phase = "cool-down"
            await asyncio.sleep(args.steady / 2)
        finally:
            run.stopping = True
            # Let the messages in flight finish (each gives up after GIVE_UP at most).
            await asyncio.wait(loops, timeout=GIVE_UP + 30)
            for loop in loops:
                loop.cancel()
            for customer in widget:
                await customer._drop()
    return results


def transcripts_check(redis_url: str, run: Run) -> Counter:
    """Per message: found in its conversation's transcript afterwards? Counted by text
    within each conversation (a widget message sent again may be there twice)."""
    client = redis_sync.Redis.from_url(redis_url, decode_responses=True)
    found: Counter = Counter()
    try:
        by_conversation: Dict[str, List[Sent]] = {}
        for sent in run.sent:
            by_conversation.setdefault(sent.conversation, []).append(sent)
        for cid, messages in by_conversation.items():
            entries = client.xrange(keys.transcript(cid)) if cid else []
            texts = Counter(e["text"] for _, e in entries if e.get("from") == "customer")
            ids = {e.get("message_id") for _, e in entries}
            for sent in messages:
                if sent.message_id and sent.message_id in ids:
                    found[id(sent)] = 1
                elif texts[sent.text] > 0:
                    texts[sent.text] -= 1
                    found[id(sent)] = 1
    finally:
        client.close()
    return found


def tally(run: Run, found: Counter, results: Dict[str, dict]) -> List[dict]:
    rows = []
    for phase in ["warm-up", *results, "cool-down"]:
        sent = [s for s in run.sent if s.phase == phase]
        if not sent:
            continue
        statuses = [code for s in sent for code in s.statuses]
        row = {
            "phase": phase,
            "sent": len(sent),
            "accepted": sum(s.accepted for s in sent),
            "answered": sum(s.outcome == "answered" for s in sent),
            "apologised": sum(s.outcome == "apologised" for s in sent),
            "empty answer": sum(s.outcome == "no reply" for s in sent),
            "in transcript": sum(found[id(s)] for s in sent),
            "lost": sum(1 for s in sent if not (s.accepted and found[id(s)])),
            "retries": sum(s.retries for s in sent),
            "503 + Retry-After": statuses.count(503),
            "other 5xx": sum(1 for c in statuses if c >= 500 and c != 503),
            **results.get(phase, {}),
        }
        rows.append(row)
    return rows


def run_all(args) -> dict:
    args.out.mkdir(parents=True, exist_ok=True)
    logs = args.out / "logs"
    secret = secrets.token_urlsafe(24)
    with tempfile.TemporaryDirectory(prefix="chaos-redis-") as redis_dir:
        port = (lambda n: args.port_base + n) if args.port_base else (lambda n: free_port())
        stack = Stack(
            redis_port=port(0),
            action_port=port(1),
            rasa_port=port(2),
            hub_port=port(3),
            redis_dir=Path(redis_dir),
            log_dir=logs,
        )
        for log in logs.glob("*.log"):
            log.unlink()
        ports = [stack.hub_port, port(4)]
        env = {
            "HUB_SECRET": secret,
            "STILL_HERE_AFTER": "3600",
            "RASA_TIMEOUT": "10",
            # every simulated customer comes from 127.0.0.1: no per-address limits
            "REST_PER_IP_MINUTE": "0",
            "WIDGET_CONNECTS_PER_IP_MINUTE": "0",
            "MESSENGER_PER_IP_MINUTE": "0",
            # Messenger on, so the fuzz phase reaches it (the Graph API is a closed port)
            "FB_VERIFY_TOKEN": "chaos-verify",
            "FB_APP_SECRET": FB_SECRET,
            "FB_PAGE_ACCESS_TOKEN": "chaos-page",
            "FB_GRAPH_URL": f"http://127.0.0.1:{port(5)}",
            # Zalo on too, its OpenAPI and OAuth a closed port as well
            "ZALO_APP_ID": ZALO[0],
            "ZALO_OA_SECRET": ZALO[1],
            "ZALO_APP_SECRET": "chaos-zalo-app-secret",
            "ZALO_REFRESH_TOKEN": "chaos-zalo-refresh",
            "ZALO_PER_IP_MINUTE": "0",
            "ZALO_API_URL": f"http://127.0.0.1:{port(5)}",
            "ZALO_OAUTH_URL": f"http://127.0.0.1:{port(5)}",
            "HUB_DEMO": "1",
        }
        run = Run([f"http://127.0.0.1:{port}" for port in ports], args.interval)
        try:
            print("==> starting Redis, the action server, Rasa and two hubs", flush=True)
            stack.start(timeout=300)
            faults = Faults(stack, env, ports, run)
            faults.start_hub(0)
            faults.start_hub(1)
            results = {}
            if not args.skip_faults:
                results = asyncio.run(faults_phase(args, stack, faults, run, secret))
            flood = asyncio.run(flood_phase(args, stack, run, secret)) if args.flood else {}
            if flood:
                results["flood"] = flood.pop("phase")
            found = transcripts_check(stack.env()["REDIS_URL"], run)
            rows = tally(run, found, results)
            fuzz = {}
            if args.fuzz:
                print("==> fuzz phase", flush=True)
                from benchmarks.fuzz import fuzz_hub  # Hypothesis is only needed here

                fuzz = fuzz_hub(run.hubs[0], args.fuzz, logs, FB_SECRET, ZALO)
            return {
                "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                "machine": machine(),
                "customers": {"rest": args.customers, "widget": args.customers},
                "interval": args.interval,
                "phases": rows,
                "fuzz": fuzz,
                "flood": flood,
                "hub_tracebacks": tracebacks(logs),
            }
        finally:
            run.stopping = True
            for name in list(stack.named):  # a paused Redis must be woken to be stopped
                if name == "redis":
                    try:
                        signal_group(stack, "redis", signal.SIGCONT)
                    except ProcessLookupError:
                        pass
            stack.stop()


# --- the flood phase -----------------------------------------------------------------------

FLOOD_CHARS = 2000  # each flood message as long as the hub takes (MAX_MESSAGE_CHARS)


async def until_quiet(last: List[float], quiet: float, most: float) -> None:
    """Until nothing has come for `quiet` seconds (or `most` have passed)."""
    started = time.monotonic()
    while time.monotonic() - last[0] < quiet and time.monotonic() - started < most:
        await asyncio.sleep(0.2)


async def flood_socket(hub: str, address: str, conversations: int, messages: int, refusals: set) -> dict:
    """One widget socket from `address` (a loopback address: the hub sees it as the
    client's) asking for `conversations` conversations, then sending `messages` messages
    of FLOOD_CHARS without waiting for any answer. Returns the conversations it got and
    what came back."""
    http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(address, 0)))
    sio = socketio.AsyncClient(reconnection=False, http_session=http)
    confirmed: List[str] = []
    replies: Counter = Counter()
    last = [time.monotonic()]

    async def confirm(session_id):
        confirmed.append(session_id)
        last[0] = time.monotonic()

    async def uttered(data):
        replies["one moment" if data.get("text") in refusals else "answered"] += 1
        last[0] = time.monotonic()

    sio.on("session_confirm", confirm)
    sio.on("bot_uttered", uttered)
    try:
        await sio.connect(hub, socketio_path="socket.io", transports=["websocket"], wait_timeout=10)
        for _ in range(conversations):
            await sio.emit("session_request", {"session_id": None})
        last[0] = time.monotonic()
        await until_quiet(last, 2.0, 30)
        if confirmed:
            for n in range(messages):
                await sio.emit("user_uttered", {"message": (f"flood {n} " + "x" * FLOOD_CHARS)[:FLOOD_CHARS]})
            await until_quiet(last, 8.0, 240)  # every message answered, or refused
        await sio.disconnect()
    except (socketio.exceptions.SocketIOError, OSError, asyncio.TimeoutError) as error:
        replies[f"error: {type(error).__name__}"] += 1
    finally:
        await http.close()
    return {
        "conversations": [conversation_named(s) for s in dict.fromkeys(confirmed)],
        "sent": messages if confirmed else 0,
        "replies": dict(replies),
    }


async def flood_phase(args, stack: Stack, run: Run, secret: str) -> dict:
    """Floods while the usual customers keep writing: one socket (from 127.0.0.2) asking
    for 20 conversations and sending `--flood` messages of 2 KB, as in issue 24's
    finding; then 40 sockets from one address (127.0.0.3), and 8 sockets from 8
    addresses, each sending a tenth as many. Redis's memory is sampled throughout; what
    the flood's conversations hold afterwards is counted. The usual customers' messages
    are tallied as the "flood" phase (lost must be 0)."""
    allow_websocket_transport()
    texts = Texts()
    refusals = {texts.text(k, lang) for k in ("one_moment", "conversation_full") for lang in ("en", "vi")}
    client = redis_sync.Redis.from_url(stack.env()["REDIS_URL"], decode_responses=True)

    def memory() -> Dict[str, int]:
        info = client.info("memory")
        return {"used": info["used_memory"], "max": info["maxmemory"], "keys": client.dbsize()}

    hub = run.hubs[0]
    run.stopping, run.phase = False, "flood"
    floods: Dict[str, List[dict]] = {}
    peak = [0]
    async with aiohttp.ClientSession() as http:
        rest = [RestCaller(run, http, f"fr{i}", i % 2) for i in range(args.customers)]
        widget = [WidgetVisitor(run, f"fw{i}", i % 2, secret) for i in range(args.customers)]
        loops = [
            asyncio.create_task(customer_loop(run, c, args.interval * i / (2 * args.customers)))
            for i, c in enumerate([*rest, *widget])
        ]

        async def sample() -> None:
            while True:
                peak[0] = max(peak[0], (await asyncio.to_thread(memory))["used"])
                await asyncio.sleep(0.5)

        sampler = asyncio.create_task(sample())
        began = time.monotonic()
        try:
            await asyncio.sleep(args.steady / 2)  # the usual customers, before
            before = await asyncio.to_thread(memory)
            print(f"==> flood: one socket, {args.flood} messages of 2 KB", flush=True)
            floods["one socket"] = [await flood_socket(hub, "127.0.0.2", 20, args.flood, refusals)]
            print("==> flood: 40 sockets from one address", flush=True)
            floods["40 sockets, one address"] = list(
                await asyncio.gather(
                    *[flood_socket(hub, "127.0.0.3", 3, args.flood // 10, refusals) for _ in range(40)]
                )
            )
            print("==> flood: 8 sockets from 8 addresses", flush=True)
            floods["8 sockets, 8 addresses"] = list(
                await asyncio.gather(
                    *[flood_socket(hub, f"127.0.1.{n + 1}", 3, args.flood // 10, refusals) for n in range(8)]
                )
            )
            await asyncio.sleep(args.steady / 2)  # the usual customers, after
        finally:
            run.stopping = True
            await asyncio.wait(loops, timeout=GIVE_UP + 30)
            for loop in loops:
                loop.cancel()
            for customer in widget:
                await customer._drop()
            sampler.cancel()
    after = await asyncio.to_thread(memory)
    rows = {}
    for name, sockets in floods.items():
        cids = [cid for s in sockets for cid in s["conversations"] if cid]
        stored = sum(
            1 for cid in cids for _, e in client.xrange(keys.transcript(cid)) if e.get("from") == "customer"
        )
        trackers = [client.strlen(keys.rasa_tracker(cid)) for cid in cids]
        replies: Counter = Counter()
        for s in sockets:
            replies.update(s["replies"])
        rows[name] = {
            "sockets": len(sockets),
            "sent": sum(s["sent"] for s in sockets),
            "conversations": len(cids),
            "stored": stored,
            "replies": dict(replies),
            "largest tracker (bytes)": max(trackers, default=0),
        }
    # What a turn costs in Rasa's tracker, from the usual customers' conversations meanwhile.
    per_turn = []
    for cid in {sent.conversation for sent in run.sent if sent.phase == "flood" and sent.conversation}:
        turns = sum(1 for _, e in client.xrange(keys.transcript(cid)) if e.get("from") == "customer")
        size = client.strlen(keys.rasa_tracker(cid))
        if turns and size:
            per_turn.append(size / turns)
    client.close()
    return {
        "phase": {"fault_seconds": round(time.monotonic() - began, 1), "heal_seconds": None},
        "floods": rows,
        "memory": {"before": before, "peak": peak[0], "after": after},
        "tracker_bytes_per_turn": {
            "conversations": len(per_turn),
            "median": round(sorted(per_turn)[len(per_turn) // 2]) if per_turn else 0,
            "max": round(max(per_turn, default=0)),
        },
    }


def flood_lines(flood: dict) -> List[str]:
    """The flood phase's figures, for docs/reliability.md."""
    if not flood:
        return []
    memory = flood["memory"]
    mb = lambda n: f"{n / 1e6:.1f} MB"  # noqa: E731
    return [
        "### Flood phase",
        "",
        table(
            [
                "flood",
                "sockets",
                "messages sent",
                "conversations",
                "messages stored",
                "replies",
                "largest tracker",
            ],
            [
                [
                    name,
                    f["sockets"],
                    f["sent"],
                    f["conversations"],
                    f["stored"],
                    ", ".join(f"{k}: {v}" for k, v in sorted(f["replies"].items())),
                    f"{f['largest tracker (bytes)'] / 1000:.0f} kB",
                ]
                for name, f in flood["floods"].items()
            ],
        ),
        "",
        f"Redis memory: {mb(memory['before']['used'])} before, {mb(memory['peak'])} at the peak, "
        f"{mb(memory['after']['used'])} after (maxmemory {mb(memory['before']['max'])}); keys "
        f"{memory['before']['keys']} before, {memory['after']['keys']} after. The usual customers' "
        "messages meanwhile are the table's \"flood\" row; their conversations' Rasa trackers hold "
        f"{flood['tracker_bytes_per_turn']['median']} bytes a turn (median; at most "
        f"{flood['tracker_bytes_per_turn']['max']}).",
        "",
    ]


def tracebacks(log_dir: Path) -> Dict[str, int]:
    """Tracebacks in the hub logs: all, and those through our own code (bot/). The rest
    are python-engineio and aiohttp logging garbage they were sent (answered 4xx)."""
    counts = {"all": 0, "through bot/": 0}
    for log in sorted(log_dir.glob("hub*.log")):
        blocks = log.read_text(errors="replace").split("Traceback (most recent call last)")[1:]
        counts["all"] += len(blocks)
        counts["through bot/"] += sum(
            1
            for b in blocks
            if any(line.startswith('  File "') and "/bot/" in line for line in b.splitlines())
        )
    return counts


def markdown(report: dict, command: str) -> str:
    header = [
        "phase",
        "sent",
        "accepted",
        "answered",
        "apologised",
        "empty answer",
        "in transcript",
        "lost",
        "retries",
        "503 + Retry-After",
        "other 5xx",
        "fault (s)",
        "time to heal (s)",
    ]
    rows = [
        [
            p["phase"],
            p["sent"],
            p["accepted"],
            p["answered"],
            p["apologised"],
            p["empty answer"],
            p["in transcript"],
            p["lost"],
            p["retries"],
            p["503 + Retry-After"],
            p["other 5xx"],
            p.get("fault_seconds"),
            p.get("heal_seconds"),
        ]
        for p in report["phases"]
    ]
    lines = [
        f"## Fault run (`{command}`)",
        "",
        f"Run {report['date']} on {report['machine']}: {report['customers']['rest']} REST "
        f"callers and {report['customers']['widget']} widget visitors, each writing every "
        f"{report['interval']:g} s (a new conversation each phase).",
        "",
        table(header, rows),
        "",
    ]
    fuzz = report.get("fuzz") or {}
    if fuzz:
        lines += [
            "### Fuzz phase",
            "",
            table(
                ["target", "requests", "statuses", "5xx"],
                [
                    [
                        name,
                        f["requests"],
                        ", ".join(f"{k}: {v}" for k, v in sorted(f["statuses"].items())),
                        f["5xx"],
                    ]
                    for name, f in fuzz["targets"].items()
                ],
            ),
            "",
            f"Total: {fuzz['requests']} requests, {fuzz['5xx']} answered 5xx. "
            f"Hub still healthy afterwards: {fuzz['healthy_after']}.",
            "",
        ]
    lines += flood_lines(report.get("flood") or {})
    lines += [f"Tracebacks in the hub logs over the whole run: {report['hub_tracebacks']}.", ""]
    return "\n".join(lines)


def write_doc(text: str) -> None:
    DOC.parent.mkdir(parents=True, exist_ok=True)
    intro = (
        DOC.read_text(encoding="utf-8").split("<!-- chaos:begin -->")[0]
        if DOC.exists()
        else "# Reliability\n\nFigures from real fault runs; reproduce with `make chaos`.\n\n"
    )
    DOC.write_text(intro + "<!-- chaos:begin -->\n" + text + "<!-- chaos:end -->\n", encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=3, help="REST callers, and as many widget visitors")
    parser.add_argument("--interval", type=float, default=4.0, help="seconds between one customer's messages")
    parser.add_argument("--steady", type=float, default=16.0, help="seconds of normal load around each fault")
    parser.add_argument("--hold", type=float, default=10.0, help="seconds each fault lasts before the repair")
    parser.add_argument("--fuzz", type=int, default=250, help="Hypothesis examples per fuzz target (0: none)")
    parser.add_argument("--skip-faults", action="store_true")
    parser.add_argument(
        "--flood",
        type=int,
        default=1000,
        help="messages the flood phase's one socket sends (others a tenth as many; 0: no flood)",
    )
    parser.add_argument(
        "--port-base",
        type=int,
        default=0,
        help="use six ports from here (default: free ports chosen by the system)",
    )
    parser.add_argument(
        "--out", type=Path, default=OUT, help="folder for chaos.json and the logs (default results/chaos)"
    )
    parser.add_argument("--no-docs", action="store_true", help="leave docs/reliability.md alone")
    args = parser.parse_args()
    report = run_all(args)
    (args.out / "chaos.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    command = "make chaos" + (f' CHAOS_ARGS="{" ".join(sys.argv[1:])}"' if sys.argv[1:] else "")
    text = markdown(report, command)
    print(text)
    if not args.no_docs:
        write_doc(text)
    lost = sum(p["lost"] for p in report["phases"])
    bad = sum(p["other 5xx"] for p in report["phases"]) + (report.get("fuzz") or {}).get("5xx", 0)
    return 1 if lost or bad else 0


if __name__ == "__main__":
    sys.exit(main())
