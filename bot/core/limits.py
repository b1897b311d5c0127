"""Limits that hold across hub processes, kept in Redis and checked before anything is
stored. Subjects (a socket, a conversation, a client address, an agent name) are hashed
into the key, so nothing a client sends becomes part of a key name.

Token buckets (`Bucket`, `Limits.take`): a subject holds up to `capacity` tokens, and an
empty bucket fills again in `period` seconds; each message takes one. One check is one
Lua script (TAKE), over every bucket the message counts against and its conversation's
byte budget: all of them or none, so a message one bucket refuses costs nothing in the
others. The clock is Redis's own (TIME), so hub processes with skewed clocks agree.

The byte budget is the conversation's transcript size: every customer message costs its
UTF-8 size, at least MESSAGE_FLOOR bytes (what storing it costs besides its text: the
transcript entry, the replies and Rasa's tracker events), out of CONVERSATION_BYTES
(`keys.conversation_bytes`, living as long as the conversation). A conversation that
has spent it takes no more messages: its transcript, and Rasa's tracker, stay bounded.

Fixed windows (`Limit`, `reserve`, `hit`): counters that start with the first event
and expire with their window, for sign-in attempts and per-address requests. `reserve`
counts first and says afterwards whether the count is over (reserve, then check), so
concurrent attempts cannot all slip in before the first is counted.
"""

from dataclasses import dataclass
import hashlib
from typing import Dict, List, Optional, Sequence, Tuple

from bot.settings import Settings
from contract import keys

# --- fixed windows --------------------------------------------------------------------


@dataclass(frozen=True)
class Limit:
    name: str
    most: int  # events allowed per window
    window: int  # seconds


# Sign-in (bot/console/auth.py): per name *and* address, so failures from one address
# never lock the agent out at another; and per address, whatever the names tried.
LOGIN_FAILURES_PER_NAME_AND_ADDRESS = Limit("login-name-address", 8, 900)
LOGIN_FAILURES_PER_IP = Limit("login-ip", 30, 300)


def digest(subject: str) -> str:
    return hashlib.sha256(subject.encode("utf-8", "surrogateescape")).hexdigest()[:24]


def counter_key(limit: Limit, subject: str) -> str:
    return keys.limit(limit.name, digest(subject))


# KEYS: the counters. ARGV: per counter, its window (seconds) and most.
# Returns per counter its count after this event and its TTL.
RESERVE = """
local out = {}
for i, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  if count == 1 then redis.call('EXPIRE', key, ARGV[2 * i - 1]) end
  local ttl = redis.call('TTL', key)
  if ttl < 0 then redis.call('EXPIRE', key, ARGV[2 * i - 1]); ttl = tonumber(ARGV[2 * i - 1]) end
  out[#out + 1] = count
  out[#out + 1] = ttl
end
return out
"""

# KEYS: counters to give one event back to (a sign-in that succeeded).
RELEASE = """
for _, key in ipairs(KEYS) do
  local count = tonumber(redis.call('GET', key) or '0')
  if count > 0 then redis.call('DECR', key) end
end
return 0
"""


@dataclass(frozen=True)
class Reserved:
    """What `reserve` counted: `wait`, the seconds until the last counter over its
    limit resets (None: none is over); `newly_over`, the limits this event took over
    (the moment to log a lock-out, once)."""

    wait: Optional[int]
    newly_over: Tuple[str, ...]
    counted: Tuple[Tuple[Limit, str], ...]


async def reserve(redis, counts: Sequence[Tuple[Limit, str]]) -> Reserved:
    """Count one event for every (limit, subject) at once, then say whether any is over."""
    names = [counter_key(limit, subject) for limit, subject in counts]
    args: List[int] = []
    for limit, _ in counts:
        args += [limit.window, limit.most]
    flat = await redis.eval(RESERVE, len(names), *names, *args)
    wait: Optional[int] = None
    newly_over: List[str] = []
    for (limit, _), count, ttl in zip(counts, flat[0::2], flat[1::2], strict=True):
        if int(count) > limit.most:
            wait = max(wait or 0, max(int(ttl), 1))
            if int(count) == limit.most + 1:
                newly_over.append(limit.name)
    return Reserved(wait, tuple(newly_over), tuple(counts))


async def release(redis, reserved: Reserved) -> None:
    """Give the events `reserve` counted back (a sign-in that succeeded)."""
    names = [counter_key(limit, subject) for limit, subject in reserved.counted]
    await redis.eval(RELEASE, len(names), *names)


async def hit(redis, limit: Limit, subject: str) -> Optional[int]:
    """Count one event; None while within the limit, else the seconds until it resets."""
    return (await reserve(redis, [(limit, subject)])).wait


# --- token buckets, checked before a message is stored ----------------------------------

