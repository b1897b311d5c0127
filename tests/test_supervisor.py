"""`make run`'s supervisor (scripts/supervisor.py) with real child processes and a
clock the test moves: a killed child comes back after a back-off that grows while it
keeps crashing and resets once it has stayed up."""

import subprocess
import sys

from scripts.supervisor import MAX_DELAY, STABLE, Supervisor


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def sleeper():
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])


def test_a_killed_child_is_restarted_after_a_growing_back_off():
    clock, said = Clock(), []
    supervisor = Supervisor(log=said.append, clock=clock)
    first, other = sleeper(), sleeper()
    supervisor.watch("rasa", sleeper, first)
    supervisor.watch("hub", sleeper, other)
    try:
        first.kill()
        first.wait()
        assert supervisor.check() == [] and supervisor.down() == ["rasa"]
        assert "rasa stopped" in said[-1] and "restarting in 1 s" in said[-1]
        clock.now += 1
        assert supervisor.check() == ["rasa"] and supervisor.down() == []
        second = supervisor.children["rasa"].proc
        assert second.poll() is None and second.pid != first.pid
        assert supervisor.children["hub"].proc is other  # the others carry on untouched

        second.kill()  # crashes again at once: the wait doubles
        second.wait()
        supervisor.check()
        assert "restarting in 2 s" in said[-1]
        clock.now += 1
        assert supervisor.check() == []
        clock.now += 1
        assert supervisor.check() == ["rasa"]

        third = supervisor.children["rasa"].proc  # stays up a while, then stops: 1 s again
        clock.now += STABLE
        third.kill()
        third.wait()
        supervisor.check()
        assert "restarting in 1 s" in said[-1]
    finally:
        for child in supervisor.children.values():
            child.proc.kill()
            child.proc.wait()


def test_the_back_off_is_capped():
    clock = Clock()
    supervisor = Supervisor(log=lambda _: None, clock=clock)
    supervisor.watch("actions", sleeper, sleeper())
    try:
        for _ in range(8):
            child = supervisor.children["actions"]
            child.proc.kill()
            child.proc.wait()
            supervisor.check()
            clock.now = child.restart_at
            supervisor.check()
        assert supervisor.children["actions"].delay == MAX_DELAY
    finally:
        supervisor.children["actions"].proc.kill()
        supervisor.children["actions"].proc.wait()
