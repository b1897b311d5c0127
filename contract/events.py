"""Recovery-report events, written the moment they happen by the hub and the action
server (the one module both import), read by bot/console/reports.py.

One Redis stream per UTC day, `sr:report:YYYY-MM-DD`, capped at MAX_PER_DAY entries
and expiring RETENTION_DAYS after its day. Each entry: kind, conversation id, the time
(`at`, seconds) and the figures of that kind, JSON in `data`, already computed where
the event happens (a wait, a duration) so a report never rescans transcripts.

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
  question     question (its details named by kind, at most 300 characters), answered
               (true: the help pages' section was quoted; false: "not sure"), page,
               section, score, channel, language (actions: actions/asides.py)

A report event must never break a conversation: Redis trouble here is logged and
swallowed.
"""

from datetime import datetime, timedelta, timezone
import json
import logging
import time
from typing import Any, Dict, List, Optional

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
    "question",
)
REMEDY_OUTCOMES = ("offered", "accepted", "declined", "needs_approval")


def day_of(at: float) -> str:
    return datetime.fromtimestamp(at, timezone.utc).date().isoformat()


def stream_key(day: str) -> str:
    """Stream of one UTC day's report events (day as YYYY-MM-DD)."""
    return f"{PREFIX}:{day}"


async def record(redis, kind: str, conversation_id: str, at: Optional[float] = None, **data: Any) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown report event {kind!r}")
    at = time.time() if at is None else at
    key = stream_key(day_of(at))
    try:
        pipe = redis.pipeline(transaction=False)
        pipe.xadd(
            key,
            {
                "kind": kind,
                "cid": conversation_id,
                "at": f"{at:.3f}",
                "data": json.dumps(data, ensure_ascii=False),
            },
            maxlen=MAX_PER_DAY,
            approximate=True,
        )
        pipe.expireat(key, int(at) + RETENTION_DAYS * 86400)
        await pipe.execute()
    except Exception as error:  # redis errors, a closed loop: the conversation goes on
        log.warning("report event %s for %s not recorded: %s", kind, conversation_id, error)


async def read(redis, since: float, until: float) -> List[Dict[str, Any]]:
    """Every event from `since` to `until` (seconds), oldest first."""
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
