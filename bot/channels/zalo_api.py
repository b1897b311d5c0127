"""Zalo's Official Account OpenAPI as Zalo documents it: message shapes, the
customer-service (consultation) message endpoint, and the OA's rotating tokens.

Sending: POST {ZALO_API_URL}/v3.0/oa/message/cs, the OA access token in the
`access_token` header, body `{"recipient": {"user_id", "message_id"}, "message": {...}}`.
`message_id` is the customer's message being answered: a message sent with only the
`user_id` counts as a paid proactive message, not a free reply. Zalo answers HTTP 200
with `{"error": 0, "data": {"message_id"}}`, or a negative `error`: -216/-220 the access
token is invalid or expired (refreshed once, then the send is tried again); -230/-232
the user has not written recently enough, -211/-218 a quota is used up, -213 the user
does not follow the OA, -244 the user refused this kind of message (the window is shut:
ZaloWindowClosed, which the outbox takes elsewhere).

Text is split at 2000 characters, at word boundaries; the hub's buttons become numbered
choices in the text (the number is a valid answer: bot/channels/zalo.py) and, up to
BUTTON_LIMIT of them, Zalo's query buttons carrying the same payload (`oa.query.hide`:
a tap sends the payload back as the user's text, not shown in the chat). A message Zalo
refuses for its buttons is sent again as text alone.

Tokens: POST {ZALO_OAUTH_URL}/v4/oa/access_token, form `app_id`, `grant_type=refresh_token`,
`refresh_token`, with the app's secret key in the `secret_key` header; Zalo answers
`{"access_token", "refresh_token", "expires_in"}` (seconds, as a string: "90000", 25 h).
A refresh token works once: every refresh returns the next one, and the old one is
refused. So the pair lives in Redis (keys.ZALO_TOKENS), shared by every hub process, and
one process at a time refreshes, under a Redis lock; the others wait for its result.
"""

import asyncio
import logging
import re
import secrets
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

import aiohttp
from aiohttp_retry import ExponentialRetry, RetryClient

from bot.channels.graph import split_text
from bot.core.channel import Undeliverable
from contract import keys

log = logging.getLogger(__name__)

TEXT_LIMIT = 2000
BUTTON_LIMIT = 5
BUTTON_TITLE_LIMIT = 100
BUTTON_PAYLOAD_LIMIT = 1000
TOKEN_ERRORS = {-216, -220}
WINDOW_ERRORS = {-211, -213, -218, -230, -232, -244}
BAD_PARAMETER = -201

SEND_PATH = "/v3.0/oa/message/cs"
TOKEN_PATH = "/v4/oa/access_token"
EARLY_REFRESH = 600  # refresh this many seconds before the access token expires
LOCK_MS = 30_000  # longer than one token request (timeout 10 s, three attempts)
WAIT_FOR_OTHER = 40.0  # how long a process waits for another's refresh


class ZaloWindowClosed(Undeliverable):
    """Zalo refused: the customer has not written recently enough, or the quota is used."""


class ZaloError(Exception):
    """Zalo refused or could not be reached."""

    def __init__(self, text: str, code: Optional[int] = None) -> None:
        super().__init__(text)
        self.code = code


class ZaloAuthError(ZaloError):
    """No usable access token: the refresh token was refused (re-authorise the OA)."""


# --- message shapes ---------------------------------------------------------------------


def choice_lines(buttons: List[Dict[str, Any]]) -> str:
    return "\n".join(f"{number}. {button.get('title', '')}" for number, button in enumerate(buttons, 1))


