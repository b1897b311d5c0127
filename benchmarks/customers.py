"""Simulated customers for the load benchmark, on three surfaces:

  RestCustomer      a POST per message to a REST webhook (Rasa's own, or the hub's, which
                    has the same shape); the replies come back in the response.
  WidgetCustomer    the website widget's socket.io protocol (the rasa-webchat events),
                    over the websocket transport a browser upgrades to.
  ConsoleWatcher    a logged-in agent console on the live-feed WebSocket, noting when each
                    conversation first appears in the queue.

Each customer plays one scripted conversation (benchmarks/conversations.yml) and times
every turn: from sending a message to its last reply.
"""

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
import time
from typing import Dict, List, Optional
import uuid

import aiohttp
import socketio
import yaml

from benchmarks.orderbook import order_email
from bot.core.sessions import conversation_named

SCRIPTS_FILE = Path(__file__).resolve().parent / "conversations.yml"
TURN_TIMEOUT = 60.0


def allow_websocket_transport() -> None:
    """Let python-engineio's client use the websocket transport with Rasa's aiohttp.

    python-engineio's client builds aiohttp>=3.10's ClientWSTimeout(ws_close=...) for its
    websocket; the aiohttp Rasa 3.6 pins (3.9) takes the same close timeout as a float.
    This patches aiohttp for the whole process: only the benchmark's own process calls it
    (never at import, so a test that imports this module runs unpatched)."""
    if not hasattr(aiohttp, "ClientWSTimeout"):
        aiohttp.ClientWSTimeout = lambda ws_close=None, ws_receive=None: ws_close


@dataclass
class Script:
    name: str
    order: str  # the demo order whose copies the customers complain about
    # "{order}" stands for the customer's own order number, "{email}" for the email on it
    turns: List[str]
    expected: List[Optional[int]] = field(default_factory=list)  # replies per turn, once probed

    def messages(self, order_id: str) -> List[str]:
        return [turn.format(order=order_id, email=order_email(order_id)) for turn in self.turns]


def load_scripts(path: Path = SCRIPTS_FILE) -> List[Script]:
    return [
        Script(s["name"], str(s["order"]), list(s["turns"]))
        for s in yaml.safe_load(path.read_text("utf-8"))["conversations"]
    ]


@dataclass
class Turn:
    text: str
    latency: Optional[float] = None  # seconds from sending to the last reply
    first_reply: Optional[float] = None
    replies: int = 0
    late: int = 0  # replies to the previous turn that came after it was judged complete
    error: str = ""


@dataclass
class Conversation:
    surface: str
    script: str
    conversation_id: str = ""
    turns: List[Turn] = field(default_factory=list)
    handoff: bool = False
    error: str = ""
    finished_at: float = 0.0

    @property
    def sent(self) -> List[str]:
        return [t.text for t in self.turns]


class RestCustomer:
    """One customer on a REST webhook: Rasa's (`direct`) or the hub's."""

    def __init__(self, http: aiohttp.ClientSession, base_url: str, surface: str) -> None:
        self.http = http
        self.url = f"{base_url}/webhooks/rest/webhook"
        self.surface = surface
        self.sender = f"bench{uuid.uuid4().hex[:12]}"
        # The hub keys REST conversations "rest-<sender>"; Rasa uses the sender as is.
        self.conversation_id = self.sender if surface == "direct" else f"rest-{self.sender}"
        self.handoff = False

    async def start(self) -> str:
        return self.conversation_id

    async def say(self, text: str, expected: Optional[int]) -> Turn:
        turn = Turn(text)
        body = {"sender": self.sender, "message": text, "metadata": {"channel": "web"}}
        started = time.perf_counter()
        try:
            async with self.http.post(
                self.url, json=body, timeout=aiohttp.ClientTimeout(total=TURN_TIMEOUT)
            ) as response:
                if response.status != 200:
                    turn.error = f"HTTP {response.status}"
                    return turn
                replies = await response.json()
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            turn.error = type(error).__name__
            return turn
        turn.latency = turn.first_reply = time.perf_counter() - started
        shown = [r for r in replies if r.get("text") or r.get("buttons") or r.get("image")]
        self.handoff = self.handoff or any("handoff" in (r.get("custom") or {}) for r in replies)
        turn.replies = len(shown)
        if not shown:
            turn.error = "no reply"
        return turn

    async def close(self) -> None:
        return None


