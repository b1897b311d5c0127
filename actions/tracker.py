"""Reading the tracker: what the conversation says, from its slots, its latest message
and its events. Pure functions (no Redis, no playbook, no order store), so each is tested
with a tracker built in code."""

import re
from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker

from actions.orders import Order
from contract.language import spoken

NO_VALUE = "none"  # the customer said they do not have this detail
ASKED = "asked"  # complaint_check, item_check, status_check: the question is out (the rules read it)
ANSWERED_ASIDE = "aside"  # complaint_check: a question answered from the help pages, not a complaint
DETAIL_SLOTS = ("order_id", "email", "phone")
COMPLAINT_PREFIX = "complain_"
# Intents an agent sees among the conversation's intents (besides the complaints).
CONVERSATION_INTENTS = ("cancel_order", "request_human", "ask_case_status")
# What the bot last did when it offered remedies and awaits the answer.
OFFERING_ACTIONS = ("action_resolve_complaint", "action_offer_alternatives")
# The slot an aside sets when it asked an open question again (actions/asides.py): "offer"
# (the remedies still open), "which" ("which of these?"), "item" ("is that the order you
# mean?"), "form" (the details form goes on), "complaint" (the message that asked for a
# person told a complaint, acknowledged now). The rules read it.
REASKED = "reasked"
# Actions that answer something beside the complaint and may ask the offer again.
ASIDE_ACTIONS = ("action_aside", "action_cancel_handoff")


def known(value: Any) -> bool:
    return value not in (None, "", NO_VALUE)


def language(tracker: Tracker) -> str:
    return spoken(tracker.get_slot("language"))


def intent_of(parse_data: Optional[Dict[str, Any]]) -> Optional[str]:
    """The intent a parsed message was given (a user event's parse_data, or the latest
    message)."""
    return ((parse_data or {}).get("intent") or {}).get("name")


def latest_intent(tracker: Tracker) -> Optional[str]:
    return intent_of(tracker.latest_message)


def latest_entity(tracker: Tracker, name: str) -> Optional[str]:
    values = list(tracker.get_latest_entity_values(name))
    return str(values[0]) if values else None


def details_from_slots(tracker: Tracker) -> Dict[str, Optional[str]]:
    return {name: tracker.get_slot(name) for name in DETAIL_SLOTS}


def order_in_hand(tracker: Tracker) -> Optional[Order]:
    """The order looked up for this complaint (slot "order": only one the customer may use)."""
    data = tracker.get_slot("order")
    return Order(**data) if data else None


def channel_of(tracker: Tracker) -> str:
    metadata = tracker.latest_message.get("metadata") or {}
    return str(metadata.get("channel") or tracker.get_latest_input_channel() or "rest")


def signed_customer(tracker: Tracker) -> Optional[str]:
    """The shop customer id the hub verified from the shop's signature, if any."""
    identity = (tracker.latest_message.get("metadata") or {}).get("identity") or {}
    value = identity.get("shop_customer") if isinstance(identity, dict) else None
    return value if isinstance(value, str) and value else None


CLIENT_RE = re.compile(r"^[0-9a-f]{16,64}$")


def client_of(tracker: Tracker) -> Optional[str]:
    """The hub's keyed hash of the client's own address (metadata "client": the widget's,
    never a proxy's or a server's), if it gave one."""
    value = (tracker.latest_message.get("metadata") or {}).get("client")
    return value if isinstance(value, str) and CLIENT_RE.match(value) else None


def user_events(tracker: Tracker) -> List[Dict[str, Any]]:
    return [e for e in tracker.events if e.get("event") == "user"]


def typed(event: Dict[str, Any]) -> bool:
    """A message the customer typed (a button sends its "/payload" instead)."""
    return not (event.get("text") or "").startswith("/")


