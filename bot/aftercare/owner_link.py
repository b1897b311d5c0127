"""The owner's way past a proof lock: a one-time link sent to the email on the order.

When the assistant may check no more answers for an order number (too many wrong ones
for it, this conversation or this address: actions/details_form.py), it asks the hub for
a link (keys.proof_link_request: the conversation, the order, the email on it and its
owner's identities; the payload {"proof_link": id}). From the widget, with mail set up,
the hub emails the owner a link that works once, for PROOF_LINK_TTL, and only in the
browser that holds that conversation: the shop page posts it with its own session id,
so a link cannot prove an order for somebody else's chat, and whoever merely hit the
lock never sees it. Used, it proves the order for the conversation as the right email
would have (contract/memory.py, BY_EMAIL_LINK), and the session id rotates.

The customer is told the same for any order number ("if order N is yours, a link is on
its way to the email on it"), and nothing is sent when there is nobody to write to. At
most PROOF_LINKS_PER_ORDER links an hour go out for one number, whoever asks, so nobody
can flood an owner's inbox; past that the customer is told no more can be sent for now
(the same for any number).

    POST /api/widget/prove {"token", "session_id"} -> {"session_id": the new id}
         400: not valid (used, expired, never issued); 409: not this browser's conversation
"""

import asyncio
import hashlib
import json
import logging
import re
import secrets
import time
from typing import Any, Dict, Optional, Set
from urllib.parse import urlencode

from aiohttp import web

from bot.aftercare.mail import Mailer, MailError
from bot.core.channel import Message
from bot.core.conversation import Conversation
from bot.core.conversations import ConversationStore
from bot.core.sessions import Sessions
from bot.core.texts import Texts
from bot.settings import Settings
from bot.web.http import json_error, read_json
from contract import counters, keys, memory
from contract.identity import BY_EMAIL_LINK, mask_email

log = logging.getLogger(__name__)
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
MINUTES = keys.PROOF_LINK_TTL // 60


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:32]


class OwnerLinks:
    def __init__(
        self,
        store: ConversationStore,
        sessions: Sessions,
        texts: Texts,
        settings: Settings,
        mailer: Optional[Mailer],
    ) -> None:
        self.store = store
        self.redis = store.redis
        self.sessions = sessions
        self.texts = texts
        self.settings = settings
        self.mailer = mailer
        self._sending: Set[asyncio.Task] = set()

    async def offer(self, conv: Conversation, request_id: str) -> Optional[Message]:
        """The assistant asked for the owner's link (bot/core/turn.py): what the customer
        is told, or None when no link can go from here (no mail; not the widget)."""
        key = keys.proof_link_request(request_id)
        pipe = self.redis.pipeline(transaction=True)
        pipe.hgetall(key)
        pipe.delete(key)
        request, _ = await pipe.execute()
        if not request or request.get("conversation") != conv.id:
            return None
        if self.mailer is None or conv.channel != "web":
            return None
        order_id = request.get("order", "")
        sent = [(keys.proof_links_sent(order_id), keys.PROOF_LINKS_PER_ORDER)]
        if await counters.reached(self.redis, sent):
            return self.texts.message("owner_link_limit", conv.language, order_id=order_id)
        # Counted for any number, an order or not, so the limit tells nothing either.
        await counters.count(self.redis, [(keys.proof_links_sent(order_id), keys.PROOF_LINK_WINDOW)])
        if request.get("email"):
            token = secrets.token_urlsafe(32)
            pipe = self.redis.pipeline(transaction=True)
            link_key = keys.proof_link(token_hash(token))
            pipe.hset(
                link_key,
                mapping={k: request.get(k, "") for k in ("conversation", "order", "identities", "profile")},
            )
            pipe.expire(link_key, keys.PROOF_LINK_TTL)
            await pipe.execute()
            task = asyncio.create_task(self._send(request, token, conv.language))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)
        return self.texts.message("owner_link_sent", conv.language, order_id=order_id, minutes=MINUTES)

    async def _send(self, request: Dict[str, str], token: str, language: Optional[str]) -> None:
        assert self.mailer is not None
        shop_url = self.settings.shop_url or f"http://{self.settings.host}:{self.settings.port}/"
        separator = "&" if "?" in shop_url else "?"
        order_id = request.get("order", "")
        message = self.mailer.compose(
            request["email"],
            self.texts.text("owner_link_subject", language, order_id=order_id),
            self.texts.text(
                "owner_link_body",
                language,
                order_id=order_id,
                minutes=MINUTES,
                link=f"{shop_url}{separator}{urlencode({'prove': token})}",
            ),
            language or "en",
            key=f"prove.{token_hash(token)}",
        )
        try:
            await self.mailer.send(message)
        except MailError as error:
            log.warning(
                "one-time link for order %s to %s not sent: %s", order_id, mask_email(request["email"]), error
            )
            return
        await self.store.log(
            request["conversation"],
            "system",
            f"one-time link for order {order_id} emailed to {mask_email(request['email'])}",
        )

    async def redeem(self, token: Any, session_id: Any) -> str:
        """Use a link in the browser holding its conversation: the order is proved there.
        Returns the conversation's new session id."""
        if not isinstance(token, str) or not TOKEN_RE.match(token):
            raise json_error(400, "this link is not valid any more")
        key = keys.proof_link(token_hash(token))
        link = await self.redis.hgetall(key)
        if not link:
            raise json_error(400, "this link is not valid any more")
        cid = await self.sessions.conversation_of(session_id)
        if cid is None or cid != link.get("conversation"):
            # Left unused: the owner may still open it in the right browser.
            raise json_error(409, "open this link in the browser where you are chatting with us")
        if not await self.redis.delete(key):
            raise json_error(400, "this link is not valid any more")  # used meanwhile
        customer_id = await memory.link_verified(
            self.redis, [tuple(i) for i in json.loads(link["identities"])], json.loads(link["profile"])
        )
        now = time.time()
        await memory.attach_conversation(self.redis, cid, customer_id, link["order"], BY_EMAIL_LINK, now)
        new_id, ended = await self.sessions.replace(cid, proved=now)
        await self.sessions.end(cid, ended)
        conv = await self.store.get(cid)
        language = conv.language if conv else None
        await self.store.log_message(
            cid, "bot", self.texts.message("owner_link_proved", language, order_id=link["order"])
        )
        return new_id

    async def stop(self) -> None:
        if self._sending:
            await asyncio.wait(list(self._sending), timeout=5)


OWNER_LINKS: web.AppKey[OwnerLinks] = web.AppKey("owner_links", OwnerLinks)


async def prove(request: web.Request) -> web.Response:
    body = await read_json(request)
    new_id = await request.app[OWNER_LINKS].redeem(body.get("token"), body.get("session_id"))
    return web.json_response({"session_id": new_id})
