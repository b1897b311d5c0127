"""How every role reaches Redis: one address, or the master that Redis Sentinel names.

- `REDIS_URL` alone: that server (`redis://:password@host:port/db`).
- `REDIS_SENTINELS` (`host:port,host:port,...`) as well: the clients ask those Sentinels
  for the master they watch under `REDIS_MASTER_NAME`, and ask again whenever the master
  goes away, so they follow a failover to the promoted replica. The password and the
  database still come from `REDIS_URL` (its host and port are then not used);
  `REDIS_SENTINEL_PASSWORD` is the Sentinels' own, when they have one.

The hub (bot/app.py and its socket.io manager), the action server (actions/store.py) and
Rasa's tracker and lock stores (contract/rasa_stores.py) all build their clients here, so
the three roles always agree on where the store is. No Rasa import here: the hub imports
this module too.
"""

import contextlib
from dataclasses import dataclass
import os
from typing import Any, Dict, Mapping, Optional, Tuple
from urllib.parse import unquote, urlparse

import redis
from redis import asyncio as aioredis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.asyncio.sentinel import Sentinel as AsyncSentinel
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.retry import Retry
from redis.sentinel import Sentinel

DEFAULT_URL = "redis://127.0.0.1:6379/0"
DEFAULT_MASTER_NAME = "service-recovery"  # as deploy/k8s's Sentinels call it
# Through Sentinel, a command that finds its connection gone is sent again on a new
# connection to whatever master the Sentinels name by then. The hub tries for about 1.5 s
# (RETRIES; longer would hold a customer's request: it answers 503 "send it again"
# instead); Rasa's stores and the action server, inside a turn the customer is already
# waiting for, for about 9.5 s (SENTINEL_RETRIES: longer than the production overlay's
# Sentinels take to promote a replica, 5 s and the election), so a failover delays their
# turn rather than fails it. Only connection errors: a timed-out command may have run, and
# is not sent twice.
RETRIES = 4
SENTINEL_RETRIES = 12
RETRY_BACKOFF = dict(cap=1.0, base=0.05)

Address = Tuple[str, int]


def parse_sentinels(spec: str) -> Tuple[Address, ...]:
    """`host:port,host:port` as (host, port) pairs; an entry without a port is refused,
    naming it (an IPv6 address goes in brackets: `[::1]:26379`)."""
    found = []
    for entry in filter(None, (part.strip() for part in spec.split(","))):
        host, sep, port = entry.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise ValueError(f"REDIS_SENTINELS entry {entry!r} must be host:port")
        found.append((host.strip("[]"), int(port)))
    return tuple(found)


@dataclass(frozen=True)
class RedisTarget:
    """Where the store is: `url` alone, or the master of `sentinels` named `master_name`
    (with the password and database of `url`)."""

    url: str = DEFAULT_URL
    sentinels: Tuple[Address, ...] = ()
    master_name: str = DEFAULT_MASTER_NAME
    sentinel_password: Optional[str] = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "RedisTarget":
        return cls(
            url=env.get("REDIS_URL") or DEFAULT_URL,
            sentinels=parse_sentinels(env.get("REDIS_SENTINELS", "")),
            master_name=env.get("REDIS_MASTER_NAME", "").strip() or DEFAULT_MASTER_NAME,
            sentinel_password=env.get("REDIS_SENTINEL_PASSWORD") or None,
        )

    @property
    def uses_sentinel(self) -> bool:
        return bool(self.sentinels)

    @property
    def password(self) -> Optional[str]:
        password = urlparse(self.url).password
        return unquote(password) if password else None

    @property
    def username(self) -> Optional[str]:
        username = urlparse(self.url).username
        return unquote(username) if username else None

    @property
    def db(self) -> int:
        path = urlparse(self.url).path.lstrip("/")
        return int(path) if path.isdigit() else 0

    def describe(self) -> str:
        """Where the store is, for logs and errors (never the password)."""
        if self.uses_sentinel:
            where = ",".join(f"{host}:{port}" for host, port in self.sentinels)
            return f"the master {self.master_name!r} of the Sentinels {where} (db {self.db})"
        parsed = urlparse(self.url)
        return f"{parsed.hostname or '127.0.0.1'}:{parsed.port or 6379} (db {self.db})"

    def _master_options(self) -> Dict[str, Any]:
        return {"password": self.password, "username": self.username, "db": self.db}

    def _sentinel_options(self, options: Mapping[str, Any]) -> Dict[str, Any]:
        sentinel = {k: v for k, v in options.items() if k in ("socket_timeout", "socket_connect_timeout")}
        if self.sentinel_password:
            sentinel["password"] = self.sentinel_password
        return sentinel


def async_client(target: RedisTarget, retries: int = RETRIES, **options: Any) -> aioredis.Redis:
    """redis-py's asyncio client for the store (options: decode_responses, timeouts...)."""
    if not target.uses_sentinel:
        return aioredis.from_url(target.url, **options)
    sentinel = AsyncSentinel(target.sentinels, sentinel_kwargs=target._sentinel_options(options))
    return sentinel.master_for(
        target.master_name,
        redis_class=aioredis.Redis,
        **target._master_options(),
        retry=AsyncRetry(ExponentialBackoff(**RETRY_BACKOFF), retries),
        retry_on_error=[RedisConnectionError],
        **options,
    )


def sync_client(target: RedisTarget, retries: int = SENTINEL_RETRIES, **options: Any) -> redis.Redis:
    """redis-py's synchronous client for the store (what Rasa's stores use)."""
    if not target.uses_sentinel:
        return redis.Redis.from_url(target.url, **options)
    sentinel = Sentinel(target.sentinels, sentinel_kwargs=target._sentinel_options(options))
    return sentinel.master_for(
        target.master_name,
        redis_class=redis.Redis,
        **target._master_options(),
        retry=Retry(ExponentialBackoff(**RETRY_BACKOFF), retries),
        retry_on_error=[RedisConnectionError],
        **options,
    )


async def close(client: aioredis.Redis) -> None:
    """Close an asyncio client made here, its connections and (through Sentinel) those
    to the Sentinels."""
    await client.close(close_connection_pool=True)
    manager = getattr(client.connection_pool, "sentinel_manager", None)
    for sentinel in getattr(manager, "sentinels", ()):
        with contextlib.suppress(Exception):
            await sentinel.close(close_connection_pool=True)


def socketio_manager_args(target: RedisTarget, **options: Any) -> Tuple[str, Dict[str, Any]]:
    """python-socketio's AsyncRedisManager(url, redis_options=...) for the store: through
    Sentinel, its `redis+sentinel://host:port,.../db/master` URL with the passwords passed
    apart (they never go into a URL)."""
    if not target.uses_sentinel:
        return target.url, dict(options)
    hosts = ",".join(f"{host}:{port}" for host, port in target.sentinels)
    redis_options: Dict[str, Any] = {
        **{k: v for k, v in target._master_options().items() if v is not None},
        "sentinel_kwargs": target._sentinel_options(options),
        **options,
    }
    return f"redis+sentinel://{hosts}/{target.db}/{target.master_name}", redis_options
