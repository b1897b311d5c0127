"""Helpers every action uses: language, known details, the customer's memory, buttons."""

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker

from actions import memory
from actions.playbook import Playbook, load_playbook
from actions.store import get_redis

# Loaded (and validated) when the action server imports the actions: a bad playbook
# stops the server at start-up with a message naming the line.
PLAYBOOK: Playbook = load_playbook()

LANGUAGES = ("en", "vi")
NO_VALUE = "none"  # the customer said they do not have this detail
DETAIL_SLOTS = ("order_id", "email", "phone")


def language(tracker: Tracker) -> str:
    value = tracker.get_slot("language")
    return value if value in LANGUAGES else "en"


def text(mapping: Optional[Dict[str, str]], lang: str) -> str:
    if not mapping:
        return ""
    return mapping.get(lang) or mapping.get("en", "")


def join_options(options: List[str], lang: str) -> str:
    if len(options) <= 1:
        return "".join(options)
    word = " hoặc " if lang == "vi" else ", or "
    return ", ".join(options[:-1]) + word + options[-1]


def known(value: Any) -> bool:
    return value not in (None, "", NO_VALUE)


def details_from_slots(tracker: Tracker) -> Dict[str, Optional[str]]:
    return {name: tracker.get_slot(name) for name in DETAIL_SLOTS}


def latest_entity(tracker: Tracker, name: str) -> Optional[str]:
    values = list(tracker.get_latest_entity_values(name))
    return str(values[0]) if values else None


def person_button(lang: str) -> Dict[str, str]:
    return {"title": text(PLAYBOOK.labels["talk_to_person"], lang), "payload": "/request_human"}


def channel_of(tracker: Tracker) -> str:
    metadata = tracker.latest_message.get("metadata") or {}
    return str(metadata.get("channel") or tracker.get_latest_input_channel() or "rest")


@dataclass
class CustomerMemory:
    """Who this customer is and what we already know about them."""

    customer_id: str
    profile: Dict[str, str]
    cases: List[Dict] = field(default_factory=list)

    def open_cases(self, conversation_id: str = "") -> List[Dict]:
        return memory.open_cases(self.cases, conversation_id)


async def load_customer(tracker: Tracker, extra: Optional[Dict] = None) -> CustomerMemory:
    """Resolve the customer from every identity we hold and store what is new."""
    redis = get_redis()
    details = {**details_from_slots(tracker), **(extra or {})}
    customer_id = await memory.resolve_customer(
        redis, memory.identities(tracker.sender_id, details)
    )
    await memory.remember(redis, customer_id, {**details, "language": tracker.get_slot("language")})
    profile = await memory.recall(redis, customer_id)
    cases = await memory.cases_of(redis, customer_id)
    return CustomerMemory(customer_id, profile, cases)


def recalled_details(
    tracker: Tracker, customer: CustomerMemory, open_cases: List[Dict]
) -> Dict[str, str]:
    """Details the customer gave before (any conversation) that this one lacks.

    Email and phone belong to the person and are always reused. An order number
    belongs to a complaint: it is reused only from a case that is still open.
    """
    found = {}
    for name in ("email", "phone"):
        if not known(tracker.get_slot(name)) and known(customer.profile.get(name)):
            found[name] = customer.profile[name]
    if not known(tracker.get_slot("order_id")):
        for case in open_cases:
            if known(case.get("order_id")):
                found["order_id"] = case["order_id"]
                break
    return found


def describe_details(details: Dict[str, str], lang: str) -> str:
    names = {
        "en": {"order_id": "order {}", "email": "your email {}", "phone": "your phone {}"},
        "vi": {"order_id": "mã đơn {}", "email": "email {}", "phone": "số điện thoại {}"},
    }[lang]
    parts = [names[k].format(v) for k, v in details.items() if k in names and known(v)]
    return join_options(parts, lang).replace(" hoặc ", " và ").replace(", or ", " and ")
