"""`make run` stops its processes callers first (scripts/stack.py `Stack.stop`): the hub,
then Rasa, the action server, and Redis last, each role within its grace. Real Redis, a
real action server and a real hub (no model: the hub runs without Rasa), watched from
outside: when did each process end."""

import asyncio
import sys
import threading
import time

import aiohttp
import psutil

from bot.settings import DEMO_LOGIN
from scripts.stack import STOP_ORDER, Stack, free_port, wait_for
from tests.helpers import eventually_sync


class Watcher:
    """When each of the stack's processes ended (exited, or a zombie not yet reaped)."""

    def __init__(self, stack: Stack):
        self.procs = {proc.pid: name for name, proc in stack.named.items()}
        self.ended = {}
        self.started = time.monotonic()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while len(self.ended) < len(self.procs) and time.monotonic() - self.started < 60:
            for pid, name in self.procs.items():
                if name in self.ended:
                    continue
                try:
                    gone = psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
                except psutil.NoSuchProcess:
                    gone = True
                if gone:
                    self.ended[name] = time.monotonic() - self.started
            time.sleep(0.005)

    def join(self):
        self._thread.join(timeout=60)
        return self.ended


def ignores_sigterm(ready):
    """A stand-in that ignores SIGTERM, and says so by creating `ready`."""
    code = (
        "import pathlib, signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "pathlib.Path(sys.argv[1]).touch(); time.sleep(300)"
    )
    return [sys.executable, "-c", code, str(ready)]


async def test_the_hub_stops_first_and_redis_last_and_the_hub_never_loses_redis(tmp_path):
    stack = Stack(
        redis_port=free_port(),
        action_port=free_port(),
        rasa_port=free_port(),
        hub_port=free_port(),
        redis_dir=tmp_path / "redis",
        persistent_redis=False,
        log_dir=tmp_path / "logs",
        grace={"hub": 3.0},
    )
    try:
        stack.start_redis()
        actions = stack.start_actions()
        stack.start_hub(RASA_URL=f"http://127.0.0.1:{free_port()}", HUB_DEMO="1")
        wait_for(f"http://127.0.0.1:{stack.action_port}/health", 120, actions)
        # What a running shop holds open: an agent console's live socket.
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            login = await http.post(
                f"{stack.hub_url}/api/agent/login", json={"name": DEMO_LOGIN[0], "password": DEMO_LOGIN[1]}
            )
            assert login.status == 200
            console = await http.ws_connect(
                f"{stack.hub_url}/api/agent/ws", headers={"Origin": stack.hub_url}
            )
            watcher = Watcher(stack)
            began = time.monotonic()
            await asyncio.to_thread(stack.stop)
            took = time.monotonic() - began
            await console.close()
        ended = watcher.join()
    finally:
        stack.stop()
    assert set(ended) == {"hub", "actions", "redis"}
    assert ended["hub"] < ended["actions"] < ended["redis"], ended
    assert took < sum(stack.grace[name] for name in STOP_ORDER)
    hub_log = (tmp_path / "logs" / "hub.log").read_text(errors="replace")
    # What a hub logs when Redis goes first: "Cannot receive from redis", "event listener
    # cannot subscribe (Error 111 ...)", "event listener lost Redis".
    lost = [
        line
        for line in hub_log.splitlines()
        if (" WARNING " in line or " ERROR " in line)
        and ("redis" in line.lower() or "event listener" in line)
    ]
    assert not lost, lost


def test_a_process_that_ignores_sigterm_is_killed_at_its_roles_grace(tmp_path):
    grace = {"hub": 1.0, "rasa": 1.0, "actions": 1.0, "redis": 1.0}
    stack = Stack(redis_port=free_port(), redis_dir=tmp_path / "redis", persistent_redis=False, grace=grace)
    try:
        stack.start_redis()
        hub = stack._spawn("hub", ignores_sigterm(tmp_path / "hub-ready"))
        rasa = stack._spawn("rasa-2", ignores_sigterm(tmp_path / "rasa-ready"))  # a second Rasa is a Rasa
        eventually_sync(
            lambda: (tmp_path / "hub-ready").exists() and (tmp_path / "rasa-ready").exists(),
            20,
            "both stand-ins ready",
            interval=0.01,
        )
        watcher = Watcher(stack)
        began = time.monotonic()
        stack.stop()
        took = time.monotonic() - began
        ended = watcher.join()
    finally:
        stack.stop()
    assert hub.returncode == rasa.returncode == -9  # killed, after their grace
    # In order, each role after its own grace (seen late on a busy machine, never early).
    assert 1.0 <= ended["hub"] < ended["rasa-2"] < ended["redis"]
    assert ended["rasa-2"] >= 2.0  # its grace began once the hub was gone
    assert took < 10  # bounded: without the kill, stop() would wait for ever