MAX_CONVERSATIONS_PER_SOCKET = 3  # a widget socket may hold this many conversations
MESSAGE_FLOOR = 1024  # bytes of the budget a message costs at least


@dataclass(frozen=True)
class Bucket:
    name: str
    capacity: int  # tokens when full: the burst allowed
    period: float  # seconds an empty bucket takes to fill


@dataclass(frozen=True)
class Refusal:
    """Why a message was refused: "rate" (a bucket is empty: try again in `wait`
    seconds, `bucket` names it) or "budget" (the conversation's bytes are spent)."""

    reason: str
    wait: float = 0.0
    bucket: str = ""


# KEYS: the buckets, then (when ARGV[1] says so) the conversation's byte counter.
# ARGV: 1 = "1" with a budget, 2 = how many buckets (n); per bucket its capacity and
# period; then the message's cost, the budget and the counter's TTL.
# Returns {0} (taken), {1, wait, bucket index} or {2} (budget spent).
TAKE = """
redis.replicate_commands()
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local n = tonumber(ARGV[2])
local levels = {}
local wait, which = 0, 0
for i = 1, n do
  local capacity = tonumber(ARGV[1 + 2 * i])
  local rate = capacity / tonumber(ARGV[2 + 2 * i])
  local state = redis.call('HMGET', KEYS[i], 'tokens', 'at')
  local tokens = tonumber(state[1]) or capacity
  local at = tonumber(state[2]) or now
  tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
  levels[i] = tokens
  if tokens < 1 and (1 - tokens) / rate > wait then
    wait = (1 - tokens) / rate
    which = i
  end
end
local cost, budget, ttl
if ARGV[1] == '1' then
  cost = tonumber(ARGV[3 + 2 * n])
  budget = tonumber(ARGV[4 + 2 * n])
  ttl = ARGV[5 + 2 * n]
  local used = tonumber(redis.call('GET', KEYS[n + 1]) or '0')
  if used + cost > budget then return {2} end
end
if which > 0 then return {1, tostring(wait), which} end
for i = 1, n do
  redis.call('HSET', KEYS[i], 'tokens', tostring(levels[i] - 1), 'at', tostring(now))
  redis.call('EXPIRE', KEYS[i], math.ceil(tonumber(ARGV[2 + 2 * i])) + 1)
end
if ARGV[1] == '1' then
  redis.call('INCRBY', KEYS[n + 1], cost)
  redis.call('EXPIRE', KEYS[n + 1], ttl)
end
return {0}
"""


def bucket_key(bucket: Bucket, subject: str) -> str:
    return keys.bucket(bucket.name, digest(subject))


def per_minute(name: str, most: int) -> Optional[Bucket]:
    """A bucket of `most` messages that fills again in a minute; None when 0 (off)."""
    return Bucket(name, most, 60.0) if most > 0 else None


class Limits:
    """The hub's buckets, from its settings (each 0 turns it off):

    - "conversation": messages per conversation, whatever the channel;
    - "socket": messages and session requests per widget socket;
    - "address": widget messages per client address;
    - "new-conversation": widget conversations started per client address;
    and each conversation's byte budget (CONVERSATION_BYTES).
    """

    def __init__(self, redis, settings: Settings) -> None:
        self.redis = redis
        self.budget = settings.conversation_bytes
        made = {
            "conversation": per_minute("conversation", settings.messages_per_conversation_minute),
            "socket": per_minute("socket", settings.widget_messages_per_socket_minute),
            "address": per_minute("address", settings.widget_messages_per_ip_minute),
            "new-conversation": per_minute("new-conversation", settings.widget_conversations_per_ip_minute),
        }
        self.buckets: Dict[str, Bucket] = {name: bucket for name, bucket in made.items() if bucket}

    async def take(
        self, subjects: Dict[str, str], conversation: str = "", size: int = 0
    ) -> Optional[Refusal]:
        """One token from each bucket named in `subjects` (bucket name -> subject) and,
        with `conversation`, `size` bytes (at least MESSAGE_FLOOR) of its budget: all at
        once, or nothing and the refusal."""
        checks = [(self.buckets[name], subject) for name, subject in subjects.items() if name in self.buckets]
        names = [bucket_key(bucket, subject) for bucket, subject in checks]
        args: List[object] = ["1" if conversation and self.budget > 0 else "0", len(checks)]
        for bucket, _ in checks:
            args += [bucket.capacity, bucket.period]
        if conversation and self.budget > 0:
            names.append(keys.conversation_bytes(conversation))
            args += [max(size, MESSAGE_FLOOR), self.budget, keys.CONVERSATION_TTL]
        if not names:
            return None
        verdict = await self.redis.eval(TAKE, len(names), *names, *args)
        if int(verdict[0]) == 0:
            return None
        if int(verdict[0]) == 2:
            return Refusal("budget")
        return Refusal("rate", float(verdict[1]), checks[int(verdict[2]) - 1][0].name)
