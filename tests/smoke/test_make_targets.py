"""Every make target the README names, run through make itself, briefly: the real code
path with a few customers for a few seconds, a sampled evaluation, each conversation of
the demo week once. A target that crashes at start, or a recipe that no longer runs,
fails here, not on a user's machine. Figures go to results/smoke/, never to docs/.

Each run starts its own processes on free ports (and its own Redis, in a temporary
folder), so nothing touches a developer's `.run/` stack or another test session."""

import json
import os
from pathlib import Path
import shutil
import signal
import socket
import subprocess
from typing import Dict, Iterator

import pytest
import requests
import yaml

from benchmarks.nlu_quality import EXTERNAL
from scripts.stack import free_port, wait_for
from tests.helpers import ROOT, eventually_sync

pytestmark = [pytest.mark.smoke, pytest.mark.needs_model]

OUT = ROOT / "results" / "smoke"
PUBLISHED = [ROOT / "docs" / "benchmarks.md", ROOT / "docs" / "reliability.md", ROOT / "docs" / "img"]
# What the test session sets for itself (tests/conftest.py), not what a user's shell has.
SESSION_ONLY = ("REDIS_URL", "PLAYBOOK_PATH", "PYTEST_CURRENT_TEST")
DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


def published() -> Dict[str, int]:
    files = [p for path in PUBLISHED for p in ([path] if path.is_file() else sorted(path.rglob("*")))]
    return {str(f): f.stat().st_mtime_ns for f in files if f.is_file()}


@pytest.fixture(autouse=True)
def docs_untouched() -> Iterator[None]:
    before = published()
    yield
    assert published() == before, "a smoke run rewrote docs/ (its figures belong in results/smoke/)"


def user_env(**variables: str) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SESSION_ONLY}
    return {**env, **variables}


