"""The customer memory in Redis: records, identities and cases, read, written and
forgotten. The action server writes it; the hub's console reads it and forgets it. What
a verified customer told us is never asked again, and nobody else ever sees it (trust
levels: contract/identity.py).

Every conversation (its sender id: a widget session, a REST sender, a Messenger PSID's
conversation) points at one record. A stranger's conversation has a guest record of its
own: its cases count for repeat contact on that same channel identity, and nothing else.
A *verified* customer's record is found by the customer's identities:

- ("shop", id): the shop's own customer id (signed by the shop, or the owner of an order
  whose email or phone the customer gave correctly);
- ("email", address), ("phone", number): that customer's contact details *on the shop's
  record*, never a detail someone merely typed.

A conversation that proves who it is (an order and its email or phone) gets a *proof*
(`attach_conversation`): it names the customer, lapses after the idle time
(SESSION_IDLE_MINUTES) without a message, and is replaced by a proof of another customer;
the conversation's identity ("sender", id) keeps pointing at its own guest record. What
the guest record held joins the customer's record: records merge only guests, never two
verified customers, and another customer's identities are never re-pointed.

An order number alone, or a contact detail alone, never links anything. Cases are also
listed by the order they are about (keys.order_cases), so the agents' search finds them
by order number. Records, their cases, every identity and the order lists expire
`retention()` after their last write.

Nothing here needs the shop's order store or rasa_sdk (the hub imports it); finding a
customer by an order number, which needs the order store, is the action server's
(actions/memory.py, with its `forget` command).
"""

from dataclasses import dataclass
import os
import secrets
import time
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, TypedDict

from contract import events, keys
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


async def guest(redis, sender_id: str) -> str:
    """This conversation's own guest record (its cases count for repeat contact on this
    channel identity, and nothing else). A conversation is never itself linked to a
    verified customer (its proof is: `session_proof`); one linked by an earlier version
    gets a guest record of its own again."""
    ttl = retention()
    key = keys.identity("sender", sender_id)
    pipe = redis.pipeline(transaction=True)
    pipe.set(key, secrets.token_hex(8), ex=ttl, nx=True)
    pipe.get(key)
    pipe.expire(key, ttl)
    created, customer_id, _ = await pipe.execute()
    if not created and await is_verified(redis, customer_id):
        pipe = redis.pipeline(transaction=True)
        pipe.srem(keys.customer_identities(customer_id), key)
        customer_id = secrets.token_hex(8)
        pipe.set(key, customer_id, ex=ttl)
        created = True
        await pipe.execute()
    if created:
        pipe = redis.pipeline(transaction=True)
        pipe.sadd(keys.customer_identities(customer_id), key)
        pipe.expire(keys.customer_identities(customer_id), ttl)
        await pipe.execute()
    return customer_id


async def is_verified(redis, customer_id: str) -> bool:
    return await redis.hget(keys.customer(customer_id), VERIFIED_FIELD) == "1"


async def link_verified(redis, verified_ids: List[Tuple[str, str]], profile: Dict[str, str]) -> str:
    """The verified customer behind `verified_ids` (the shop id first), created if new.

    Records are never merged here: the customer is the record their strongest identity
    already points at. Each of their identities that points nowhere yet is pointed at it;
    one that points at another record is left alone (another customer's identities are
    never re-pointed)."""
    ttl = retention()
    names = [keys.identity(k, identity_value(k, v)) for k, v in verified_ids]
    found = await redis.mget(names) if names else []
    customer_id = next((cid for cid in found if cid), None) or secrets.token_hex(8)
    pipe = redis.pipeline(transaction=True)
    for name, current in zip(names, found, strict=True):
        if current in (None, customer_id):
            pipe.set(name, customer_id, ex=ttl)
            pipe.sadd(keys.customer_identities(customer_id), name)
    values = {k: str(v) for k, v in profile.items() if k in DETAIL_FIELDS and v}
    pipe.hset(keys.customer(customer_id), mapping={**values, VERIFIED_FIELD: "1"})
    for key in (
        keys.customer(customer_id),
        keys.customer_cases(customer_id),
        keys.customer_identities(customer_id),
    ):
        pipe.expire(key, ttl)
    await pipe.execute()
    return customer_id


