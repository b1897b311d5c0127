"""Every Redis key the project writes, the hub's and the assistant's, in one place.

All start with PREFIX, clear of Rasa's own tracker and lock keys (endpoints.yml gives
those the prefixes "rasatracker" and "rasalock"). Lifetimes:
- conversations and their transcripts expire CONVERSATION_TTL after the last activity;
  transcripts are capped at TRANSCRIPT_MAX entries; dedupe markers live DEDUPE_TTL;
- customer memory, cases and the index of cases by order expire MEMORY_RETENTION_DAYS
  after their last write;
- wrong proofs are counted per order and per conversation for ORDER_PROOF_WINDOW, per
  client address for ADDRESS_PROOF_WINDOW, from the first;
- a rate limit's counter expires with its window, a token bucket once it would be full
  again (bot/core/limits.py); a conversation's byte count lives as long as it does;
- a conversation's proof of who it is lapses SESSION_IDLE_MINUTES after the customer's
  last message (contract/memory.py); widget sessions live CONVERSATION_TTL after their
  last use; an owner's one-time link PROOF_LINK_TTL;
- the demo shop's data does not expire;
- a real order backend's look-ups are cached ORDER_CACHE_TTL (an order not found:
  ORDER_MISS_TTL), and a backend that failed is left alone for ORDERS_DOWN_TTL;
- a fulfilment task (contract/tasks.py) and its conversation's list of tasks live
  TASK_TTL after their last change; the open and closed lists are trimmed as they are
  read (an id whose task expired leaves them).
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


def customer_conversations(customer_id: str) -> str:
    """Set of the conversations that proved they were this customer (forgetting them finds them)."""
    return f"{PREFIX}:customer:{customer_id}:conversations"


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


ADDRESS_PROOF_WINDOW = 3600


def order_proof_failures(order_id: str) -> str:
    """Counter of wrong emails or phones given for one order number (an order or not),
    from any conversation; expires ORDER_PROOF_WINDOW after the first
    (actions/details_form.py)."""
    return f"{PREFIX}:order:{order_id}:proof-failures"


def sender_proof_failures(cid: str) -> str:
    """Counter of wrong emails or phones given in one conversation, for any order;
    expires ORDER_PROOF_WINDOW after the first."""
    return f"{PREFIX}:conv:{cid}:proof-failures"


def address_proof_failures(client: str) -> str:
    """Counter of wrong emails or phones given from one client address (its keyed hash,
    bot/channels/identity.py client_tag), for any order; expires ADDRESS_PROOF_WINDOW
    after the first."""
    return f"{PREFIX}:client:{client}:proof-failures"


PROOF_LINK_TTL = 30 * 60  # an owner's one-time link (bot/aftercare/owner_link.py)
PROOF_LINK_REQUEST_TTL = 10 * 60
PROOF_LINKS_PER_ORDER = 3  # links sent for one order in PROOF_LINK_WINDOW, whatever asks
PROOF_LINK_WINDOW = 3600


def proof_link_request(request_id: str) -> str:
    """Hash: a one-time link the action server asks the hub to email to an order's owner
    (conversation, order, address, the owner's identities and profile); the hub takes it."""
    return f"{PREFIX}:proof-link:request:{request_id}"


def proof_link(token_hash: str) -> str:
    """Hash: an emailed one-time link (what proof it carries, for which conversation),
    under the hash of its token; deleted when used."""
    return f"{PREFIX}:proof-link:{token_hash}"


def proof_links_sent(order_id: str) -> str:
    """Counter of one-time links emailed for one order; expires PROOF_LINK_WINDOW after the first."""
    return f"{PREFIX}:order:{order_id}:links-sent"


def shop_refunds(order_id: str) -> str:
    """Hash: the demo shop's refunds of one order, request key -> amount (actions/backends/demo.py)."""
    return f"{PREFIX}:shop:order:{order_id}:refunds"


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


# --- a real order backend (actions/backends/): short-lived copies of its answers ---------

ORDER_CACHE_TTL = 60  # seconds an order, a customer or a list of recent orders is reused
ORDER_MISS_TTL = 20  # seconds "no such order" is believed (a new order shows up soon)
ORDERS_DOWN_TTL = 15  # seconds every look-up fails at once after the backend failed


def order_lookup(backend: str, what: str) -> str:
    """One cached answer of one backend (`backend`: its name and a hash of where it is,
    so two configurations never share answers; `what`: e.g. "order:1001")."""
    return f"{PREFIX}:orders:{backend}:{what.lower()}"


def orders_down(backend: str) -> str:
    """Set (ORDERS_DOWN_TTL) when the backend timed out, failed or refused: the next
    look-ups say "unavailable" at once instead of each waiting for it."""
    return f"{PREFIX}:orders:{backend}:down"


def haravan_order_ids(backend: str) -> str:
    """Hash: a Haravan order number (what customers see) -> its API id, learnt from the
    order list (Haravan's API finds an order by its id only)."""
    return f"{PREFIX}:orders:{backend}:haravan-ids"


# --- fulfilment tasks: accepted remedies the team carries out (contract/tasks.py) ----------

TASK_TTL = 90 * 24 * 3600  # seconds a task is kept after its last change
TASKS_OPEN = f"{PREFIX}:tasks:open"  # sorted set: task id -> when it is due (open or claimed)
TASKS_CLOSED = f"{PREFIX}:tasks:closed"  # sorted set: task id -> when it was closed


def task(task_id: str) -> str:
    """JSON document of one fulfilment task (contract/tasks.py Task)."""
    return f"{PREFIX}:task:{task_id}"


def conversation_tasks(cid: str) -> str:
    """Set of the ids of the tasks a conversation's promises made (for its customer's
    email, and for forgetting)."""
    return f"{PREFIX}:conv:{cid}:tasks"


# --- the hub: conversations, queue, agents, follow-ups ------------------------------------

CONVERSATION_TTL = 30 * 24 * 3600
TRANSCRIPT_MAX = 2000
DEDUPE_TTL = 24 * 3600
AGENT_SESSION_TTL = 12 * 3600

QUEUE = f"{PREFIX}:queue"  # sorted set: conversation id, scored severity first then wait
AGENTS_ONLINE = f"{PREFIX}:agents:online"  # sorted set: agent name -> last heartbeat
EVENTS = f"{PREFIX}:events"  # pub/sub channel: console events for every hub process
# pub/sub channel: the assistant's handoff, the moment it decides, for the hub to queue
# before Rasa's turn ends (contract/handoff_requests.py)
HANDOFF_REQUESTS = f"{PREFIX}:handoff-requests"
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


def session_proof(cid: str) -> str:
    """Hash: who this conversation proved it is (customer, order, by, at, seen); it
    lapses SESSION_IDLE_MINUTES after the customer's last message (contract/memory.py)."""
    return f"{PREFIX}:conv:{cid}:proof"


def verified_as(cid: str) -> str:
    """The customer record this conversation last proved it was, kept MEMORY_RETENTION_DAYS
    after (forgetting the conversation's customer finds it)."""
    return f"{PREFIX}:conv:{cid}:verified-as"


def widget_session(token_hash: str) -> str:
    """Hash: one widget session id (under its hash): its conversation, and the proof it
    has seen. Lives CONVERSATION_TTL after its last use; revoked by deleting it
    (bot/core/sessions.py)."""
    return f"{PREFIX}:session:{token_hash}"


def conversation_sessions(cid: str) -> str:
    """Set of the hashes of the widget session ids issued for one conversation."""
    return f"{PREFIX}:conv:{cid}:sessions"


def resume_used(nonce: str) -> str:
    """Marker that a resume link (its nonce) was used; lives as long as the link would."""
    return f"{PREFIX}:resume:{nonce}"


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


def bucket(name: str, subject_hash: str) -> str:
    """Hash (tokens, at) of one token bucket (bot/core/limits.py) for one hashed subject;
    expires once it would be full again."""
    return f"{PREFIX}:bucket:{name}:{subject_hash}"


def conversation_bytes(cid: str) -> str:
    """Bytes of the conversation's byte budget spent so far (bot/core/limits.py); lives
    CONVERSATION_TTL after its last message."""
    return f"{PREFIX}:conv:{cid}:bytes"


# --- one conversation, all of it (forgetting it deletes these: contract/memory.py) -------

CONVERSATION_SETS = (QUEUE, FOLLOW_UP_DUE, CALLBACKS)  # sorted sets a conversation id may be in


def conversation_keys(cid: str) -> Tuple[str, ...]:
    """Every key that holds something of one conversation: the hub's state and
    transcript, its markers, its follow-up and call-back (a phone number), its proof and
    widget sessions, its byte count, the list of its fulfilment tasks, and Rasa's tracker
    (every detail the customer typed). Its agent's set and CONVERSATION_SETS hold its
    id; contract/memory.py forget_conversations also deletes the sessions and the tasks
    the sets name."""
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
        conversation_bytes(cid),
        session_proof(cid),
        verified_as(cid),
        sender_proof_failures(cid),
        conversation_sessions(cid),
        conversation_tasks(cid),
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
