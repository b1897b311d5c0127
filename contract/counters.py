"""Counters over fixed windows, shared by the assistant (wrong proofs of an order) and the
hub (one-time links sent): each counter is counted and given its expiry in one Redis
script, so a counter never lives without one, whatever fails between two calls.

A window starts with its first count; a counter found without an expiry gets one.
"""

from typing import List, Sequence, Tuple

# KEYS: the counters; ARGV[i]: the window of KEYS[i] in seconds. Returns the new counts.
COUNT = """
local counts = {}
for i, key in ipairs(KEYS) do
  counts[i] = redis.call('INCR', key)
  if redis.call('TTL', key) < 0 then
    redis.call('EXPIRE', key, ARGV[i])
  end
end
return counts
"""


async def count(redis, counters: Sequence[Tuple[str, int]]) -> List[int]:
    """Count one event on each (key, window in seconds); their new counts."""
    if not counters:
        return []
    names = [key for key, _ in counters]
    windows = [int(window) for _, window in counters]
    return [int(n) for n in await redis.eval(COUNT, len(names), *names, *windows)]


async def reached(redis, limits: Sequence[Tuple[str, int]]) -> bool:
    """Whether any (key, most) counter has reached its most."""
    if not limits:
        return False
    values = await redis.mget([key for key, _ in limits])
    return any(int(value or 0) >= most for value, (_, most) in zip(values, limits, strict=True))
