"""Recovery-report events, written the moment they happen by the hub and the action
server (the one module both import), read by bot/console/reports.py.

One Redis stream per UTC day, `sr:report:YYYY-MM-DD`, capped at MAX_PER_DAY entries
and expiring RETENTION_DAYS after its day. Each entry: kind, the conversation's `ref`
(never its id, which can be an email address or a phone number: a keyed hash of it,
`ref()`, under a key made once in Redis, so the figures can count conversations without
naming anyone), the time (`at`, seconds) and the figures of that kind, JSON in `data`,
already computed where the event happens (a wait, a duration) so a report never
rescans transcripts.

Each conversation's events are listed under its ref (`conversation_index`, living as
long as its last event), so forgetting a conversation (`forget`, called by
contract/memory.py forget_conversations) deletes its events from every day's stream.

Kinds and their data:
  started      channel, language                       a new conversation (hub)
  complaint    type, channel, language, since_last     classified (actions); since_last:
               seconds since this customer's previous case, or null
  handoff      reason, severity, complaint_type, channel, language   queued for a person (hub)
  handoff_withdrawn  channel, language                 the customer took the request back
               while still queued ("never mind, you can help me": hub)
  first_reply  wait, severity, target, met             an agent's first reply after a
               handoff: wait in seconds, the target in seconds, met = wait <= target (hub)
  resolved     by ("bot"|"agent"), duration, complaint_type, channel, language
               duration: seconds from the conversation's start (hub for agents,
               actions for the bot)
  remedy       remedy, outcome (REMEDY_OUTCOMES), complaint_type (actions); "needs_approval":
               the customer asked for it and it is beyond the bot's approval limit
  csat         score (1-5), complaint_type, remedy, channel, language (actions)
  carried_out  remedy, complaint_type              an `api` remedy the order backend
               carried out at once (actions)
  task_made    task, remedy, due_at, api_failure   a fulfilment task made (contract/tasks.py,
               from the actions); api_failure: an `api` remedy the backend did not carry out
  task_closed  task, remedy, outcome ("done"|"failed"), on_time, overdue   an agent closed
               it (contract/tasks.py, from the hub); overdue: seconds past its due time (0 if
               on time)
  question     question (its details named by kind, at most 300 characters), answered
               (true: the help pages' section was quoted; false: "not sure"), page,
               section, score, channel, language (actions: actions/page_answers.py)

A report event must never break a conversation: Redis trouble here is logged and
swallowed.
"""

from datetime import datetime, timedelta, timezone
import hashlib
import hmac
import json
import logging
import secrets
import time
from typing import Any, Dict, Iterable, List, Optional

log = logging.getLogger(__name__)

PREFIX = "sr:report"
RETENTION_DAYS = 400  # a year of trends, and the same weeks last year
MAX_PER_DAY = 200_000
KINDS = (
    "started",
    "complaint",
    "handoff",
    "handoff_withdrawn",
    "first_reply",
    "resolved",
    "remedy",
    "csat",
    "carried_out",
    "task_made",
    "task_closed",
    "question",
)
REMEDY_OUTCOMES = ("offered", "accepted", "declined", "needs_approval")


def day_of(at: float) -> str:
    return datetime.fromtimestamp(at, timezone.utc).date().isoformat()


REF_KEY = f"{PREFIX}:ref-key"  # the key of ref()'s hash, made once


def stream_key(day: str) -> str:
    """Stream of one UTC day's report events (day as YYYY-MM-DD)."""
    return f"{PREFIX}:{day}"


def conversation_index(ref_: str) -> str:
    """Set of "day entry-id" of one conversation's events (by its ref), for forgetting."""
    return f"{PREFIX}:conv:{ref_}"


async def ref(redis, conversation_id: str) -> str:
    """The conversation's name in report events: HMAC-SHA256 of its id under a key kept
    in Redis (made the first time), so nobody can tell whose it is by hashing guesses."""
    key = await redis.get(REF_KEY)
    if key is None:
        await redis.set(REF_KEY, secrets.token_hex(32), nx=True)
        key = await redis.get(REF_KEY)
    digest = hmac.new(key.encode(), conversation_id.encode("utf-8", "surrogatepass"), hashlib.sha256)
    return digest.hexdigest()[:32]


# KEYS: the day's stream, the conversation's index. ARGV: cap, kind, ref, at, data,
# expiry (Unix seconds), day, seconds until that expiry. The index lives as long as
# the conversation's last event.
RECORD = """
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*',
                      'kind', ARGV[2], 'cid', ARGV[3], 'at', ARGV[4], 'data', ARGV[5])
redis.call('EXPIREAT', KEYS[1], ARGV[6])
redis.call('SADD', KEYS[2], ARGV[7] .. ' ' .. id)
local ttl = redis.call('TTL', KEYS[2])
if ttl < tonumber(ARGV[8]) then redis.call('EXPIREAT', KEYS[2], ARGV[6]) end
return id
"""


async def record(redis, kind: str, conversation_id: str, at: Optional[float] = None, **data: Any) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown report event {kind!r}")
    at = time.time() if at is None else at
    day = day_of(at)
    try:
        named = await ref(redis, conversation_id)
        await redis.eval(
            RECORD,
            2,
            stream_key(day),
            conversation_index(named),
            MAX_PER_DAY,
            kind,
            named,
            f"{at:.3f}",
            json.dumps(data, ensure_ascii=False),
            int(at) + RETENTION_DAYS * 86400,
            day,
            int(at) + RETENTION_DAYS * 86400 - int(time.time()),
        )
    except Exception as error:  # redis errors, a closed loop: the conversation goes on
        log.warning("report event %s not recorded: %s", kind, error)


async def forget(redis, conversation_ids: Iterable[str]) -> int:
    """Delete every report event of these conversations; returns how many went."""
    gone = 0
    for conversation_id in conversation_ids:
        index = conversation_index(await ref(redis, conversation_id))
        pipe = redis.pipeline(transaction=True)
        for member in await redis.smembers(index):
            day, _, entry = member.partition(" ")
            pipe.xdel(stream_key(day), entry)
        pipe.delete(index)
        gone += sum((await pipe.execute())[:-1])
    return gone


async def read(redis, since: float, until: float) -> List[Dict[str, Any]]:
    """Every event from `since` to `until` (seconds), oldest first; `cid` is the
    conversation's ref (see `ref`)."""
    events = []
    day = datetime.fromtimestamp(since, timezone.utc).date()
    last = datetime.fromtimestamp(until, timezone.utc).date()
    while day <= last:
        for _, fields in await redis.xrange(stream_key(day.isoformat())):
            at = float(fields.get("at") or 0)
            if since <= at <= until:
                events.append(
                    {
                        "kind": fields.get("kind"),
                        "cid": fields.get("cid"),
                        "at": at,
                        **json.loads(fields.get("data") or "{}"),
                    }
                )
        day += timedelta(days=1)
    return events
