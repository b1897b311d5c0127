"""What every HTTP backend shares: one aiohttp session per backend, JSON in and out, a
deadline on every call, and every failure turned into OrdersUnavailable.

- TIMEOUT (3 s) bounds a whole call, its retry included: a slow backend never holds a
  customer's turn longer (the hub waits RASA_TIMEOUT for the whole turn).
- A retry is made only for a call the platform documents as idempotent (a read, a PUT,
  a mutation sent with an idempotency key), only after a quick failure (a refused or
  reset connection, 429, 500, 502, 503, 504), and only within the same deadline.
- 404 is "not found", for the caller to read (and a refusal it asks for, e.g. 409); any
  other status but 2xx, a
  timeout, a refused connection or a body that is not JSON is OrdersUnavailable, with
  the reason for the logs.
"""

import asyncio
import json
import logging
import time
from typing import Any, Dict, Mapping, Optional, Tuple

import aiohttp

from actions.backends.model import OrdersUnavailable

log = logging.getLogger(__name__)

TIMEOUT = 3.0
RETRY_STATUSES = (429, 500, 502, 503, 504)


class JsonClient:
    def __init__(
        self,
        backend: str,
        base_url: str,
        headers: Optional[Mapping[str, str]] = None,
        auth: Optional[aiohttp.BasicAuth] = None,
    ) -> None:
        self.backend = backend
        self.base_url = base_url.rstrip("/")
        self.headers = {"Accept": "application/json", **(headers or {})}
        self.auth = auth
        self._session: Optional[aiohttp.ClientSession] = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(headers=self.headers, auth=self.auth)
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: Optional[Mapping[str, Any]] = None,
        body: Any = None,
        headers: Optional[Mapping[str, str]] = None,
        idempotent: bool,
        answers: Tuple[int, ...] = (404,),
    ) -> Tuple[int, Any]:
        """(status, parsed JSON) of a 2xx answer, or of one of `answers` (404: not found;
        a refusal the caller reads); OrdersUnavailable otherwise."""
        deadline = time.monotonic() + TIMEOUT
        attempts = 2 if idempotent else 1
        why = ""
        for attempt in range(attempts):
            left = deadline - time.monotonic()
            if left <= 0.05:
                break
            try:
                return await self._once(method, path, params, body, headers, left, answers)
            except _Retryable as error:
                why = str(error)
                log.warning("%s %s %s: %s (attempt %d)", self.backend, method, path, why, attempt + 1)
        raise OrdersUnavailable(self.backend, why or f"no answer within {TIMEOUT:g} s")

    async def _once(
        self,
        method: str,
        path: str,
        params: Optional[Mapping[str, Any]],
        body: Any,
        headers: Optional[Mapping[str, str]],
        left: float,
        answers: Tuple[int, ...],
    ) -> Tuple[int, Any]:
        url = self.base_url + path
        try:
            async with self.session().request(
                method,
                url,
                params=_strings(params),
                json=body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=left),
            ) as response:
                text = await response.text()
                status = response.status
        except asyncio.TimeoutError:
            raise OrdersUnavailable(self.backend, f"no answer within {TIMEOUT:g} s") from None
        except (aiohttp.ClientConnectionError, OSError) as error:
            raise _Retryable(f"cannot connect: {error.__class__.__name__}") from None
        except aiohttp.ClientError as error:
            raise OrdersUnavailable(self.backend, f"{error.__class__.__name__}: {error}") from None
        if status in RETRY_STATUSES:
            raise _Retryable(f"HTTP {status}")
        if status in answers:
            parsed = _parse(text)
            return status, None if parsed is _NOT_JSON else parsed
        if not 200 <= status < 300:
            hint = " (check the credentials and their scopes)" if status in (401, 403) else ""
            raise OrdersUnavailable(self.backend, f"HTTP {status}{hint}")
        parsed = _parse(text)
        if parsed is _NOT_JSON:
            raise OrdersUnavailable(self.backend, "the answer is not JSON")
        return status, parsed


class _Retryable(Exception):
    """A quick failure a documented-idempotent call may try once more."""


_NOT_JSON = object()


def _parse(text: str) -> Any:
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError:
        return _NOT_JSON


def _strings(params: Optional[Mapping[str, Any]]) -> Optional[Dict[str, str]]:
    return {k: str(v) for k, v in params.items() if v is not None} if params else None
