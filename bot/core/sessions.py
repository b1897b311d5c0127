"""Widget sessions: the id a customer's widget keeps in the browser is a record on the
server, so it can be rotated and revoked.

An id reads "<conversation id>.<random>"; only its record (keys.widget_session, under
the id's hash, never the id itself) makes it valid. A record names its conversation and
the proof of who the customer is that it has seen, and lives CONVERSATION_TTL after its
last use. An id is

- issued with a new conversation;
- rotated (a new id for the same conversation, every other id of it revoked) when the
  conversation proves who the customer is (a newer proof: contract/memory.py), and when
  a resume link is redeemed (bot/aftercare/resume.py);
- revoked by "End chat", by forgetting the conversation, and by a rotation.

An id without a record, however it looks, starts a new conversation: never someone
else's. The sockets of ended ids are closed on every hub process: `end` publishes the
"sessions_ended" event with the ids' hashes, and the widget channel closes its sockets
that use one of them (bot/channels/widget.py).
"""

import hashlib
import re
import secrets
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple

from contract import keys

ENDED = "sessions_ended"  # the event: {"type", "conversation_id", "sessions": [hash, ...]}
SESSION_RE = re.compile(r"^([A-Za-z0-9_-]{1,64})\.([A-Za-z0-9_-]{16,64})$")
CONVERSATION = "conversation"
PROVED = "proved"  # the time of the conversation's proof this id was issued with (0: none)


def session_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:32]


def conversation_named(token: Any) -> str:
    """The conversation an id names ("" if it has not the shape of one): what our own
    clients (benchmarks, tests) read; only its record makes it valid (`conversation_of`)."""
    match = SESSION_RE.match(token) if isinstance(token, str) else None
    return match.group(1) if match else ""


class Sessions:
    def __init__(self, redis, publish: Callable[[Dict[str, Any]], Awaitable[None]]) -> None:
        self.redis = redis
        self.publish = publish  # the conversation store's (every hub process hears it)

    async def issue(self, cid: str, proved: float = 0.0) -> str:
        """A new id for `cid`."""
        token = f"{cid}.{secrets.token_urlsafe(24)}"
        digest = session_hash(token)
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(keys.widget_session(digest), mapping={CONVERSATION: cid, PROVED: proved})
        pipe.expire(keys.widget_session(digest), keys.CONVERSATION_TTL)
        pipe.sadd(keys.conversation_sessions(cid), digest)
        pipe.expire(keys.conversation_sessions(cid), keys.CONVERSATION_TTL)
        await pipe.execute()
        return token

    async def conversation_of(self, token: Any) -> Optional[str]:
        """The conversation a valid id opens (it counts as used), else None."""
        match = SESSION_RE.match(token) if isinstance(token, str) else None
        if match is None:
            return None
        key = keys.widget_session(session_hash(token))
        pipe = self.redis.pipeline(transaction=True)
        pipe.hget(key, CONVERSATION)
        pipe.expire(key, keys.CONVERSATION_TTL)
        cid, _ = await pipe.execute()
        return cid if cid and cid == match.group(1) else None

    async def alive(self, digest: str) -> bool:
        """Whether the id with this hash is still valid (it counts as used)."""
        return bool(await self.redis.expire(keys.widget_session(digest), keys.CONVERSATION_TTL))

    async def proved(self, digest: str) -> float:
        return float(await self.redis.hget(keys.widget_session(digest), PROVED) or 0)

    async def revoke(self, token: Any) -> Optional[str]:
        """End one id (its sockets too); returns its conversation, None if it was not valid."""
        cid = await self.conversation_of(token)
        if cid is None:
            return None
        digest = session_hash(token)
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(keys.widget_session(digest))
        pipe.srem(keys.conversation_sessions(cid), digest)
        await pipe.execute()
        await self.end(cid, [digest])
        return cid

    async def replace(self, cid: str, proved: float = 0.0) -> Tuple[str, List[str]]:
        """Rotate: a new id for `cid`, every other id of it revoked. Returns the new id and
        the hashes of the revoked ones, whose sockets the caller ends (`end`) once the
        socket keeping the conversation knows its new id."""
        token = await self.issue(cid, proved)
        return token, await self.revoke_others(cid, session_hash(token))

    async def revoke_others(self, cid: str, keep: str) -> List[str]:
        """Revoke every id of `cid` but the one hashed `keep`; the hashes revoked."""
        old = sorted(d for d in await self.redis.smembers(keys.conversation_sessions(cid)) if d != keep)
        if old:
            pipe = self.redis.pipeline(transaction=True)
            pipe.delete(*(keys.widget_session(digest) for digest in old))
            pipe.srem(keys.conversation_sessions(cid), *old)
            await pipe.execute()
        return old

    async def end(self, cid: str, digests: List[str]) -> None:
        """Close the sockets of these (revoked) ids, on every hub process."""
        if digests:
            await self.publish({"type": ENDED, "conversation_id": cid, "sessions": digests})
