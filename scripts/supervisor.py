"""Keeps `make run`'s children up: a child that exits is started again, after a back-off
that doubles while it keeps crashing (1 s, 2 s, 4 s ... at most MAX_DELAY) and resets once
it has stayed up for STABLE seconds. Every exit and restart is logged.

While a child is down the others carry on: the hub apologises and queues customers when
Rasa or the action server is away, and answers 503 with Retry-After while Redis is.
"""

from dataclasses import dataclass, field
import subprocess
import time
from typing import Callable, Dict, List, Optional

MAX_DELAY = 30.0
STABLE = 60.0


@dataclass
class Child:
    name: str
    start: Callable[[], subprocess.Popen]
    proc: subprocess.Popen
    started_at: float
    delay: float = 1.0
    restart_at: Optional[float] = None  # set while it is down, waiting for its restart
    restarts: int = 0


@dataclass
class Supervisor:
    log: Callable[[str], None] = print
    clock: Callable[[], float] = time.monotonic
    children: Dict[str, Child] = field(default_factory=dict)

    def watch(self, name: str, start: Callable[[], subprocess.Popen], proc: subprocess.Popen) -> None:
        self.children[name] = Child(name, start, proc, self.clock())

    def check(self) -> List[str]:
        """Notice exits and restart those whose back-off has passed; returns the names
        restarted this round."""
        now = self.clock()
        restarted = []
        for child in self.children.values():
            if child.restart_at is None and child.proc.poll() is not None:
                if now - child.started_at >= STABLE:
                    child.delay = 1.0  # it had been up a while: not a crash loop
                child.restart_at = now + child.delay
                self.log(
                    f"supervisor: {child.name} stopped (exit {child.proc.returncode}); "
                    f"restarting in {child.delay:.0f} s"
                )
                child.delay = min(child.delay * 2, MAX_DELAY)
            elif child.restart_at is not None and now >= child.restart_at:
                child.proc = child.start()
                child.started_at, child.restart_at = now, None
                child.restarts += 1
                restarted.append(child.name)
                self.log(f"supervisor: {child.name} restarted (restart {child.restarts})")
        return restarted

    def down(self) -> List[str]:
        return [c.name for c in self.children.values() if c.restart_at is not None]
