"""Talks to Rasa over HTTP only (its REST channel): no Rasa import in the hub.

What goes to Rasa: the customer's text as Rasa may see it (`for_rasa`: Rasa reads any
text starting with "/" as an intent; customers may send only the payloads of the bot's
own buttons that way, anything else, e.g. "/agent_handback", reaches Rasa as plain text
without its slashes). What comes back: messages a customer may get, and the handoff
packet when the assistant hands over (`relayable`), and what the hub does for it (a
one-time link to an order's owner: `proof_link_requests`).

Several Rasa servers may stand behind one hub (RASA_URL=url1,url2): every message of a
conversation goes to the same one, chosen by rendezvous hashing on the conversation id
(`ranked`: each server's score is a hash of the id and its URL, highest first), so every
hub, whatever the order of its list, picks the same server for a conversation, and
adding or losing a server moves only the conversations that were on it. A server that
refuses the connection is skipped for that message (the next in the conversation's
ranking takes it): the message was not sent, so trying the next one cannot process it
twice; the conversation comes back once its server accepts connections again. Behind a
Kubernetes Service the servers are its pods (RASA_RESOLVE and a headless Service: every
address its name resolves to is a server, `RasaClient.servers`). The
servers share the Redis tracker and lock stores (endpoints.yml), so any of them can
continue any conversation; the hub's own lock (bot/core/turn_lock.py) runs one turn of a
conversation at a time, on any number of hubs.
"""

import asyncio
import hashlib
import re
import socket
from typing import Any, Awaitable, Callable, Dict, List, Optional, Sequence, Tuple
from urllib.parse import urlsplit, urlunsplit

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


def ranked(conversation_id: str, urls: Sequence[str]) -> List[str]:
    """The servers in the order this conversation tries them (rendezvous hashing: the
    same order in every process, and removing a server leaves the others' order)."""

    def score(url: str) -> bytes:
        return hashlib.blake2b(f"{conversation_id}\x00{url}".encode(), digest_size=8).digest()

    return sorted(urls, key=score, reverse=True)


class RasaUnavailable(Exception):
    """Rasa (or its action server) did not answer in time or answered with an error."""


Resolver = Callable[[str, int], Awaitable[List[str]]]  # (host, port) -> its addresses
RESOLVE_EVERY = 10.0  # seconds a lookup is trusted (RASA_RESOLVE)


async def dns_addresses(host: str, port: int) -> List[str]:
    """Every address `host` resolves to, in the resolver's order, each once."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class RasaClient:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_urls: Sequence[str],
        timeout: float,
        resolve: Optional[Resolver] = None,
        resolve_every: float = RESOLVE_EVERY,
    ) -> None:
        """resolve (RASA_RESOLVE): every address a URL's host name resolves to is a server
        of its own (a Kubernetes headless Service: one per ready Rasa pod), looked up again
        every RESOLVE_EVERY seconds; without it, each URL is one server."""
        if not base_urls:
            raise ValueError("at least one Rasa URL is needed")
        self.session = session
        self.base_urls = [url.rstrip("/") for url in base_urls]
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.resolve, self.resolve_every = resolve, resolve_every
        self._servers = list(self.base_urls)
        self._resolved_at: Optional[float] = None

    async def servers(self) -> List[str]:
        """The Rasa servers now: the URLs, or with `resolve` one per address."""
        now = asyncio.get_running_loop().time()
        if self.resolve is None or (
            self._resolved_at is not None and now - self._resolved_at < self.resolve_every
        ):
            return self._servers
        found: List[str] = []
        for url in self.base_urls:
            parts = urlsplit(url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
            try:
                addresses = await self.resolve(parts.hostname or "", port)
            except OSError:  # the name does not resolve now (no pod ready): keep the name
                addresses = []
            found += [
                urlunsplit(parts._replace(netloc=f"[{a}]:{port}" if ":" in a else f"{a}:{port}"))
                for a in addresses
            ] or [url]
        self._servers, self._resolved_at = found, now
        return found

    async def send(self, sender: str, message: str, metadata: Dict[str, Any]) -> List[Dict[str, Any]]:
        body = {"sender": sender, "message": message, "metadata": metadata}
        refused = None
        for base in ranked(sender, await self.servers()):
            url = base + "/webhooks/rest/webhook"
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

        servers = await self.servers()
        answers = await asyncio.gather(*(one(url) for url in servers))
        return dict(zip(servers, answers, strict=True))
