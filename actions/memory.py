"""Customer memory and cases in Redis: what a verified customer told us is never asked
again, and nobody else ever sees it (trust levels: contract/identity.py).

Every conversation (its sender id: a widget session, a REST sender, a Messenger PSID's
conversation) points at one record. A stranger's conversation has a guest record of its
own: its cases count for repeat contact on that same channel identity, and nothing else.
A record is *verified* once the conversation proves who the customer is; only then is it
linked to the customer's other identities:

- ("shop", id): the shop's own customer id (signed by the shop, or the owner of an order
  whose email or phone the customer gave correctly);
- ("email", address), ("phone", number): that customer's contact details *on the shop's
  record*, never a detail someone merely typed;
- ("sender", conversation id): conversations verified by order and contact.

An order number alone, or a contact detail alone, never links anything. Records, their
cases and every identity expire `retention()` after their last write; merging keeps them.

    python -m actions.memory forget <email|phone|order number|customer id>
"""

import asyncio
import json
import os
import secrets
import sys
import time
from typing import Dict, Iterable, List, Optional, Tuple, TypedDict

from contract import keys
from contract.identity import normalise_email, normalise_phone

DETAIL_FIELDS = ("email", "phone", "name", "language")
CLOSED = "closed"
VERIFIED_FIELD = "verified"  # "1" on a verified customer's record


def retention() -> int:
    """Seconds a customer's memory lives after its last write (MEMORY_RETENTION_DAYS)."""
    return int(float(os.environ.get("MEMORY_RETENTION_DAYS", keys.MEMORY_RETENTION_DAYS)) * 24 * 3600)


def new_case_ref() -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread
    return "SR-" + "".join(secrets.choice(alphabet) for _ in range(6))


def identity_value(kind: str, value: str) -> str:
    if kind == "email":
        return normalise_email(value)
    if kind == "phone":
        return normalise_phone(value)
    return value


def _point(pipe, customer_id: str, ids: Iterable[Tuple[str, str]], ttl: int) -> None:
    """Queue: each identity points at the record, and the record lists its identities
    (so that forgetting finds them all)."""
    for kind, value in ids:
        key = keys.identity(kind, identity_value(kind, value))
        pipe.set(key, customer_id, ex=ttl)
        pipe.sadd(keys.customer_identities(customer_id), key)
    pipe.expire(keys.customer_identities(customer_id), ttl)


async def guest(redis, sender_id: str) -> str:
    """The record of this conversation: its own guest record, or the verified customer
    it was linked to earlier (by order and contact)."""
    ttl = retention()
    key = keys.identity("sender", sender_id)
    pipe = redis.pipeline(transaction=True)
    pipe.set(key, secrets.token_hex(8), ex=ttl, nx=True)
    pipe.get(key)
    pipe.expire(key, ttl)
    created, customer_id, _ = await pipe.execute()
    if created:
        pipe = redis.pipeline(transaction=True)
        pipe.sadd(keys.customer_identities(customer_id), key)
        pipe.expire(keys.customer_identities(customer_id), ttl)
        await pipe.execute()
    return customer_id


async def is_verified(redis, customer_id: str) -> bool:
    return await redis.hget(keys.customer(customer_id), VERIFIED_FIELD) == "1"


async def link_verified(
    redis,
    verified_ids: List[Tuple[str, str]],
    profile: Dict[str, str],
    sender_id: Optional[str] = None,
) -> str:
    """The verified customer behind `verified_ids` (the shop id first), created if new.

    `sender_id` is given when this conversation itself proved who it is (order and
    contact): its guest record, with its cases, is merged in and the conversation stays
    linked. A shop-signed conversation passes none: the signature, sent with every
    message, is what makes it verified, so a signed-out visitor in the same browser is
    a guest again.
    """
    ttl = retention()
    lookups = list(verified_ids) + ([("sender", sender_id)] if sender_id else [])
    found = await redis.mget([keys.identity(k, identity_value(k, v)) for k, v in lookups])
    verified_found = [cid for cid in found[: len(verified_ids)] if cid]
    others = {cid for cid in found if cid}
    customer_id = verified_found[0] if verified_found else secrets.token_hex(8)
    pipe = redis.pipeline(transaction=True)
    for other in others - {customer_id}:
        _merge_into(pipe, customer_id, other)
    _point(pipe, customer_id, lookups, ttl)
    values = {k: str(v) for k, v in profile.items() if k in DETAIL_FIELDS and v}
    pipe.hset(keys.customer(customer_id), mapping={**values, VERIFIED_FIELD: "1"})
    pipe.expire(keys.customer(customer_id), ttl)
    pipe.expire(keys.customer_cases(customer_id), ttl)
    await pipe.execute()
    for other in others - {customer_id}:
        await _repoint_identities(redis, other, customer_id)
    return customer_id


def _merge_into(pipe, customer_id: str, other: str) -> None:
    """Queue the move of `other`'s cases into `customer_id` (ZUNIONSTORE drops the TTL:
    link_verified sets it again in the same transaction)."""
    pipe.zunionstore(
        keys.customer_cases(customer_id),
        [keys.customer_cases(customer_id), keys.customer_cases(other)],
        aggregate="MIN",
    )
    pipe.delete(keys.customer_cases(other), keys.customer(other))


async def _repoint_identities(redis, old: str, new: str) -> None:
    """Every identity of a merged record now points at the record it was merged into."""
    old_keys = await redis.smembers(keys.customer_identities(old))
    pipe = redis.pipeline(transaction=True)
    for key in old_keys:
        pipe.set(key, new, ex=retention(), xx=True)
        pipe.sadd(keys.customer_identities(new), key)
    pipe.delete(keys.customer_identities(old))
    pipe.expire(keys.customer_identities(new), retention())
    await pipe.execute()


