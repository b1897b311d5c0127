"""Limits that hold across hub processes: counters in Redis over fixed windows.

`hit` counts one event for a subject and says how long to wait when the limit is passed.
Subjects (an IP, an agent name, a conversation id) are hashed into the key, so nothing a
client sends becomes part of a key name.
"""

from dataclasses import dataclass
import hashlib
from typing import Optional

from contract import keys


@dataclass(frozen=True)
class Limit:
    name: str
    most: int  # events allowed per window
    window: int  # seconds


LOGIN_FAILURES_PER_IP = Limit("login-ip", 30, 300)
LOGIN_FAILURES_PER_NAME = Limit("login-name", 8, 900)
MESSAGES_PER_CONVERSATION = Limit("messages", 20, 60)


def counter_key(limit: Limit, subject: str) -> str:
    digest = hashlib.sha256(subject.encode("utf-8", "surrogateescape")).hexdigest()[:24]
    return keys.limit(limit.name, digest)


async def hit(redis, limit: Limit, subject: str) -> Optional[int]:
    """Count one event; None while within the limit, else the seconds until it resets."""
    key = counter_key(limit, subject)
    pipe = redis.pipeline(transaction=True)
    pipe.set(key, 0, ex=limit.window, nx=True)  # the window starts with the first event
    pipe.incr(key)  # keeps the key's expiry
    pipe.ttl(key)
    _, count, ttl = await pipe.execute()
    return None if count <= limit.most else max(int(ttl), 1)


async def over(redis, limit: Limit, subject: str) -> Optional[int]:
    """Like `hit`, without counting: has the subject already passed the limit?"""
    key = counter_key(limit, subject)
    pipe = redis.pipeline(transaction=True)
    pipe.get(key)
    pipe.ttl(key)
    count, ttl = await pipe.execute()
    return max(int(ttl), 1) if count is not None and int(count) >= limit.most else None
