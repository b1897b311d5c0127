"""What a customer has been sent, read from the transcript: every outgoing message
after an id, and the id their widget last acknowledged.

An outgoing message's id is its transcript stream entry id ("1732334400123-0"), so ids
order like the transcript. The widget's delivery (channels/widget_delivery.py) and the
REST channel's catch-up (GET /webhooks/rest/messages) read what is outgoing from here;
email follow-up (aftercare/followup.py) checks what was acknowledged. The acknowledged
id in Redis (keys.acknowledged) only moves forward.
"""

import json
import re
from typing import Any, Dict, List, Optional, Tuple

from contract import keys

OUTGOING = ("bot", "agent")  # transcript senders the customer sees
ENTRY_ID = re.compile(r"^\d{1,19}-\d{1,19}$")  # within Redis's 64-bit stream ids
REPLAY_LIMIT = 500

# Only ever moves forward: stream ids compare as (milliseconds, sequence).
_ADVANCE = """
local current = redis.call('GET', KEYS[1])
local function parts(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
if current then
  local cm, cs = parts(current)
  local nm, ns = parts(ARGV[1])
  if nm < cm or (nm == cm and ns <= cs) then
    redis.call('EXPIRE', KEYS[1], ARGV[2])
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
"""


def valid_id(value: Any) -> bool:
    return isinstance(value, str) and bool(ENTRY_ID.match(value))


def as_message(entry_id: str, fields: Dict[str, Any]) -> Dict[str, Any]:
    """A transcript entry as the hub's outgoing message: {id, text?, buttons?, image?}."""
    data = fields.get("data")
    if isinstance(data, str):
        try:
            data = json.loads(data or "{}")
        except ValueError:
            data = {}
    data = data if isinstance(data, dict) else {}
    message: Dict[str, Any] = {"id": entry_id}
    if fields.get("text"):
        message["text"] = fields["text"]
    for key in ("buttons", "image"):
        if data.get(key):
            message[key] = data[key]
    if fields.get("from") == "agent" and data.get("agent"):
        message["agent"] = data["agent"]
    return message


async def entries_after(
    redis, cid: str, after: str, count: int
) -> List[Tuple[str, Optional[Dict[str, Any]]]]:
    """Up to `count` transcript entries after id `after`, oldest first: each entry's id,
    with the message the customer sees, or None for an entry they never see (their own
    messages, internal notes, system lines)."""
    rows = await redis.xrange(keys.transcript(cid), min=f"({after}", max="+", count=count)
    entries: List[Tuple[str, Optional[Dict[str, Any]]]] = []
    for entry_id, fields in rows:
        message = as_message(entry_id, fields) if fields.get("from") in OUTGOING else None
        entries.append((entry_id, message if message is not None and showable(message) else None))
    return entries


async def outgoing_after(redis, cid: str, after: str, limit: int = REPLAY_LIMIT) -> List[Dict[str, Any]]:
    """The outgoing messages of a conversation after entry id `after`, oldest first."""
    return [message for _, message in await entries_after(redis, cid, after, limit) if message]


def showable(message: Dict[str, Any]) -> bool:
    return bool(message.keys() & {"text", "buttons", "image"})


async def last_entry(redis, cid: str) -> str:
    rows = await redis.xrevrange(keys.transcript(cid), count=1)
    return rows[0][0] if rows else "0-0"


async def acknowledge(redis, cid: str, message_id: str) -> bool:
    """Record that the customer's widget rendered everything up to message_id."""
    if not valid_id(message_id):
        return False
    return bool(await redis.eval(_ADVANCE, 1, keys.acknowledged(cid), message_id, keys.CONVERSATION_TTL))


async def acknowledged(redis, cid: str) -> str:
    return await redis.get(keys.acknowledged(cid)) or ""


def id_key(entry_id: str):
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)
