"""Rasa's tracker and lock stores on the project's Redis, through Sentinel when it is set.

Rasa Open Source 3.6 talks to one Redis address only (rasa#3924, #5813). These are its own
Redis stores (rasa/core/tracker_store.py `RedisTrackerStore`, rasa/core/lock_store.py
`RedisLockStore`) with their client swapped for one from contract/redis_client.py: with
`REDIS_SENTINELS` set (the same variables as the hub's and the action server's), the
master the Sentinels name, followed through a failover; without, the address
`endpoints.yml` gives, exactly as `type: redis` would. Rasa uses the synchronous redis
client inside its async code, as its own stores do.

`endpoints.yml` names them by module path (`type: contract.rasa_stores.TrackerStore`);
its `url`, `port`, `db`, `password` and `key_prefix` keep their meaning. Only Rasa
imports this module: the hub never imports Rasa. Importing it also puts
contract/rasa_runtime.py's faster Rasa methods in place.
"""

import logging
from typing import Any, Dict, Optional, Text
from urllib.parse import quote

from rasa.core.brokers.broker import EventBroker
from rasa.core.lock_store import DEFAULT_SOCKET_TIMEOUT_IN_SECONDS, RedisLockStore
from rasa.core.tracker_store import RedisTrackerStore
from rasa.shared.core.domain import Domain
from rasa.utils.endpoints import EndpointConfig

from contract import rasa_runtime
from contract.redis_client import RedisTarget, sync_client

log = logging.getLogger(__name__)

rasa_runtime.install()


def _target(db: int, password: Optional[Text]) -> RedisTarget:
    """The Sentinels of the environment, with endpoints.yml's database and password."""
    found = RedisTarget.from_env()
    auth = f":{quote(password, safe='')}@" if password else ""
    # Only the password and database of this URL are used through Sentinel.
    return RedisTarget(
        url=f"redis://{auth}sentinel/{int(db)}",
        sentinels=found.sentinels,
        master_name=found.master_name,
        sentinel_password=found.sentinel_password,
    )


class TrackerStore(RedisTrackerStore):
    """`type: redis`'s tracker store, on the master the Sentinels name when they are set."""

    def __init__(
        self,
        domain: Domain,
        host: Text = "localhost",
        port: int = 6379,
        db: int = 0,
        username: Optional[Text] = None,
        password: Optional[Text] = None,
        event_broker: Optional[EventBroker] = None,
        record_exp: Optional[float] = None,
        key_prefix: Optional[Text] = None,
        **kwargs: Dict[Text, Any],
    ) -> None:
        super().__init__(
            domain,
            host=host,
            port=int(port),
            db=int(db),
            username=username,
            password=password or None,
            event_broker=event_broker,
            record_exp=record_exp,
            key_prefix=key_prefix,
            **kwargs,
        )
        target = _target(int(db), password or None)
        if target.uses_sentinel:
            self.red = sync_client(target, decode_responses=True, socket_timeout=10, socket_connect_timeout=5)
            log.info("tracker store on %s", target.describe())


class LockStore(RedisLockStore):
    """`type: redis`'s lock store, on the master the Sentinels name when they are set.
    Rasa builds a custom lock store from its endpoint configuration alone."""

    def __init__(self, endpoint_config: EndpointConfig) -> None:
        kwargs = dict(endpoint_config.kwargs)
        password = kwargs.pop("password", None) or None
        db = int(kwargs.pop("db", 1))
        super().__init__(host=endpoint_config.url or "localhost", password=password, db=db, **kwargs)
        target = _target(db, password)
        if target.uses_sentinel:
            timeout = float(kwargs.get("socket_timeout", DEFAULT_SOCKET_TIMEOUT_IN_SECONDS))
            self.red = sync_client(target, socket_timeout=timeout, socket_connect_timeout=5)
            log.info("lock store on %s", target.describe())
