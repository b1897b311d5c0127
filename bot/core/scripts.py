"""The conversation store's atomic steps, as Redis scripts (one round trip each, so
concurrent hub processes cannot interleave inside them). State names come in as ARGV,
from core.conversations.State, never as literals here."""

# Queue a conversation unless it is already queued or with an agent (so concurrent
# handoffs of one conversation cannot both add it), and one handoff once: a conversation
# keeps the key of the handoff that last queued it, and the same handoff again (its early
# word, then the turn's relay: contract/handoff_requests.py) adds nothing.
# KEYS: conversation hash, queue. ARGV: id, score, severity, packet, now, language,
# the QUEUED state, the AGENT state, the handoff's key ("" for none), "1" to queue only a
# conversation that exists. Returns 1: queued now; 2: this handoff is queued already;
# 0: not queued by this (queued or with an agent already, or no such conversation).
ENQUEUE = """
local state = redis.call('HGET', KEYS[1], 'state')
if ARGV[9] ~= '' and redis.call('HGET', KEYS[1], 'handoff') == ARGV[9] then
  if state == ARGV[7] then return 2 end
  return 0
end
if state == ARGV[7] or state == ARGV[8] then return 0 end
if not state and ARGV[10] == '1' then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[7], 'severity', ARGV[3], 'packet', ARGV[4],
           'queued_at', ARGV[5], 'language', ARGV[6], 'updated_at', ARGV[5], 'agent', '',
           'handoff', ARGV[9])
redis.call('HDEL', KEYS[1], 'first_reply_at')  -- the next agent reply is a first one
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return 1
"""

# A customer's message: the transcript entry, then its dedupe marker, in one step (a
# script stops at an error without undoing what it did: the marker comes last).
# KEYS: dedupe marker, transcript, conversation hash. ARGV: marker TTL, transcript cap,
# text, message id, time as text, conversation TTL, time.
LOG_INBOUND = """
local seen = redis.call('GET', KEYS[1])
if seen then return seen end
local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'from', 'customer',
                      'text', ARGV[3], 'data', '{}', 'message_id', ARGV[4], 'at', ARGV[5])
redis.call('EXPIRE', KEYS[2], ARGV[6])
redis.call('HSET', KEYS[3], 'updated_at', ARGV[7], 'last_customer_at', ARGV[7])
redis.call('SET', KEYS[1], 'taken', 'EX', ARGV[1])
return 'new'
"""
