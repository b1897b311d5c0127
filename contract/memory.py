"""The customer memory in Redis: records, identities and cases, read, written and
forgotten. The action server writes it; the hub's console reads it and forgets it. What
a verified customer told us is never asked again, and nobody else ever sees it (trust
levels: contract/identity.py).

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

An order number alone, or a contact detail alone, never links anything. Cases are also
listed by the order they are about (keys.order_cases), so the agents' search finds them
by order number. Records, their cases, every identity and the order lists expire
`retention()` after their last write; merging keeps them.

Nothing here needs the shop's order store or rasa_sdk (the hub imports it); finding a
customer by an order number, which needs the order store, is the action server's
(actions/memory.py, with its `forget` command).
"""

import os
import secrets
import time
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, TypedDict

from contract import keys
from contract.case import CLOSED, Case, read_case
from contract.identity import normalise_email, normalise_phone

DETAIL_FIELDS = ("email", "phone", "name", "language")
VERIFIED_FIELD = "verified"  # "1" on a verified customer's record
MAX_CASES = 50  # the newest cases of a customer (or an order) that are read


def retention() -> int:
    """Seconds a customer's memory lives after its last write (MEMORY_RETENTION_DAYS)."""
    return int(float(os.environ.get("MEMORY_RETENTION_DAYS", keys.MEMORY_RETENTION_DAYS)) * 24 * 3600)


def identity_value(kind: str, value: str) -> str:
    if kind == "email":
        return normalise_email(value)
    if kind == "phone":
        return normalise_phone(value)
    return value


# --- records and identities -----------------------------------------------------------


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


async def find_customer(redis, query: str, more: Sequence[Tuple[str, str]] = ()) -> Optional[str]:
    """The record an email, phone, shop customer id or record id names, or one of the
    identities in `more` (the action server adds an order's owner); None if none."""
    query = query.strip()
    lookups = [("email", query)] if "@" in query else [("shop", query), ("phone", query)]
    for kind, value in [*lookups, *more]:
        found = await redis.get(keys.identity(kind, identity_value(kind, value)))
        if found:
            return found
    return query if await redis.exists(keys.customer(query), keys.customer_identities(query)) else None


# --- cases ----------------------------------------------------------------------------


async def save_case(redis, customer_id: str, case: Case) -> Case:
    """Store `case` as `customer_id`'s (moved from its earlier record if it had one),
    listed under its order if it has one. Returns it as stored."""
    ttl = retention()
    saved = case.changed(customer_id=customer_id, updated_at=time.time())
    pipe = redis.pipeline(transaction=True)
    pipe.set(keys.case(saved.ref), saved.stored(), ex=ttl)
    if case.customer_id and case.customer_id != customer_id:
        pipe.zrem(keys.customer_cases(case.customer_id), saved.ref)
    pipe.zadd(keys.customer_cases(customer_id), {saved.ref: saved.created_at})
    pipe.expire(keys.customer_cases(customer_id), ttl)
    if saved.order_id:
        pipe.zadd(keys.order_cases(saved.order_id), {saved.ref: saved.created_at})
        pipe.expire(keys.order_cases(saved.order_id), ttl)
    await pipe.execute()
    return saved


async def load_case(redis, ref: str) -> Optional[Case]:
    return read_case(await redis.get(keys.case(ref))) if ref else None


async def _listed(redis, index: str, belongs=lambda case: True) -> List[Case]:
    """The cases a sorted set of references lists, newest first; references to cases
    that expired (or that `belongs` no longer accepts) are dropped from the set."""
    refs = await redis.zrevrange(index, 0, MAX_CASES - 1)
    if not refs:
        return []
    raws = await redis.mget([keys.case(ref) for ref in refs])
    cases = {ref: read_case(raw) for ref, raw in zip(refs, raws, strict=True)}
    gone = [ref for ref, case in cases.items() if case is None or not belongs(case)]
    if gone:
        await redis.zrem(index, *gone)
    return [case for ref, case in cases.items() if ref not in gone and case is not None]


async def cases_of(redis, customer_id: str) -> List[Case]:
    """The customer's cases, newest first."""
    return await _listed(redis, keys.customer_cases(customer_id))


async def cases_about_order(redis, order_id: str) -> List[Case]:
    """The cases about one order, whoever's, newest first."""
    return await _listed(redis, keys.order_cases(order_id), lambda case: case.order_id == order_id)