# --- a conversation's proof of who it is (its session) --------------------------------


def idle_seconds() -> int:
    """Seconds after the customer's last message that a conversation's proof lapses
    (SESSION_IDLE_MINUTES)."""
    return int(float(os.environ.get("SESSION_IDLE_MINUTES", "30")) * 60)


@dataclass(frozen=True)
class Proof:
    """A conversation proved it is `customer_id`: by order and contact (or the owner's
    link), for `order_id`, at `at`; `seen` is the customer's last message since."""

    customer_id: str
    order_id: str
    by: str
    at: float
    seen: float

    def fresh(self, now: float, idle: int) -> bool:
        """Proved less than the idle time ago: enough to cancel an order or pay into an account."""
        return now - self.at <= idle


async def attach_conversation(redis, cid: str, customer_id: str, order_id: str, by: str, now: float) -> None:
    """This conversation proved it is `customer_id` (its order and contact): its proof
    (which lapses after the idle time) names them, and what it did as a guest (its guest
    record's cases) joins their record. A proof of another customer replaces the one it
    had: two verified customers are never merged."""
    ttl, idle = retention(), idle_seconds()
    guest_id = await guest(redis, cid)
    pipe = redis.pipeline(transaction=True)
    if guest_id != customer_id:
        _move_cases(pipe, guest_id, customer_id)
    pipe.delete(keys.session_proof(cid))
    pipe.hset(
        keys.session_proof(cid),
        mapping={"customer": customer_id, "order": order_id, "by": by, "at": now, "seen": now},
    )
    pipe.expire(keys.session_proof(cid), idle)
    pipe.set(keys.verified_as(cid), customer_id, ex=ttl)
    pipe.sadd(keys.customer_conversations(customer_id), cid)
    for key in (
        keys.customer(customer_id),
        keys.customer_cases(customer_id),
        keys.customer_conversations(customer_id),
    ):
        pipe.expire(key, ttl)
    await pipe.execute()


def _move_cases(pipe, source: str, target: str) -> None:
    """Queue the move of a guest record's cases into `target` (ZUNIONSTORE drops the TTL:
    attach_conversation sets it again in the same transaction)."""
    pipe.zunionstore(
        keys.customer_cases(target),
        [keys.customer_cases(target), keys.customer_cases(source)],
        aggregate="MIN",
    )
    pipe.delete(keys.customer_cases(source))


async def session_proof(redis, cid: str, now: float, idle: Optional[int] = None) -> Optional[Proof]:
    """This conversation's proof, unless it lapsed (no message for the idle time: then it
    is gone, and the customer a guest again). Reading it counts as the customer's activity."""
    data = await redis.hgetall(keys.session_proof(cid))
    if not data.get("customer") or not await touch_proof(redis, cid, now, idle):
        return None
    return Proof(data["customer"], data.get("order", ""), data.get("by", ""), float(data.get("at") or 0), now)


# KEYS[1]: a conversation's proof; ARGV: now, its idle seconds. A proof that lapsed is
# deleted, never revived; one that did not lasts another idle time. 1: it is alive.
TOUCH = """
local seen = redis.call('HGET', KEYS[1], 'seen')
if not seen then
  return 0
end
if tonumber(ARGV[1]) - tonumber(seen) > tonumber(ARGV[2]) then
  redis.call('DEL', KEYS[1])
  return 0
end
redis.call('HSET', KEYS[1], 'seen', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
"""


async def touch_proof(redis, cid: str, now: float, idle: Optional[int] = None) -> bool:
    """The customer wrote: their proof (if any, and not lapsed) lasts another idle time
    from now. The hub calls it for every message (those an agent answers too); reading
    it does the same. Whether the conversation has a live proof."""
    idle = idle_seconds() if idle is None else idle
    return bool(await redis.eval(TOUCH, 1, keys.session_proof(cid), repr(float(now)), idle))


