"""One turn of a conversation at a time, on any number of hub processes: a fair lock per
conversation, in Redis.

Rasa's open-source lock store is not safe across Rasa processes (rasa#9213, the fix was
taken back out in rasa#11428), so the hub holds its own lock around each turn (bot/core/
turn.py: from transcribing the message to the end of Rasa's answer) and around the
hand-back (bot/core/outbox.py). Turns run in the order they asked for the conversation,
first come first served: a customer's quick messages reach Rasa in the order they came.

In Redis (contract/keys.py `turns`): a list of the turns waiting, the running one first,
and for each its deadline (Redis's own clock). The running turn holds a lease of `lease`
seconds, renewed every `STEP` seconds while its hub lives (up to `longest` seconds in
all, the most a turn may take), so a hub that dies mid-turn holds the conversation up for
at most `lease` seconds; a waiting turn renews its place every `STEP` seconds too, so one
whose hub died leaves the line. A turn that finishes wakes the next one at once (a list
it blocks on); a waiter also looks again every `STEP` seconds, which is how it finds a
dead turn's place expired. Only the owner of a place (its random token) can give it up
or renew it.
"""

import asyncio
import contextlib
import logging
import secrets
from typing import Optional

from redis.exceptions import RedisError

from contract import keys

log = logging.getLogger(__name__)
STEP = 1.0  # seconds between renewals, and a waiting turn's longest block (below every socket timeout)
WAITING_ALIVE = 3 * STEP  # a waiting turn that has not renewed its place for this long is gone
LEASE = 5 * STEP  # a running turn whose hub stopped renewing it is gone after this long

# KEYS: the line (list), the deadlines (hash token -> ms), this turn's wake list.
# ARGV: token, the running turn's lease (ms), waiting alive (ms). Returns 1 when this turn
# may run now.
TAKE = """
local now = redis.call('TIME')
now = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local token, hold, alive = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
if not redis.call('HGET', KEYS[2], token) then
  redis.call('RPUSH', KEYS[1], token)
end
for _, other in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  if other ~= token and tonumber(redis.call('HGET', KEYS[2], other) or '0') < now then
    redis.call('LREM', KEYS[1], 0, other)
    redis.call('HDEL', KEYS[2], other)
  end
end
local first = redis.call('LINDEX', KEYS[1], 0) == token
redis.call('HSET', KEYS[2], token, now + (first and hold or alive))
redis.call('PEXPIRE', KEYS[1], hold + alive)
redis.call('PEXPIRE', KEYS[2], hold + alive)
if first then
  redis.call('DEL', KEYS[3])
  return 1
end
return 0
"""

# KEYS: the line, the deadlines. ARGV: token, lease (ms). Returns 1 when renewed (0: this
# turn is not the running one any more: its lease had run out).
RENEW = """
if redis.call('LINDEX', KEYS[1], 0) ~= ARGV[1] then return 0 end
local now = redis.call('TIME')
now = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('HSET', KEYS[2], ARGV[1], now + tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[2]) * 2)
return 1
"""

# KEYS: the line, the deadlines. ARGV: token, how long a wake-up is kept (ms).
# Returns 1 when this turn was the running one (0: it had expired, or only waited).
GIVE_UP = """
local was_first = redis.call('LINDEX', KEYS[1], 0) == ARGV[1]
redis.call('LREM', KEYS[1], 0, ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
local next = redis.call('LINDEX', KEYS[1], 0)
if was_first and next then
  local wake = KEYS[1] .. ':wake:' .. next
  redis.call('RPUSH', wake, '1')
  redis.call('PEXPIRE', wake, ARGV[2])
end
if was_first then return 1 end
return 0
"""


class HeldTurn:
    """A conversation's turn, once it may run: its lease renewed while it runs,
    `release()` when it is over."""

    def __init__(self, lock: "TurnLock", cid: str, token: str) -> None:
        self.lock, self.cid, self.token = lock, cid, token
        self._over = False
        self._renewing = asyncio.create_task(self._renew())

    async def _renew(self) -> None:
        # `_over` as well as the task's cancellation: redis-py may turn a cancellation
        # during a command into a RedisError, which would keep the renewal (and so the
        # conversation) going until `longest`.
        ends = asyncio.get_running_loop().time() + self.lock.longest
        while asyncio.get_running_loop().time() + STEP < ends:
            await asyncio.sleep(STEP)
            if self._over:
                return
            try:
                if not await self.lock._renew(
                    keys=self.lock._keys(self.cid, self.token)[:2],
                    args=[self.token, int(self.lock.lease * 1000)],
                ):
                    return  # its lease had run out (Redis away longer than it)
            except RedisError:
                pass  # Redis away: try again; the lease runs out if it stays away
            if self._over:
                return
        log.warning(
            "a turn of %s ran past %.0f s: its lease is no longer renewed", self.cid, self.lock.longest
        )

    async def release(self) -> None:
        """Give the conversation to the next turn. Never raises: if Redis is away, the
        place expires by itself at the end of its lease."""
        self._over = True
        self._renewing.cancel()
        await asyncio.wait({self._renewing})  # its end, without swallowing our own cancellation
        try:
            if not await self.lock._give_up(self.cid, self.token):
                log.warning("a turn of %s lost its lease before it ended", self.cid)
        except RedisError as error:
            log.warning("could not release the turn of %s (%s); it expires by itself", self.cid, error)


class TurnLock:
    def __init__(self, redis, wait: float, longest: float, lease: float = LEASE) -> None:
        """wait: the longest a turn waits for those before it; longest: the longest a turn
        may run (its lease is renewed until then: Rasa's timeout and the writes around
        it); lease: how long a turn whose hub died still holds the conversation."""
        self.redis = redis
        self.wait = wait
        self.longest = longest
        self.lease = lease
        self._take = redis.register_script(TAKE)
        self._renew = redis.register_script(RENEW)
        self._release = redis.register_script(GIVE_UP)

    def _keys(self, cid: str, token: str):
        line = keys.turns(cid)
        return [line, keys.turn_deadlines(cid), keys.turn_wake(cid, token)]

    async def acquire(self, cid: str) -> Optional[HeldTurn]:
        """The conversation's next turn, once the turns before it are done; None after
        `wait` seconds (this turn then gives up its place)."""
        token = secrets.token_hex(8)
        line, deadlines, wake = self._keys(cid, token)
        loop_time = asyncio.get_running_loop().time
        give_up_at = loop_time() + self.wait
        try:
            while True:
                args = [token, int(self.lease * 1000), int(WAITING_ALIVE * 1000)]
                if await self._take(keys=[line, deadlines, wake], args=args):
                    return HeldTurn(self, cid, token)
                left = give_up_at - loop_time()
                if left <= 0:
                    await self._give_up(cid, token)
                    return None
                # Woken by the turn before as it ends; else look again after STEP.
                await self.redis.blpop([wake], timeout=min(STEP, left))
        except BaseException:
            with contextlib.suppress(Exception):  # cancelled or Redis away: leave the line
                await self._give_up(cid, token)
            raise

    async def _give_up(self, cid: str, token: str) -> bool:
        line, deadlines, _ = self._keys(cid, token)
        return bool(await self._release(keys=[line, deadlines], args=[token, int(WAITING_ALIVE * 1000)]))
