"""A hub told to stop (SIGTERM, as on every deploy) stops taking connections, tells the
widgets on it to reconnect (they reconnect to another hub, through the load balancer,
and get what they missed there), finishes the turns in flight, and exits within 10 s.
Two real hub processes (python -m bot) on the session's Redis, the stand-in Rasa in this
process holding the turns at a gate until the test lets them go."""

import asyncio
import secrets
import signal
import socket
import time

import aiohttp

from bot.app import SHUTDOWN_TIMEOUT
from scripts.stack import Stack, free_port, wait_for
from tests.helpers import eventually
from tests.hub.helpers import WidgetCustomer, rest_sender, without_intro

STOP_BOUND = 10.0  # make run's grace for a hub (scripts/stack.py), and the issue's


def refuses(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


async def until(condition, timeout=10):
    await eventually(condition, timeout, interval=0.01)


async def test_a_stopping_hub_finishes_its_turns_and_its_widgets_reconnect_elsewhere(
    redis_url, fake_rasa, tmp_path
):
    stack = Stack(redis_url=redis_url, log_dir=tmp_path / "logs")
    ports = {"hub-a": free_port(), "hub-b": free_port()}
    env = dict(
        RASA_URL=fake_rasa.url,
        HUB_SECRET=secrets.token_hex(16),
        STILL_HERE_AFTER="3600",
        REST_PER_IP_MINUTE="0",
        WIDGET_CONNECTS_PER_IP_MINUTE="0",
        RASA_TIMEOUT="30",
    )
    procs = {name: stack.spawn_hub(name, HUB_PORT=str(port), **env) for name, port in ports.items()}
    customer = moved = None
    try:
        for name, port in ports.items():
            await asyncio.to_thread(wait_for, f"http://127.0.0.1:{port}/health/ready", 60, procs[name])
        hub_a, hub_b = (f"http://127.0.0.1:{port}" for port in ports.values())
        customer = WidgetCustomer(hub_a + "/")
        told = asyncio.Event()
        customer.sio.on("disconnect", lambda *reason: told.set())
        session = await customer.connect()
        fake_rasa.gate = asyncio.Event()  # the turns in flight stay with the assistant
        await customer.say("a widget turn in flight")
        sender = rest_sender()
        async with aiohttp.ClientSession() as http:
            rest = asyncio.create_task(
                http.post(
                    f"{hub_a}/webhooks/rest/webhook",
                    json={"sender": sender, "message": "a REST turn in flight"},
                )
            )
            arrived = {(await asyncio.wait_for(fake_rasa.arrived.get(), 10))["message"] for _ in range(2)}
            assert arrived == {"a widget turn in flight", "a REST turn in flight"}

            stopped_at = time.monotonic()
            procs["hub-a"].send_signal(signal.SIGTERM)
            await until(lambda: refuses(ports["hub-a"]))  # no new connections
            await asyncio.wait_for(told.wait(), 5)  # the widget is told to go
            assert procs["hub-a"].poll() is None  # ... while its turns are still in flight

            # The widget reconnects, through the load balancer, to the other hub.
            moved = WidgetCustomer(hub_b + "/")
            assert await moved.connect(session_id=session, after=customer.last_id) == session
            # The assistant takes its time: longer than aiohttp's own wait for requests and
            # the hub's closing after it (a turn outlasting them is the behaviour under
            # test; this is not a wait for something to happen).
            await asyncio.sleep(SHUTDOWN_TIMEOUT + 3.0)
            assert procs["hub-a"].poll() is None  # still finishing its turns
            fake_rasa.gate.set()  # the assistant answers the turns in flight
            reply = await moved.until(lambda m: m.get("text") == "heard: a widget turn in flight")
            assert reply
            response = await asyncio.wait_for(rest, 10)
            assert response.status == 200
            assert without_intro(await response.json())[0]["text"] == "heard: a REST turn in flight"

        code = await asyncio.to_thread(procs["hub-a"].wait, STOP_BOUND + 5)
        took = time.monotonic() - stopped_at
        assert code == 0 and took < STOP_BOUND, (code, took)
        log = (tmp_path / "logs" / "hub-a.log").read_text(errors="replace")
        assert "1 widget socket(s) told to reconnect elsewhere; turns in flight all finished" in log
        assert "Traceback" not in log
    finally:
        fake_rasa.gate = None
        for client in (customer, moved):
            if client is not None:
                await client.close()
        await asyncio.to_thread(stack.stop)