def to_zalo(message: Dict[str, Any]) -> Tuple[List[Dict[str, Any]], List[str]]:
    """A hub/Rasa message as Zalo message objects, and the payloads of its numbered choices."""
    parts: List[Dict[str, Any]] = []
    if message.get("image"):
        parts.append(
            {
                "attachment": {
                    "type": "template",
                    "payload": {
                        "template_type": "media",
                        "elements": [{"media_type": "image", "url": message["image"]}],
                    },
                }
            }
        )
    text = message.get("text") or ""
    buttons = [b for b in message.get("buttons") or [] if isinstance(b, dict) and b.get("payload")]
    pieces = split_text(text, TEXT_LIMIT) if text else []
    if buttons:
        lines = choice_lines(buttons)
        if pieces and len(pieces[-1]) + 2 + len(lines) <= TEXT_LIMIT:
            pieces[-1] = f"{pieces[-1]}\n\n{lines}"
        else:
            pieces += split_text(lines, TEXT_LIMIT)
    parts += [{"text": piece} for piece in pieces]
    if buttons and len(buttons) <= BUTTON_LIMIT:
        parts[-1]["attachment"] = {
            "type": "template",
            "payload": {
                "buttons": [
                    {
                        "title": str(b.get("title") or b["payload"])[:BUTTON_TITLE_LIMIT],
                        "type": "oa.query.hide",
                        "payload": str(b["payload"])[:BUTTON_PAYLOAD_LIMIT],
                    }
                    for b in buttons
                ]
            },
        }
    return parts, [str(b["payload"]) for b in buttons]


CHOICE_RE = re.compile(r"^\s*(?:#|số\s*|so\s*)?(\d{1,2})\s*[.)]?\s*$", re.IGNORECASE)


def chosen(text: str, choices: List[str]) -> Optional[str]:
    """The payload a number answers ("2", "2.", "số 2"), or None."""
    match = CHOICE_RE.match(text or "")
    if not match or not choices:
        return None
    number = int(match.group(1))
    return choices[number - 1] if 1 <= number <= len(choices) else None


# --- tokens -------------------------------------------------------------------------------

