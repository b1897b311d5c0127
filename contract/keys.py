"""Every Redis key the project writes, the hub's and the assistant's, in one place.

All start with PREFIX, clear of Rasa's own tracker and lock keys (endpoints.yml gives
those the prefixes "rasatracker" and "rasalock"). Lifetimes:
- conversations and their transcripts expire CONVERSATION_TTL after the last activity;
  transcripts are capped at TRANSCRIPT_MAX entries; dedupe markers live DEDUPE_TTL;
- customer memory, cases and the index of cases by order expire MEMORY_RETENTION_DAYS
  after their last write;
- an order's count of wrong proofs expires ORDER_PROOF_WINDOW after the first;
- the demo shop's data does not expire.
"""

from typing import Tuple

PREFIX = "sr"

# --- the assistant: customer memory, cases, the demo shop ---------------------------------

# Default retention of customer memory (MEMORY_RETENTION_DAYS): six months, long
# enough to recognise a returning customer.
MEMORY_RETENTION_DAYS = 180
RASA_TRACKER_PREFIX = "rasatracker:tracker:"  # endpoints.yml key_prefix + Rasa's own


def identity(kind: str, value: str) -> str:
    """Points one identity (sender, shop, email, phone) at a customer id."""
    return f"{PREFIX}:identity:{kind}:{value.lower()}"


def customer(customer_id: str) -> str:
    """Hash of the details a customer has given (never ask again)."""
    return f"{PREFIX}:customer:{customer_id}"


def customer_identities(customer_id: str) -> str:
    """Set of the identity keys that point at this customer (for merging and forgetting)."""
    return f"{PREFIX}:customer:{customer_id}:identities"


def rasa_tracker(sender_id: str) -> str:
    """Rasa's tracker of a conversation (Rasa writes it; we only delete it on forget)."""
    return RASA_TRACKER_PREFIX + sender_id


def customer_cases(customer_id: str) -> str:
    """Sorted set of the customer's case references, scored by creation time."""
    return f"{PREFIX}:customer:{customer_id}:cases"


def case(ref: str) -> str:
    """JSON document of one case (contract/case.py: complaint, details, remedies, handoff packet)."""
    return f"{PREFIX}:case:{ref}"


def order_cases(order_id: str) -> str:
    """Sorted set of the references of the cases about one order, scored by creation
    time (the agents' search by order number)."""
    return f"{PREFIX}:order:{order_id}:cases"


SHOP_LOADED = f"{PREFIX}:shop:loaded"  # fingerprint of the demo data last loaded


def shop_order(order_id: str) -> str:
    return f"{PREFIX}:shop:order:{order_id}"


ORDER_PROOF_WINDOW = 24 * 3600


def order_proof_failures(order_id: str) -> str:
    """Counter of wrong emails or phones given for one order, from any conversation;
    expires ORDER_PROOF_WINDOW after the first (actions/details_form.py)."""
    return f"{PREFIX}:order:{order_id}:proof-failures"


def shop_customer(email: str) -> str:
    return f"{PREFIX}:shop:customer:{email.lower()}"


def shop_customer_id(customer_id: str) -> str:
    """The shop's customer id -> the shop customer's email."""
    return f"{PREFIX}:shop:customer-id:{customer_id}"


def shop_phone(phone: str) -> str:
    """Phone number -> the shop customer's email."""
    return f"{PREFIX}:shop:phone:{phone}"


def shop_orders_of(email: str) -> str:
    """Sorted set of a shop customer's order ids, most recent highest."""
    return f"{PREFIX}:shop:orders:{email.lower()}"


# --- the hub: conversations, queue, agents, follow-ups ------------------------------------

CONVERSATION_TTL = 30 * 24 * 3600
TRANSCRIPT_MAX = 2000
DEDUPE_TTL = 24 * 3600
AGENT_SESSION_TTL = 12 * 3600

QUEUE = f"{PREFIX}:queue"  # sorted set: conversation id, scored severity first then wait
AGENTS_ONLINE = f"{PREFIX}:agents:online"  # sorted set: agent name -> last heartbeat
EVENTS = f"{PREFIX}:events"  # pub/sub channel: console events for every hub process
SOCKETIO_CHANNEL = f"{PREFIX}:socketio"  # python-socketio's Redis manager channel
SECRET = f"{PREFIX}:hub:secret"  # shared signing secret when HUB_SECRET is unset
SHOP_IDENTITY_SECRET = f"{PREFIX}:hub:shop_identity_secret"  # the demo's, when SHOP_IDENTITY_SECRET is unset


def conversation(cid: str) -> str:
    """Hash: state, channel, identity, language, packet, agent, timestamps."""
    return f"{PREFIX}:conv:{cid}"


def transcript(cid: str) -> str:
    """Stream of every message in and out (customer, bot, agent, system)."""
    return f"{PREFIX}:conv:{cid}:log"


