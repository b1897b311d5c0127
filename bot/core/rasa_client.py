"""Talks to Rasa over HTTP only (its REST channel): no Rasa import in the hub.

Several Rasa servers may stand behind one hub (RASA_URL=url1,url2): messages go to them
in turn. They must share the Redis tracker and lock stores (endpoints.yml), so any of
them can continue any conversation and two messages of one conversation never
interleave. A server that refuses the connection is skipped for that message: the
message was not sent, so trying the next one cannot process it twice.
"""

import asyncio
import itertools
from typing import Any, Dict, List, Sequence

import aiohttp


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