class WidgetCustomer:
    """One customer in the website widget, speaking rasa-webchat's socket.io events and
    the two the shop page adds (bot/static/shop.js): `catch_up {after}` right after the
    widget's session_request (after: the last message the page showed, none for a new
    conversation), without which the hub holds the first replies back for CATCH_UP_WAIT
    (bot/channels/widget_delivery.py), and `seen {message_id}` for each message shown.

    A turn ends when the number of replies the probe saw for it has arrived; a turn
    that was never probed ends after `settle` seconds with no further reply."""

    surface = "widget"

    def __init__(self, hub_url: str, secret: str, settle: float = 1.0) -> None:
        self.hub_url = hub_url
        self.secret = secret
        self.settle = settle
        self.sio = socketio.AsyncClient(reconnection=False)
        self.received: asyncio.Queue = asyncio.Queue()
        self.confirmed: asyncio.Future = asyncio.get_running_loop().create_future()
        self.sio.on("bot_uttered", self._bot_uttered)
        self.sio.on("session_confirm", self._session_confirm)
        self.conversation_id = ""
        self.session_id = ""
        self.last_shown: Optional[str] = None

    async def _bot_uttered(self, data) -> None:
        self.received.put_nowait((time.perf_counter(), data))
        message_id = ((data or {}).get("metadata") or {}).get("message_id")
        if message_id:  # shown at once here: acknowledged as the page does
            self.last_shown = message_id
            await self.sio.emit("seen", {"message_id": message_id})

    async def _session_confirm(self, session_id) -> None:
        if not self.confirmed.done():
            self.confirmed.set_result(session_id)

    async def start(self) -> str:
        await self.sio.connect(
            self.hub_url, socketio_path="socket.io", transports=["websocket"], wait_timeout=TURN_TIMEOUT
        )
        await self.sio.emit("session_request", {"session_id": None})
        await self.sio.emit("catch_up", {"after": self.last_shown})
        self.session_id = await asyncio.wait_for(self.confirmed, TURN_TIMEOUT)
        self.conversation_id = conversation_named(self.session_id)
        return self.conversation_id

    async def say(self, text: str, expected: Optional[int]) -> Turn:
        turn = Turn(text)
        while not self.received.empty():  # a late reply to an earlier turn is not this one's
            self.received.get_nowait()
            turn.late += 1
        started = time.perf_counter()
        try:
            await self.sio.emit("user_uttered", {"message": text, "session_id": self.session_id})
            arrived, _ = await asyncio.wait_for(self.received.get(), TURN_TIMEOUT)
            turn.first_reply = arrived - started
            turn.replies, last = 1, arrived
            while expected is None or turn.replies < expected:
                wait = self.settle if expected is None else TURN_TIMEOUT - (last - started)
                try:
                    last, _ = await asyncio.wait_for(self.received.get(), max(wait, 0.01))
                    turn.replies += 1
                except asyncio.TimeoutError:
                    if expected is not None:
                        turn.error = f"{turn.replies} of {expected} replies"
                    break
            turn.latency = last - started
        except asyncio.TimeoutError:
            turn.error = "no reply"
        except socketio.exceptions.SocketIOError as error:
            turn.error = type(error).__name__
        return turn

    async def close(self) -> None:
        if self.sio.connected:
            await self.sio.disconnect()


class ConsoleWatcher:
    """An agent console connected to the hub's live feed."""

    def __init__(self, http: aiohttp.ClientSession, hub_url: str, login: tuple) -> None:
        self.http = http
        self.hub_url = hub_url
        self.login = login
        self.queued_seen: Dict[str, float] = {}  # conversation id -> wall clock it showed
        self.events = 0
        self._task: Optional[asyncio.Task] = None
        self._ws: Optional[aiohttp.ClientWebSocketResponse] = None

    async def connect(self) -> None:
        name, password = self.login
        async with self.http.post(
            f"{self.hub_url}/api/agent/login", json={"name": name, "password": password}
        ) as response:
            if response.status != 200:
                raise RuntimeError(f"agent login failed: HTTP {response.status}")
        self._ws = await self.http.ws_connect(
            f"{self.hub_url}/api/agent/ws", headers={"Origin": self.hub_url}
        )
        self._task = asyncio.create_task(self._read(self._ws))

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            seen = time.time()
            event = message.json()
            self.events += 1
            if event.get("type") == "queue":
                self.queued_seen.setdefault(event.get("conversation_id"), seen)

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