def seen(cid: str, message_id: str) -> str:
    """Marker that an inbound message id was already handled (redeliveries)."""
    return f"{PREFIX}:conv:{cid}:seen:{message_id}"


def still_here(cid: str) -> str:
    """Marker that a queued customer was reassured recently."""
    return f"{PREFIX}:conv:{cid}:still_here"


def agent_conversations(agent: str) -> str:
    """Set of conversations an agent owns."""
    return f"{PREFIX}:agent:{agent}:conversations"


def agent_session(token: str) -> str:
    return f"{PREFIX}:agent:session:{token}"


def acknowledged(cid: str) -> str:
    """Id of the last outgoing transcript entry the customer's widget rendered."""
    return f"{PREFIX}:conv:{cid}:acked"


def turns(cid: str) -> str:
    """List: the turns of a conversation waiting to run, the running one first
    (bot/core/turn_lock.py); expires with the last turn's deadline."""
    return f"{PREFIX}:conv:{cid}:turns"


def turn_deadlines(cid: str) -> str:
    """Hash: each turn in `turns` -> its deadline (ms, Redis's clock)."""
    return f"{PREFIX}:conv:{cid}:turns:deadlines"


def turn_wake(cid: str, token: str) -> str:
    """List a waiting turn blocks on; the turn before it pushes here as it ends (the
    lock's script builds the same name: `turns(cid)` + ":wake:" + token)."""
    return f"{turns(cid)}:wake:{token}"


FOLLOW_UP_DUE = (
    f"{PREFIX}:followup:due"  # sorted set: conversation id -> when to check for unread agent replies
)


def follow_up_lock(cid: str) -> str:
    """Held (LOCK_SECONDS in bot/aftercare/followup.py) by the one hub process emailing cid."""
    return f"{PREFIX}:conv:{cid}:followup:lock"


def emailed(cid: str) -> str:
    """Id of the last agent reply emailed to the customer."""
    return f"{PREFIX}:conv:{cid}:emailed"


def follow_up_attempts(cid: str) -> str:
    """Failed email attempts since the last success."""
    return f"{PREFIX}:conv:{cid}:followup:attempts"


CALLBACKS = f"{PREFIX}:callbacks"  # sorted set: conversation id -> when its call-back window starts


def callback(cid: str) -> str:
    """Hash: the call-back dialogue and task (step, phone, window, attempts)."""
    return f"{PREFIX}:conv:{cid}:callback"


def messenger_persona(name_hash: str) -> str:
    """The Messenger persona id made for one agent display name (hashed); "-" when the
    Page refused one. Expires PERSONA_TTL after it was made."""
    return f"{PREFIX}:messenger:persona:{name_hash}"


PERSONA_TTL = 30 * 24 * 3600
PERSONA_REFUSED_TTL = 3600  # ask the Page again an hour after it refused


def limit(name: str, subject_hash: str) -> str:
    """Counter of one rate limit (bot/core/limits.py) for one hashed subject; expires with its window."""
    return f"{PREFIX}:limit:{name}:{subject_hash}"


# --- one conversation, all of it (forgetting it deletes these: contract/memory.py) -------

CONVERSATION_SETS = (QUEUE, FOLLOW_UP_DUE, CALLBACKS)  # sorted sets a conversation id may be in


def conversation_keys(cid: str) -> Tuple[str, ...]:
    """Every key that holds something of one conversation: the hub's state and
    transcript, its markers, its follow-up and call-back (a phone number), and Rasa's
    tracker (every detail the customer typed). Its agent's set and CONVERSATION_SETS
    hold its id."""
    return (
        conversation(cid),
        transcript(cid),
        still_here(cid),
        acknowledged(cid),
        emailed(cid),
        follow_up_attempts(cid),
        callback(cid),
        zalo_reply(cid),
        zalo_choices(cid),
        rasa_tracker(cid),
    )


# --- Zalo Official Account (bot/channels/zalo.py, bot/channels/zalo_api.py) --------------

# Hash shared by every hub process: access_token, expires_at, refresh_token (it rotates on
# every use: only the newest works), seed (the ZALO_REFRESH_TOKEN it started from).
ZALO_TOKENS = f"{PREFIX}:zalo:tokens"
ZALO_TOKEN_LOCK = f"{PREFIX}:zalo:tokens:lock"  # held by the one process refreshing the tokens


def zalo_reply(cid: str) -> str:
    """Hash: the customer's last Zalo message id (replies cite it) and how many messages
    the OA has sent since (Zalo's reply quota); expires with Zalo's 48-hour window."""
    return f"{PREFIX}:conv:{cid}:zalo:reply"


def zalo_choices(cid: str) -> str:
    """JSON list of the payloads last offered as numbered choices (a number answers one)."""
    return f"{PREFIX}:conv:{cid}:zalo:choices"


ZALO_REPLY_TTL = 48 * 3600