async def remember(redis, customer_id: str, details: Dict[str, Optional[str]]) -> None:
    """Store details on a *verified* customer's record (never call it for a guest)."""
    values = {k: str(v) for k, v in details.items() if k in DETAIL_FIELDS and v and v != "none"}
    if values:
        pipe = redis.pipeline(transaction=True)
        pipe.hset(keys.customer(customer_id), mapping=values)
        pipe.expire(keys.customer(customer_id), retention())
        await pipe.execute()


async def recall(redis, customer_id: str) -> Dict[str, str]:
    return await redis.hgetall(keys.customer(customer_id))


async def save_case(redis, customer_id: str, case: Dict) -> Dict:
    now = time.time()
    case.setdefault("ref", new_case_ref())
    case.setdefault("created_at", now)
    case["updated_at"] = now
    previous = case.get("customer_id")
    case["customer_id"] = customer_id
    pipe = redis.pipeline(transaction=True)
    pipe.set(keys.case(case["ref"]), json.dumps(case, ensure_ascii=False), ex=retention())
    if previous and previous != customer_id:
        pipe.zrem(keys.customer_cases(previous), case["ref"])
    pipe.zadd(keys.customer_cases(customer_id), {case["ref"]: case["created_at"]})
    pipe.expire(keys.customer_cases(customer_id), retention())
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
    gone = [ref for ref, raw in zip(refs, raws, strict=True) if raw is None]
    if gone:
        await redis.zrem(keys.customer_cases(customer_id), *gone)
    return [json.loads(raw) for raw in raws if raw]


def open_cases(cases: List[Dict], except_conversation: str = "") -> List[Dict]:
    return [c for c in cases if c.get("status") != CLOSED and c.get("conversation_id") != except_conversation]


# --- the right to be forgotten ------------------------------------------------------


async def _customer_for(redis, query: str) -> Optional[str]:
    """The record an email, phone, order number, shop customer id or record id names."""
    from actions.orders import order_store  # the shop's data: only needed here

    query = query.strip()
    lookups = [("email", query)] if "@" in query else [("shop", query), ("phone", query)]
    if query.isdigit():
        store = order_store()
        order = await store.get_order(query)
        owner = await store.customer(email=order.email) if order else None
        if owner is not None and owner.id:
            lookups.append(("shop", owner.id))
        if order is not None:
            lookups.append(("email", order.email))
    for kind, value in lookups:
        found = await redis.get(keys.identity(kind, identity_value(kind, value)))
        if found:
            return found
    return query if await redis.exists(keys.customer(query), keys.customer_identities(query)) else None


async def find_customer(redis, query: str) -> Optional[str]:
    """The customer record an email, phone, order number or shop customer id names (the
    agents' search, bot/console/search.py), or None."""
    return await _customer_for(redis, query)


class Erased(TypedDict):
    """What forgetting a customer deleted, and the conversations the caller may also erase."""

    customer_id: Optional[str]
    cases: int
    identities: int
    conversations: List[str]


async def _erase(redis, customer_id: str) -> Erased:
    cases = await cases_of(redis, customer_id)
    identity_keys = await redis.smembers(keys.customer_identities(customer_id))
    conversations = sorted(
        {c["conversation_id"] for c in cases if c.get("conversation_id")}
        | {k.split(":", 3)[3] for k in identity_keys if k.startswith(keys.identity("sender", ""))}
    )
    pipe = redis.pipeline(transaction=True)
    for key in identity_keys:
        pipe.delete(key)
    for case in cases:
        pipe.delete(keys.case(case["ref"]))
    pipe.delete(
        keys.customer(customer_id), keys.customer_cases(customer_id), keys.customer_identities(customer_id)
    )
    await pipe.execute()
    return {
        "customer_id": customer_id,
        "cases": len(cases),
        "identities": len(identity_keys),
        "conversations": conversations,
    }


async def forget(redis, query: str) -> Erased:
    """Delete a customer's memory: their record, identities and cases. Returns what was
    deleted, with the conversation ids the caller may also erase (transcripts, trackers)."""
    customer_id = await _customer_for(redis, query)
    if customer_id is None:
        return {"customer_id": None, "cases": 0, "identities": 0, "conversations": []}
    return await _erase(redis, customer_id)


async def forget_conversation(redis, conversation_id: str) -> Erased:
    """Forget the customer this conversation belongs to (or only its guest record)."""
    customer_id = await redis.get(keys.identity("sender", conversation_id))
    if customer_id is None:
        return {"customer_id": None, "cases": 0, "identities": 0, "conversations": [conversation_id]}
    erased = await _erase(redis, customer_id)
    erased["conversations"] = sorted(set(erased["conversations"]) | {conversation_id})
    return erased


async def _forget_command(query: str) -> int:
    from actions.store import get_redis

    redis = get_redis()
    erased = await forget(redis, query)
    if erased["customer_id"] is None:
        print(f"nothing is remembered for {query!r}")
        return 1
    # Their conversations go too: Rasa's trackers, the hub's state and transcripts.
    for cid in erased["conversations"]:
        await redis.delete(keys.rasa_tracker(cid), keys.conversation(cid), keys.transcript(cid))
    print(json.dumps(erased))
    return 0


def main(argv: List[str]) -> int:
    if len(argv) != 2 or argv[0] != "forget":
        print(
            "usage: python -m actions.memory forget <email|phone|order number|customer id>", file=sys.stderr
        )
        return 2
    return asyncio.run(_forget_command(argv[1]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
