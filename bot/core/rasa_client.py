"""Talks to Rasa over HTTP only (its REST channel): no Rasa import in the hub.

What goes to Rasa: the customer's text as Rasa may see it (`for_rasa`: Rasa reads any
text starting with "/" as an intent; customers may send only the payloads of the bot's
own buttons that way, anything else, e.g. "/agent_handback", reaches Rasa as plain text
without its slashes). What comes back: messages a customer may get, and the handoff
packet when the assistant hands over (`relayable`), and what the hub does for it (a
one-time link to an order's owner: `proof_link_requests`).

Several Rasa servers may stand behind one hub (RASA_URL=url1,url2): messages go to them
in turn. They must share the Redis tracker and lock stores (endpoints.yml), so any of
them can continue any conversation and two messages of one conversation never
interleave. A server that refuses the connection is skipped for that message: the
message was not sent, so trying the next one cannot process it twice.
"""

import asyncio
import itertools
import re
from typing import Any, Dict, List, Optional, Sequence, Tuple

import aiohttp

from contract.intents import COMPLAINT_TYPES

HANDBACK_MESSAGE = "/agent_handback"  # the hub's own: only the hub hands a conversation back
CANCEL_HANDOFF = "/cancel_handoff"  # the hub's own: a customer took back their request for a person
CUSTOMER_INTENTS = frozenset(
    {"greet", "affirm", "deny", "request_human", "choose_remedy", "rate", "inform"}
    # the "which of these?" buttons (actions/triage.py)
    | set(COMPLAINT_TYPES)
)
INTENT_NAME_RE = re.compile(r"/([^{@]+)")  # how Rasa reads the intent name after the "/"
LEADING_SLASHES_RE = re.compile(r"^[\s/]+")


def for_rasa(text: str) -> str:
    """The customer's text as Rasa may see it: a button payload, or plain text."""
    text = text.strip()
    match = INTENT_NAME_RE.match(text)
    if match is None or match.group(1).strip() in CUSTOMER_INTENTS:
        return text
    return LEADING_SLASHES_RE.sub("", text) or "?"  # only slashes: Rasa still needs some text


def relayable(replies: List[Dict[str, Any]]) -> Tuple[List[Dict[str, Any]], Optional[Any]]:
    """Rasa's replies as the messages a customer may get (text, buttons, image) and the
    handoff packet, if one came (the custom payload {"handoff": ...}, for agents only)."""
    messages, packet = [], None
    for reply in replies:
        custom = reply.get("custom") or {}
        if isinstance(custom, dict) and "handoff" in custom:
            packet = custom["handoff"]
            continue
        message = {k: reply[k] for k in ("text", "buttons", "image") if reply.get(k)}
        if message:
            messages.append(message)
    return messages, packet


def proof_link_requests(replies: List[Dict[str, Any]]) -> List[str]:
    """The ids of the one-time links the assistant asked for (the custom payload
    {"proof_link": id}: for the hub only, never shown to the customer)."""
    found = []
    for reply in replies:
        custom = reply.get("custom") or {}
        if isinstance(custom, dict) and isinstance(custom.get("proof_link"), str):
            found.append(custom["proof_link"])
    return found


class RasaUnavailable(Exception):
    """Rasa (or its action server) did not answer in time or answered with an error."""


class RasaClient:
    def __init__(self, session: aiohttp.ClientSession, base_urls: Sequence[str], timeout: float) -> None:
        if not base_urls:
            raise ValueError("at least one Rasa URL is needed")
        self.session = session
        self.base_urls = [url.rstrip("/") for url in base_urls]
        self._turn = itertools.cycle(range(len(self.base_urls)))
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    async def send(self, sender: str, message: str, metadata: Dict[str, Any]) -> List[Dict[str, Any]]:
        body = {"sender": sender, "message": message, "metadata": metadata}
        first = next(self._turn)
        refused = None
        for offset in range(len(self.base_urls)):
            url = self.base_urls[(first + offset) % len(self.base_urls)] + "/webhooks/rest/webhook"
            try:
                return await self._post(url, body)
            except aiohttp.ClientConnectorError as error:  # nothing was sent: try the next
                refused = error
        raise RasaUnavailable(str(refused) or "no Rasa server accepted the connection")

    async def _post(self, url: str, body: Dict[str, Any]) -> List[Dict[str, Any]]:
        try:
            async with self.session.post(url, json=body, timeout=self.timeout) as response:
                if response.status != 200:
                    raise RasaUnavailable(f"Rasa answered HTTP {response.status}")
                replies = await response.json()
        except aiohttp.ClientConnectorError:
            raise
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            raise RasaUnavailable(str(error) or type(error).__name__) from error
        if not isinstance(replies, list):
            raise RasaUnavailable("Rasa answered something other than a list of messages")
        return replies

    async def health(self) -> Dict[str, bool]:
        """Each server's answer to a status request."""

        async def one(url: str) -> bool:
            try:
                async with self.session.get(f"{url}/", timeout=aiohttp.ClientTimeout(total=2)) as r:
                    return r.status == 200
            except (aiohttp.ClientError, asyncio.TimeoutError):
                return False

        answers = await asyncio.gather(*(one(url) for url in self.base_urls))
        return dict(zip(self.base_urls, answers, strict=True))