# Adopt ZALO_REFRESH_TOKEN once: a new value (the OA authorised again) replaces what Redis
# holds; the same value again (a restart) leaves the rotated tokens alone.
SEED = """
if redis.call('HGET', KEYS[1], 'seed') ~= ARGV[1] then
  redis.call('HSET', KEYS[1], 'seed', ARGV[1], 'refresh_token', ARGV[1])
  redis.call('HDEL', KEYS[1], 'access_token', 'expires_at')
  return 1
end
return 0
"""
# Store a refresh's result only over the refresh token it used (compare and set).
STORE = """
if redis.call('HGET', KEYS[1], 'refresh_token') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'access_token', ARGV[2], 'refresh_token', ARGV[3], 'expires_at', ARGV[4])
  return 1
end
return 0
"""
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class ZaloTokens:
    """The OA's access and refresh tokens, in Redis for every hub process."""

    def __init__(
        self,
        redis,
        session: aiohttp.ClientSession,
        oauth_url: str,
        app_id: str,
        app_secret: str,
        first_refresh_token: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.redis = redis
        self.session = session
        self.url = oauth_url.rstrip("/") + TOKEN_PATH
        self.app_id = app_id
        self.app_secret = app_secret
        self.first_refresh_token = first_refresh_token
        self.clock = clock
        self.timeout = aiohttp.ClientTimeout(total=10)
        self.refreshed = 0  # refreshes this process made (health, tests)
        self.waited = 0  # times this process found another one refreshing

    async def start(self) -> None:
        if await self.redis.eval(SEED, 1, keys.ZALO_TOKENS, self.first_refresh_token):
            log.info("Zalo: adopted ZALO_REFRESH_TOKEN (new authorisation); it is kept in Redis from now on")

    def _usable(self, stored: Dict[str, str], stale: str = "") -> Optional[str]:
        token = stored.get("access_token") or ""
        try:
            expires_at = float(stored.get("expires_at") or 0)
        except ValueError:
            expires_at = 0
        if token and token != stale and expires_at - EARLY_REFRESH > self.clock():
            return token
        return None

    async def access_token(self) -> str:
        stored = await self.redis.hgetall(keys.ZALO_TOKENS)
        return self._usable(stored) or await self.refresh(stored.get("access_token") or "")

    async def refresh(self, stale: str = "") -> str:
        """A new access token, made once however many processes ask at the same time:
        the lock's holder asks Zalo; the others wait for what it stores."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT_FOR_OTHER
        mine = secrets.token_hex(8)
        while True:
            ready = self._usable(await self.redis.hgetall(keys.ZALO_TOKENS), stale)
            if ready:
                return ready
            if await self.redis.set(keys.ZALO_TOKEN_LOCK, mine, nx=True, px=LOCK_MS):
                try:
                    return await self._refresh_holding_lock(stale)
                finally:
                    await self.redis.eval(RELEASE, 1, keys.ZALO_TOKEN_LOCK, mine)
            self.waited += 1
            if loop.time() > deadline:
                raise ZaloAuthError("another hub process is refreshing the Zalo token and has not finished")
            await asyncio.sleep(0.05)

    async def _refresh_holding_lock(self, stale: str) -> str:
        stored = await self.redis.hgetall(keys.ZALO_TOKENS)
        ready = self._usable(stored, stale)  # another process finished just before the lock
        if ready:
            return ready
        used = stored.get("refresh_token") or ""
        if not used:
            raise ZaloAuthError("no Zalo refresh token: set ZALO_REFRESH_TOKEN")
        access, rotated, expires_in = await self._ask_zalo(used)
        self.refreshed += 1
        if not await self.redis.eval(
            STORE, 1, keys.ZALO_TOKENS, used, access, rotated, self.clock() + expires_in
        ):
            log.error("Zalo tokens changed while this process refreshed them (lock expired?)")
        return access

    async def _ask_zalo(self, refresh_token: str) -> Tuple[str, str, float]:
        form = {"app_id": self.app_id, "grant_type": "refresh_token", "refresh_token": refresh_token}
        try:
            async with self.session.post(
                self.url, data=form, headers={"secret_key": self.app_secret}, timeout=self.timeout
            ) as response:
                body = await response.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            raise ZaloError(f"Zalo's token endpoint failed: {error or type(error).__name__}") from error
        if not isinstance(body, dict) or not body.get("access_token") or not body.get("refresh_token"):
            log.error(
                "Zalo refused the refresh token (%s): re-authorise the OA and set a new ZALO_REFRESH_TOKEN",
                str(body)[:300],
            )
            raise ZaloAuthError(f"Zalo refused the refresh token: {str(body)[:200]}")
        try:
            expires_in = float(body.get("expires_in") or 90000)
        except (TypeError, ValueError):
            expires_in = 90000.0
        return str(body["access_token"]), str(body["refresh_token"]), expires_in


# --- the customer-service message endpoint ---------------------------------------------------


class ZaloClient:
    """Sends consultation messages, with timeouts and retries (aiohttp-retry) on 5xx, 429
    and lost connections; an expired token is refreshed once and the send tried again."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        api_url: str,
        tokens: ZaloTokens,
        attempts: int = 3,
        backoff: float = 0.5,
    ) -> None:
        self.url = api_url.rstrip("/") + SEND_PATH
        self.tokens = tokens
        self.timeout = aiohttp.ClientTimeout(total=10)
        self.client = RetryClient(
            client_session=session,
            retry_options=ExponentialRetry(
                attempts=attempts,
                start_timeout=backoff / 2,
                statuses={429, 500, 502, 503, 504},
                exceptions={aiohttp.ClientError, asyncio.TimeoutError},
            ),
        )

    async def _post(self, token: str, body: Dict[str, Any]) -> Dict[str, Any]:
        try:
            async with self.client.post(
                self.url, json=body, headers={"access_token": token}, timeout=self.timeout
            ) as response:
                answer = await response.json(content_type=None)
                if response.status >= 300 or not isinstance(answer, dict):
                    raise ZaloError(f"{response.status} {str(answer)[:300]}")
                return answer
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            raise ZaloError(str(error) or type(error).__name__) from error

    async def send(self, user_id: str, message: Dict[str, Any], reply_to: str = "") -> str:
        """Zalo's id of the message sent; ZaloWindowClosed or ZaloError when it is not."""
        recipient = {"user_id": user_id, **({"message_id": reply_to} if reply_to else {})}
        body = {"recipient": recipient, "message": message}
        token = await self.tokens.access_token()
        answer = await self._post(token, body)
        if answer.get("error") in TOKEN_ERRORS:
            answer = await self._post(await self.tokens.refresh(stale=token), body)
        code = answer.get("error")
        if code == 0:
            return str((answer.get("data") or {}).get("message_id") or "")
        if code in WINDOW_ERRORS:
            raise ZaloWindowClosed(f"Zalo refused the message ({code}: {answer.get('message', '')})")
        raise ZaloError(f"Zalo refused the message ({code}: {str(answer.get('message', ''))[:200]})", code)
