"""`make cluster`'s brief mode (benchmarks/cluster.py --brief, about 40 s): a Redis master,
a replica and three Sentinels, two stand-in Rasa with no lock of their own and two hubs,
all real processes on loopback, under REST and widget customers (each REST conversation
sends two messages at once, one to each hub) while the master, a Rasa and a hub are
killed in turn. Nothing may be lost, no turns may interleave, and every fault heals."""

import json
import os
from pathlib import Path
import subprocess
import sys

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "results" / "cluster" / "cluster-brief.json"


def test_the_brief_cluster_run_loses_nothing_and_never_interleaves_turns():
    REPORT.unlink(missing_ok=True)
    run = subprocess.run(
        [sys.executable, "-m", "benchmarks.cluster", "--brief", "--no-docs"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    report = json.loads(REPORT.read_text())
    phases = {p["phase"]: p for p in report["phases"]}
    assert list(phases) == [
        "warm-up",
        "Redis master killed",
        "one Rasa killed",
        "one hub killed",
        "cool-down",
    ]
    assert all(p["sent"] and p["lost"] == 0 and p["other 5xx"] == 0 for p in phases.values()), phases
    assert report["turns"]["conversations"] >= 10 and not report["turns"]["interleaved"], report["turns"]
    for fault in ("Redis master killed", "one Rasa killed", "one hub killed"):
        assert phases[fault]["heal_new"] is not None and phases[fault]["heal_customers"] is not None, fault