def complaint_words(tracker: Tracker) -> str:
    """What the customer said about the complaint. After "which of these?", the answer
    is often a button, so the message the question was about counts too (for tone)."""
    latest = tracker.latest_message.get("text") or ""
    if tracker.get_slot("complaint_check") != ASKED:
        return latest
    said = [
        e.get("text") or ""
        for e in user_events(tracker)
        if intent_of(e.get("parse_data")) != "inform"  # a detail
    ]
    asked_about = next((t for t in reversed(said[:-1]) if t and not t.startswith("/")), "")
    return " ".join(t for t in (asked_about, latest) if t and not t.startswith("/"))


def this_complaint_texts(tracker: Tracker) -> List[str]:
    """What the customer typed about the complaint in hand: from the message that
    started it (the one before the latest acknowledgement) on; button payloads aside."""
    start = 0
    for i, event in enumerate(tracker.events):
        if event.get("event") == "action" and event.get("name") == "action_acknowledge_complaint":
            start = next((j for j in range(i - 1, -1, -1) if tracker.events[j].get("event") == "user"), i)
    return [e.get("text") or "" for e in tracker.events[start:] if e.get("event") == "user" and typed(e)]


def offer_awaits_answer(tracker: Tracker) -> bool:
    """Whether the bot's last turn offered remedies that the customer has not answered."""
    if not tracker.get_slot("offered_remedies") or tracker.get_slot("item_check") == ASKED:
        return False
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_user:
                return False
            seen_user = True  # the message being answered now
        elif seen_user and event.get("event") == "action" and event.get("name") != "action_listen":
            if event.get("name") in ASIDE_ACTIONS:  # an aside that asked the offer again
                return tracker.get_slot(REASKED) == "offer"
            return event.get("name") in OFFERING_ACTIONS
    return False


def first_turn(tracker: Tracker) -> bool:
    """True on the conversation's first customer message (of this session)."""
    turns = 0
    for event in reversed(tracker.events):
        if event.get("event") == "session_started":
            break
        turns += event.get("event") == "user"
    return turns <= 1


def session_started_at(tracker: Tracker) -> float:
    """When this session started (0 if the tracker does not say)."""
    return next(
        (e.get("timestamp") or 0 for e in reversed(tracker.events) if e.get("event") == "session_started"), 0
    )


def conversation_started_at(tracker: Tracker) -> Optional[float]:
    """The time of the tracker's first event, if it has one."""
    return next((e.get("timestamp") for e in tracker.events if e.get("timestamp")), None)


def previous_intent(tracker: Tracker) -> Optional[str]:
    """The intent of the customer's message before the latest one."""
    turns = user_events(tracker)
    return intent_of(turns[-2].get("parse_data")) if len(turns) >= 2 else None


def intents_seen(tracker: Tracker) -> List[str]:
    """The complaint and conversation intents of the conversation, first seen first."""
    seen: List[str] = []
    for event in user_events(tracker):
        name = intent_of(event.get("parse_data"))
        if name and (name.startswith(COMPLAINT_PREFIX) or name in CONVERSATION_INTENTS):
            if name not in seen:
                seen.append(name)
    return seen


def response_of(event: Dict[str, Any]) -> str:
    """The name of the response a bot message was ("" for none: Rasa keeps it with the
    message as `utter_action`)."""
    return str((event.get("metadata") or {}).get("utter_action") or "")


def last_response(tracker: Tracker) -> Optional[str]:
    """The name of the response the bot sent last before the customer's latest message,
    or None."""
    latest_seen = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if latest_seen:
                return None
            latest_seen = True
        elif event.get("event") == "bot" and latest_seen:
            return response_of(event) or None
    return None


def apologised(tracker: Tracker) -> bool:
    """Whether the bot has said sorry for a problem in this session ("I'm really sorry
    your refund is taking so long", or in general terms)."""
    for event in reversed(tracker.events):
        if event.get("event") == "session_started":
            return False
        name = response_of(event) if event.get("event") == "bot" else ""
        if name.startswith("utter_apology_") or name == "utter_sorry_general":
            return True
    return False