async def proved_at(redis, cid: str) -> float:
    """When this conversation last proved who it is (0: no live proof)."""
    return float(await redis.hget(keys.session_proof(cid), "at") or 0)


async def end_proof(redis, cid: str) -> None:
    """The conversation's session ended ("End chat", a resume link): a guest again."""
    await redis.delete(keys.session_proof(cid))


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
        | await redis.smembers(keys.customer_conversations(customer_id))
    )
    proved = await redis.smembers(keys.customer_conversations(customer_id))
    pipe = redis.pipeline(transaction=True)
    for key in identity_keys:
        pipe.delete(key)
    for cid in proved:  # their conversations' proofs of who they are
        pipe.delete(keys.session_proof(cid), keys.verified_as(cid))
    for case in cases:
        pipe.delete(keys.case(case.ref))
        if case.order_id:
            pipe.zrem(keys.order_cases(case.order_id), case.ref)
    pipe.delete(
        keys.customer(customer_id),
        keys.customer_cases(customer_id),
        keys.customer_identities(customer_id),
        keys.customer_conversations(customer_id),
    )
    await pipe.execute()
    return {
        "customer_id": customer_id,
        "cases": len(cases),
        "identities": len(identity_keys),
        "conversations": conversations,
    }


async def forget_customer_of(redis, conversation_id: str) -> Erased:
    """Forget the customer this conversation last proved it was, and its own guest
    record (only the guest record if it never proved anyone)."""
    verified = await redis.get(keys.verified_as(conversation_id))
    guest_id = await redis.get(keys.identity("sender", conversation_id))
    if verified is None and guest_id is None:
        return nothing_erased([conversation_id])
    erased = nothing_erased([conversation_id])
    for customer_id in dict.fromkeys(filter(None, (verified, guest_id))):
        one = await forget_customer(redis, customer_id)
        erased["customer_id"] = erased["customer_id"] or one["customer_id"]
        erased["cases"] += one["cases"]
        erased["identities"] += one["identities"]
        erased["conversations"] = sorted(set(erased["conversations"]) | set(one["conversations"]))
    return erased


async def forget_conversations(redis, conversation_ids: Iterable[str]) -> None:
    """Delete conversations: every key of theirs (keys.conversation_keys: the hub's state
    and transcript, follow-up and call-back, proof, Rasa's tracker), their guest records,
    their widget sessions (revoked: a browser keeping one starts a new conversation),
    their fulfilment tasks (which name the customer), their ids in the queue, the
    follow-ups, the call-backs, the task lists and their agent's set, and their report
    events (contract/events.py forget). The console's forget and `python -m
    actions.memory forget` both end here."""
    ids = list(dict.fromkeys(conversation_ids))
    if not ids:
        return
    for cid in ids:  # each conversation's own guest record, with its cases
        guest_id = await redis.get(keys.identity("sender", cid))
        if guest_id and not await is_verified(redis, guest_id):
            await forget_customer(redis, guest_id)
    pipe = redis.pipeline(transaction=False)
    for cid in ids:
        pipe.hget(keys.conversation(cid), "agent")  # the hub's field: who owns it
        pipe.smembers(keys.conversation_sessions(cid))  # its widget sessions: revoked
        pipe.smembers(keys.conversation_tasks(cid))  # its fulfilment tasks (contract/tasks.py)
    found = await pipe.execute()
    agents, sessions, task_ids = found[0::3], found[1::3], found[2::3]
    pipe = redis.pipeline(transaction=True)
    for cid, agent, hashes, tasks in zip(ids, agents, sessions, task_ids, strict=True):
        pipe.delete(*keys.conversation_keys(cid), *(keys.widget_session(h) for h in hashes))
        for members in keys.CONVERSATION_SETS:
            pipe.zrem(members, cid)
        if agent:
            pipe.srem(keys.agent_conversations(agent), cid)
        for task in tasks:
            pipe.delete(keys.task(task))
            pipe.zrem(keys.TASKS_OPEN, task)
            pipe.zrem(keys.TASKS_CLOSED, task)
    await pipe.execute()
    await events.forget(redis, ids)