def fresh(folder: Path) -> Path:
    """An empty folder for a run's report, so nothing an earlier run left passes for it."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def make(target: str, timeout: float, env: Dict[str, str], **variables: str) -> str:
    """`make <target> NAME=value ...`; its output, once it exited 0."""
    command = ["make", "--no-print-directory", target, *(f"{k}={v}" for k, v in variables.items())]
    done = subprocess.run(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"{' '.join(command)} exited {done.returncode}:\n{done.stdout[-6000:]}"
    return done.stdout


def started(target: str, env: Dict[str, str], log: Path) -> subprocess.Popen:
    """`make <target>` in the background, in a process group of its own (as a terminal
    would run it, so Ctrl-C reaches make and what it started)."""
    with log.open("wb") as out:  # make writes to its own copy
        return subprocess.Popen(
            ["make", "--no-print-directory", target],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def interrupt(proc: subprocess.Popen, timeout: float = 60) -> int:
    """Ctrl-C, as in the terminal; its exit code."""
    os.killpg(proc.pid, signal.SIGINT)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise


def healthy(url: str) -> None:
    body = requests.get(f"{url}/health", timeout=10).json()
    assert {k: body[k] for k in ("hub", "redis", "rasa", "actions")} == dict.fromkeys(
        ("hub", "redis", "rasa", "actions"), "ok"
    ), body


def listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_make_run_answers_then_make_hub_and_make_shell_use_it_and_ctrl_c_stops_everything(tmp_path):
    ports = {name: free_port() for name in ("REDIS_PORT", "ACTION_PORT", "RASA_PORT", "HUB_PORT")}
    env = user_env(REDIS_DIR=str(tmp_path / "redis"), **{k: str(v) for k, v in ports.items()})
    hub = f"http://127.0.0.1:{ports['HUB_PORT']}"
    run = started("run", env, tmp_path / "run.log")
    try:
        wait_for(f"{hub}/health", 240, run)
        healthy(hub)
        reply = requests.post(
            f"{hub}/webhooks/rest/webhook", json={"sender": "smoke-run", "message": "hi"}, timeout=60
        )
        assert reply.status_code == 200 and reply.json(), reply.text

        # `make hub`: a second hub on the same Rasa and Redis.
        password = (tmp_path / "redis" / "password").read_text().strip()
        redis_url = f"redis://:{password}@127.0.0.1:{ports['REDIS_PORT']}/0"
        second = free_port()
        only_hub = started(
            "hub",
            user_env(
                HUB_PORT=str(second),
                REDIS_URL=redis_url,
                RASA_URL=f"http://127.0.0.1:{ports['RASA_PORT']}",
                ACTION_PORT=str(ports["ACTION_PORT"]),
            ),
            tmp_path / "hub.log",
        )
        try:
            wait_for(f"http://127.0.0.1:{second}/health", 60, only_hub)
            healthy(f"http://127.0.0.1:{second}")
        finally:
            interrupt(only_hub)
        assert not listening(second)

        # `make shell`: Rasa's shell on the same Redis and action server, driven by its stdin.
        shell = subprocess.run(
            ["make", "--no-print-directory", "shell"],
            cwd=ROOT,
            env=env,
            input="hi\n/stop\n",
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=240,
        )
        assert shell.returncode == 0, shell.stdout[-6000:]
        greeting = next(r["text"] for r in DOMAIN["responses"]["utter_greet"] if not r.get("condition"))
        assert "Bot loaded" in shell.stdout and greeting in shell.stdout, shell.stdout[-6000:]
    finally:
        code = interrupt(run)
        log = (tmp_path / "run.log").read_text(errors="replace")
    assert code in (0, -signal.SIGINT), log[-6000:]  # make dies of the SIGINT it passed on
    assert "==> stopping" in log, log[-6000:]
    # Every process `make run` started has stopped with it.
    for name, port in ports.items():
        eventually_sync(lambda port=port: not listening(port), 30, f"{name} {port} closed")


def test_make_demo_data_plays_each_conversation_of_the_week(tmp_path):
    ports = {name: str(free_port()) for name in ("REDIS_PORT", "ACTION_PORT", "RASA_PORT", "HUB_PORT")}
    out = make("demo-data", 400, user_env(REDIS_DIR=str(tmp_path / "redis"), **ports), DEMO_ARGS="--once")
    week = yaml.safe_load((ROOT / "scripts" / "demo_week.yml").read_text(encoding="utf-8"))["conversations"]
    assert f"{len(week)}/{len(week)} " in out and "==> last 7 days:" in out, out[-6000:]


def test_make_bench_with_a_few_customers():
    out_dir = fresh(OUT / "bench")
    args = f"--customers 2 --conversations 1 --levels --unloaded 1 --bursts 0 --phase-seconds 60 --no-docs --out {out_dir}"
    make("bench", 400, user_env(), BENCH_ARGS=args)
    report = json.loads((out_dir / "load.json").read_text(encoding="utf-8"))
    assert [p["name"] for p in report["phases"]][:3] == [
        "direct, 1 customer",
        "hub REST, 1 customer",
        "widget, 1 customer",
    ]
    assert all(p["messages"] and not p["errors"] for p in report["phases"]), report["phases"]
    assert report["tracker_check"]["faulty"] == [] and report["lock_bursts"]["faulty"] == []
    assert (out_dir / "load-latency.png").exists()


def test_make_chaos_with_a_customer_and_short_faults():
    out_dir = fresh(OUT / "chaos")
    args = f"--customers 1 --interval 2 --steady 4 --hold 2 --fuzz 3 --flood 100 --no-docs --out {out_dir}"
    make("chaos", 400, user_env(), CHAOS_ARGS=args)  # exits 1 on a lost message or a 5xx
    report = json.loads((out_dir / "chaos.json").read_text(encoding="utf-8"))
    assert len(report["phases"]) == 8 and all(p["sent"] for p in report["phases"]), report["phases"]
    assert "flood" in [p["phase"] for p in report["phases"]]
    assert report["fuzz"]["healthy_after"]


def test_make_eval_on_a_sample():
    out_dir = fresh(OUT / "eval")
    # The help-page answers on the demo sets only, printed (--brief writes nothing).
    make("eval", 400, user_env(), EVAL_ARGS=f"--folds 0 --sample 2 --out {out_dir}", KNOWLEDGE_ARGS="--brief")
    report = json.loads((out_dir / "nlu.json").read_text(encoding="utf-8"))
    assert report["sample"] == 2 and report["default_model_retrained"]
    for figures in (report["heldout_intents"], report["heldout_entity_intents"], report["entities"]):
        assert {"ours", "default"} <= set(figures), figures
    sampled = report["heldout_intents"]["messages"]  # two per intent, of about 250 per language
    assert set(sampled) == {"en", "vi"} and all(0 < n < 100 for n in sampled.values()), sampled
    if EXTERNAL.exists():  # ../shared/eval, beside the project's folder
        assert set(report["external"]) == {"ours", "default"}
