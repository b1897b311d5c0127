"""Messenger's Send API as Meta specifies it: message shapes and the client.

Buttons become quick replies (at most 13, titles of at most 20 characters); text over
640 characters is split at word boundaries, never cut. The client posts to /me/messages
with the page token, with timeouts and retries (aiohttp-retry) on 5xx, 429 and lost
connections; agents' replies go out under a Page persona of their display name
(Personas API).
"""

import asyncio
import logging
from typing import Any, Dict, List, Optional

import aiohttp
from aiohttp_retry import ExponentialRetry, RetryClient

log = logging.getLogger(__name__)
TEXT_LIMIT = 640
QUICK_REPLY_LIMIT = 13
TITLE_LIMIT = 20


def split_text(text: str, limit: int = TEXT_LIMIT) -> List[str]:
    """Pieces of at most `limit` characters, broken at spaces, never inside a word
    (a single word longer than the limit is the only thing ever broken)."""
    pieces, current = [], ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            pieces.append(current)
        while len(word) > limit:
            pieces.append(word[:limit])
            word = word[limit:]
        current = word
    if current:
        pieces.append(current)
    return pieces or [""]


def short_title(title: str) -> str:
    if len(title) <= TITLE_LIMIT:
        return title
    cut = title[: TITLE_LIMIT - 1].rsplit(" ", 1)[0].rstrip(" +,-")
    return (cut or title[: TITLE_LIMIT - 1]) + "…"


def to_messenger(message: Dict[str, Any]) -> List[Dict[str, Any]]:
    """A hub/Rasa message as Messenger message objects."""
    out: List[Dict[str, Any]] = []
    text = message.get("text") or ""
    buttons = message.get("buttons") or []
    if message.get("image"):
        out.append(
            {"attachment": {"type": "image", "payload": {"url": message["image"], "is_reusable": True}}}
        )
    if text:
        out += [{"text": piece} for piece in split_text(text)]
    if buttons:
        if not out or "text" not in out[-1]:
            out.append({"text": "…"})
        out[-1]["quick_replies"] = [
            {"content_type": "text", "title": short_title(b["title"]), "payload": b["payload"][:1000]}
            for b in buttons[:QUICK_REPLY_LIMIT]
        ]
    return out


class GraphClient:
    """The Send API, with timeouts, and retries (aiohttp-retry) on 5xx, 429 and lost
    connections, waiting `backoff`, then twice as long, between attempts."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        graph_url: str,
        page_token: str,
        attempts: int = 3,
        backoff: float = 0.5,
    ) -> None:
        self.session = session
        self.url = f"{graph_url.rstrip('/')}/me/messages"
        self.personas_url = f"{graph_url.rstrip('/')}/me/personas"
        self.page_token = page_token
        self.timeout = aiohttp.ClientTimeout(total=10)
        # The session is the app's (closed by bot/app.py http_ctx): this client is not closed.
        self.client = RetryClient(
            client_session=session,
            retry_options=ExponentialRetry(
                attempts=attempts,
                start_timeout=backoff / 2,
                statuses={429},
                exceptions={aiohttp.ClientError, asyncio.TimeoutError},
            ),
        )

    async def send(self, body: Dict[str, Any]) -> bool:
        try:
            async with self.client.post(
                self.url, params={"access_token": self.page_token}, json=body, timeout=self.timeout
            ) as response:
                if response.status < 300:
                    return True
                detail = f"{response.status} {(await response.text())[:300]}"
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            detail = str(error) or type(error).__name__
        log.error("Send API refused or failed: %s", detail)
        return False

    async def create_persona(self, name: str) -> Optional[str]:
        """A Page persona (Personas API) for an agent's display name: its id, or None
        when the Page does not allow it (replies then go out as the Page)."""
        try:
            async with self.session.post(
                self.personas_url,
                params={"access_token": self.page_token},
                json={"name": name},
                timeout=self.timeout,
            ) as response:
                body = await response.json(content_type=None)
                if response.status < 300 and isinstance(body, dict) and body.get("id"):
                    return str(body["id"])
                log.warning("Personas API refused %r (%s): %s", name, response.status, str(body)[:200])
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            log.warning("Personas API failed for %r: %s", name, error)
        return None
