"""The order backends' test parts: a local aiohttp server per platform that speaks the
request and response shapes of that platform's public API documentation (one fixture
module each: shopify_api.py, woocommerce_api.py, haravan_api.py, contract_api.py), able
to be slow (it never answers until the test ends), failing (500) or refusing; and a real
PostgreSQL server for the session (Debian's package: scripts/install_postgres.sh),
started with initdb in a temp dir on a free port, as tests/conftest.py starts Redis."""

import contextlib
import glob
import os
from pathlib import Path
import shutil
import subprocess
import tempfile
import time
from typing import Callable, List

from aiohttp import web
import pytest

from actions.backends import _stores
from actions.backends.settings import order_settings
from scripts.stack import free_port, wait_for_port
from tests.backends.helpers import Fake


@pytest.fixture
def serve(aiohttp_server):
    """serve(fake, add_routes) -> the fake, running on a local port (fake.url)."""
    fakes: List[Fake] = []

    async def start(fake: Fake, add_routes: Callable[[web.Application, Fake], None]) -> Fake:
        app = web.Application(middlewares=[fake.middleware])
        add_routes(app, fake)
        server = await aiohttp_server(app)
        fake.url = str(server.make_url("")).rstrip("/")
        fakes.append(fake)
        return fake

    yield start
    for fake in fakes:
        fake.release.set()


@pytest.fixture
async def order_env(monkeypatch, redis_url):
    """Point the actions' order store at a backend through the environment, as an
    operator would; the settings and stores are forgotten again after the test."""

    def configure(**variables: str) -> None:
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        order_settings.cache_clear()

    yield configure
    monkeypatch.undo()
    order_settings.cache_clear()
    for store in list(_stores.values()):
        await store.close()
    _stores.clear()


# --- PostgreSQL ------------------------------------------------------------------------


def postgres_bin() -> Path:
    """Debian's PostgreSQL binaries (/usr/lib/postgresql/<version>/bin), newest first."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).resolve().parent
    raise RuntimeError("PostgreSQL is not installed: run scripts/install_postgres.sh (make postgres)")


@pytest.fixture(scope="session")
def postgres_dsn():
    """A real PostgreSQL server for the session, owned by this process's user (as root,
    by the `postgres` system user the package creates): trust auth on 127.0.0.1 only.
    Its folder is its own under the system's temp dir (pytest's are closed to others)."""
    binaries = postgres_bin()
    root = Path(tempfile.mkdtemp(prefix="orders-postgres-"))
    data, sockets = root / "data", root / "sockets"
    sockets.mkdir()
    as_root = os.geteuid() == 0
    prefix: List[str] = []
    if as_root:
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        prefix
        + [
            str(binaries / "initdb"),
            "-D",
            str(data),
            "-U",
            "orders",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    port = free_port()
    server = subprocess.Popen(
        prefix
        + [
            str(binaries / "postgres"),
            "-D",
            str(data),
            "-p",
            str(port),
            "-h",
            "127.0.0.1",
            "-k",
            str(sockets),
            "-c",
            "fsync=off",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port, 30)
        # The port opens before the server takes connections ("the database system is
        # starting up"): wait until pg_isready says it accepts them.
        deadline = time.monotonic() + 30
        while (
            subprocess.run(
                [str(binaries / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port)], check=False
            ).returncode
            != 0
        ):
            if time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL on port {port} never accepted connections")
            time.sleep(0.1)
        yield f"postgresql://orders@127.0.0.1:{port}/postgres"
    finally:
        server.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(timeout=10)
        if server.poll() is None:
            server.kill()
        shutil.rmtree(root, ignore_errors=True)
