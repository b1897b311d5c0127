"""Customer memory and cases in Redis: what a customer told us is never asked again.

A customer is known by several identities: the conversation's sender id (widget
session, Messenger PSID, ...) and, once given, their email, phone and order numbers.
Each identity points at one customer id. When a new identity turns out to belong to
a customer we already know (the same email on another channel), the conversation is
joined to that customer and their earlier cases come with it.

Cases are JSON documents; a customer's cases sit in a sorted set by creation time.
Everything expires keys.MEMORY_TTL after its last write.
"""

import json
import secrets
import time
from typing import Dict, Iterable, List, Optional, Tuple

from actions import keys

# Strongest first: an email or phone identifies a person across channels.
IDENTITY_KINDS = ("email", "phone", "order", "sender")
DETAIL_FIELDS = ("order_id", "email", "phone", "name", "language")
CLOSED = "closed"


def new_case_ref() -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread
    return "SR-" + "".join(secrets.choice(alphabet) for _ in range(6))


def identities(sender_id: str, details: Dict[str, Optional[str]]) -> List[Tuple[str, str]]:
    found = [("sender", sender_id)]
    for kind, field in (("email", "email"), ("phone", "phone"), ("order", "order_id")):
        value = details.get(field)
        if value and value != "none":
            found.append((kind, str(value)))
    return sorted(found, key=lambda pair: IDENTITY_KINDS.index(pair[0]))


async def resolve_customer(redis, ids: Iterable[Tuple[str, str]]) -> str:
    """The customer id for these identities, linking them all to it.

    If identities point at different customers, the one found through the strongest
    identity wins and the others' cases are merged into it.
    """
    ids = list(ids)
    found = await redis.mget([keys.identity(kind, value) for kind, value in ids])
    known = [cid for cid in found if cid]
    customer_id = known[0] if known else secrets.token_hex(8)
    pipe = redis.pipeline(transaction=True)
    for other in set(known) - {customer_id}:
        pipe.zunionstore(keys.customer_cases(customer_id),
                         [keys.customer_cases(customer_id), keys.customer_cases(other)],
                         aggregate="MIN")
    for (kind, value), current in zip(ids, found):
        if current != customer_id:
            pipe.set(keys.identity(kind, value), customer_id, ex=keys.MEMORY_TTL)
        else:
            pipe.expire(keys.identity(kind, value), keys.MEMORY_TTL)
    await pipe.execute()
    return customer_id


async def remember(redis, customer_id: str, details: Dict[str, Optional[str]]) -> None:
    values = {k: str(v) for k, v in details.items() if k in DETAIL_FIELDS and v and v != "none"}
    if values:
        pipe = redis.pipeline(transaction=True)
        pipe.hset(keys.customer(customer_id), mapping=values)
        pipe.expire(keys.customer(customer_id), keys.MEMORY_TTL)
        await pipe.execute()


async def recall(redis, customer_id: str) -> Dict[str, str]:
    return await redis.hgetall(keys.customer(customer_id))


async def save_case(redis, customer_id: str, case: Dict) -> Dict:
    now = time.time()
    case.setdefault("ref", new_case_ref())
    case.setdefault("created_at", now)
    case["updated_at"] = now
    case["customer_id"] = customer_id
    pipe = redis.pipeline(transaction=True)
    pipe.set(keys.case(case["ref"]), json.dumps(case, ensure_ascii=False), ex=keys.MEMORY_TTL)
    pipe.zadd(keys.customer_cases(customer_id), {case["ref"]: case["created_at"]})
    pipe.expire(keys.customer_cases(customer_id), keys.MEMORY_TTL)
    await pipe.execute()
    return case


async def load_case(redis, ref: str) -> Optional[Dict]:
    raw = await redis.get(keys.case(ref)) if ref else None
    return json.loads(raw) if raw else None


async def cases_of(redis, customer_id: str) -> List[Dict]:
    """The customer's cases, newest first (expired ones are dropped from the set)."""
    refs = await redis.zrevrange(keys.customer_cases(customer_id), 0, 49)
    if not refs:
        return []
    raws = await redis.mget([keys.case(ref) for ref in refs])
    gone = [ref for ref, raw in zip(refs, raws) if raw is None]
    if gone:
        await redis.zrem(keys.customer_cases(customer_id), *gone)
    return [json.loads(raw) for raw in raws if raw]


def open_cases(cases: List[Dict], except_conversation: str = "") -> List[Dict]:
    return [c for c in cases
            if c.get("status") != CLOSED and c.get("conversation_id") != except_conversation]