async def index_by_order(redis) -> int:
    """List every stored case that has an order under that order (keys.order_cases), as
    save_case does: for cases saved before those lists existed. Returns how many."""
    listed = 0
    async for key in redis.scan_iter(match=keys.case("*"), count=500):
        case = read_case(await redis.get(key))
        if case is not None and case.order_id:
            pipe = redis.pipeline(transaction=True)
            pipe.zadd(keys.order_cases(case.order_id), {case.ref: case.created_at})
            pipe.expire(keys.order_cases(case.order_id), retention())
            await pipe.execute()
            listed += 1
    return listed


def open_cases(cases: List[Case], except_conversation: str = "") -> List[Case]:
    return [c for c in cases if c.status != CLOSED and c.conversation_id != except_conversation]


async def find_cases(redis, query: str) -> Tuple[str, List[Case]]:
    """The cases an agent's search (bot/console/search.py) names, and what the query matched:
    "order_id" (the cases about that order number), else "email" or "phone" (the cases
    of the customer that identity, a shop customer id or a record id names). ("", [])
    when nothing matches. A case reference is read with load_case."""
    query = query.strip()
    if query.isdigit():
        about = await cases_about_order(redis, query)
        if about:
            return "order_id", about
    customer_id = await find_customer(redis, query)
    if customer_id is None:
        return "", []
    return ("email" if "@" in query else "phone"), await cases_of(redis, customer_id)


# --- the right to be forgotten --------------------------------------------------------


class Erased(TypedDict):
    """What forgetting a customer deleted, and the conversations the caller may also erase."""

    customer_id: Optional[str]
    cases: int
    identities: int
    conversations: List[str]


def nothing_erased(conversations: Sequence[str] = ()) -> Erased:
    return {"customer_id": None, "cases": 0, "identities": 0, "conversations": list(conversations)}


async def forget_customer(redis, customer_id: str) -> Erased:
    """Delete a customer's memory: their record, identities and cases (and the cases'
    places in their orders' lists). Returns what was deleted, with the conversations of
    theirs, which `forget_conversations` deletes."""
    cases = await cases_of(redis, customer_id)
    identity_keys = await redis.smembers(keys.customer_identities(customer_id))
    conversations = sorted(
        {c.conversation_id for c in cases if c.conversation_id}
        | {k.split(":", 3)[3] for k in identity_keys if k.startswith(keys.identity("sender", ""))}
    )
    pipe = redis.pipeline(transaction=True)
    for key in identity_keys:
        pipe.delete(key)
    for case in cases:
        pipe.delete(keys.case(case.ref))
        if case.order_id:
            pipe.zrem(keys.order_cases(case.order_id), case.ref)
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


async def forget_customer_of(redis, conversation_id: str) -> Erased:
    """Forget the customer this conversation belongs to (or only its guest record)."""
    customer_id = await redis.get(keys.identity("sender", conversation_id))
    if customer_id is None:
        return nothing_erased([conversation_id])
    erased = await forget_customer(redis, customer_id)
    erased["conversations"] = sorted(set(erased["conversations"]) | {conversation_id})
    return erased


async def forget_conversations(redis, conversation_ids: Iterable[str]) -> None:
    """Delete conversations: every key of theirs (keys.conversation_keys: the hub's state
    and transcript, follow-up and call-back, Rasa's tracker), their fulfilment tasks
    (which name the customer), and their ids in the queue, the follow-ups, the
    call-backs, the task lists and their agent's set. The console's forget
    and `python -m actions.memory forget` both end here."""
    ids = list(dict.fromkeys(conversation_ids))
    if not ids:
        return
    pipe = redis.pipeline(transaction=False)
    for cid in ids:
        pipe.hget(keys.conversation(cid), "agent")  # the hub's field: who owns it
        pipe.smembers(keys.conversation_tasks(cid))  # its fulfilment tasks (contract/tasks.py)
    found = await pipe.execute()
    agents, task_ids = found[0::2], found[1::2]
    pipe = redis.pipeline(transaction=True)
    for cid, agent, tasks in zip(ids, agents, task_ids, strict=True):
        pipe.delete(*keys.conversation_keys(cid))
        for members in keys.CONVERSATION_SETS:
            pipe.zrem(members, cid)
        if agent:
            pipe.srem(keys.agent_conversations(agent), cid)
        for task in tasks:
            pipe.delete(keys.task(task))
            pipe.zrem(keys.TASKS_OPEN, task)
            pipe.zrem(keys.TASKS_CLOSED, task)
    await pipe.execute()
