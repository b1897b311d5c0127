"""No sticky sessions, in a real browser (Debian's chromium, Playwright) with the
unmodified rasa-webchat widget: two hub processes behind a load balancer that sends each
new connection to the next hub in turn (a TCP proxy here, no affinity of any kind). The
widget speaks WebSocket only, one connection, so it works whichever hub it lands on;
when that hub is told to stop (SIGTERM, as on a deploy) the widget reconnects, to the
other hub, and the conversation goes on with nothing lost or shown twice. The stand-in
Rasa answers "heard: ..." (no model needed)."""

import asyncio
import contextlib
import secrets
import signal

from aiohttp import web
from playwright.async_api import async_playwright, expect
import pytest

from scripts.stack import Stack, free_port, wait_for
from tests.browser.helpers import ARGS, CHROMIUM, TIMEOUT
from tests.hub.helpers import FakeRasa

BOT = ".rw-message:not(.rw-typing-indication) .rw-response"


class RoundRobin:
    """A TCP load balancer: each new connection goes to the next backend that accepts it."""

    def __init__(self, ports):
        self.ports = ports
        self.turn = 0
        self.server = None
        self.port = free_port()
        self.pipes = set()
        self.requests = []  # (backend port, the first request line of each connection)

    async def _pipe(self, reader, writer):
        with contextlib.suppress(Exception):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _serve(self, client_reader, client_writer):
        first = await client_reader.read(65536)
        for _ in self.ports:
            port = self.ports[self.turn % len(self.ports)]
            self.turn += 1
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                break
            except OSError:
                continue
        else:
            client_writer.close()
            return
        self.requests.append((port, first.split(b"\r\n", 1)[0].decode(errors="replace")))
        writer.write(first)
        tasks = {
            asyncio.create_task(self._pipe(client_reader, writer)),
            asyncio.create_task(self._pipe(reader, client_writer)),
        }
        self.pipes |= tasks
        await asyncio.gather(*tasks, return_exceptions=True)
        self.pipes -= tasks

    async def start(self):
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def stop(self):
        self.server.close()
        for task in list(self.pipes):
            task.cancel()


async def version(request):
    return web.json_response({"version": "stand-in"})


@pytest.fixture
async def stand_in_rasa(aiohttp_server):
    fake = FakeRasa()
    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", fake.webhook)
    app.router.add_get("/", version)
    server = await aiohttp_server(app)
    fake.url = str(server.make_url("")).rstrip("/")
    return fake


async def say(page, text):
    await page.locator(".rw-new-message").fill(text)
    await page.locator(".rw-new-message").press("Enter")
    await expect(page.locator(BOT).filter(has_text=f"heard: {text}")).to_have_count(1)


async def test_the_widget_works_on_any_hub_and_moves_when_its_hub_stops(redis_url, stand_in_rasa, tmp_path):
    logs = tmp_path / "logs"
    stack = Stack(redis_url=redis_url, log_dir=logs)
    ports = {"hub-a": free_port(), "hub-b": free_port()}
    env = dict(
        RASA_URL=stand_in_rasa.url,
        HUB_SECRET=secrets.token_hex(16),
        STILL_HERE_AFTER="3600",
        REST_PER_IP_MINUTE="0",
        WIDGET_CONNECTS_PER_IP_MINUTE="0",
    )
    procs = {name: stack.spawn_hub(name, HUB_PORT=str(port), **env) for name, port in ports.items()}
    balancer = RoundRobin(list(ports.values()))
    try:
        for name, port in ports.items():
            await asyncio.to_thread(wait_for, f"http://127.0.0.1:{port}/health/ready", 60, procs[name])
        await balancer.start()
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                page = await (await browser.new_context()).new_page()
                page.set_default_timeout(TIMEOUT)
                await page.goto(f"http://127.0.0.1:{balancer.port}/")
                await expect(page.locator(".rw-launcher")).to_be_visible()  # shown once connected
                await page.locator(".rw-launcher").click()
                await expect(page.locator(BOT).filter(has_text="heard: /greet")).to_have_count(1)
                for n in range(3):
                    await say(page, f"before {n}")
                # One WebSocket, never long-polling, on whichever hub it landed.
                sockets = [(port, line) for port, line in balancer.requests if "/socket.io/" in line]
                assert len(sockets) == 1 and "transport=websocket" in sockets[0][1], balancer.requests
                holding = next(name for name, port in ports.items() if port == sockets[0][0])

                procs[holding].send_signal(signal.SIGTERM)  # a deploy replaces that hub
                assert await asyncio.to_thread(procs[holding].wait, 15) == 0
                for n in range(3):  # the widget reconnected, to the other hub
                    await say(page, f"after {n}")
                other = next(port for name, port in ports.items() if name != holding)
                sockets = [(port, line) for port, line in balancer.requests if "/socket.io/" in line]
                assert [port for port, _ in sockets[1:]] == [other], sockets
                assert all("transport=websocket" in line for _, line in sockets), sockets
                polled = [
                    line
                    for name in ports
                    for line in (logs / f"{name}.log").read_text().splitlines()
                    if "transport=polling" in line
                ]
                assert not polled, polled  # not even on a connection kept alive for the page's files
                shown = [t.strip() for t in await page.locator(BOT).all_inner_texts()]
                heard = [t for t in shown if t.startswith("heard:")]
                assert heard == [
                    "heard: /greet",
                    *(f"heard: before {n}" for n in range(3)),
                    *(f"heard: after {n}" for n in range(3)),
                ]
            finally:
                await browser.close()
    finally:
        await balancer.stop()
        await asyncio.to_thread(stack.stop)
