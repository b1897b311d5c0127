"""Build rasa_sdk trackers in code and run actions against the real domain."""

import re
import time
from typing import Any, Dict, List, Optional
import uuid

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.complaint import ActionAcknowledgeComplaint
from actions.complaint_resolve import ActionResolveComplaint
from actions.details_form import ValidateComplaintDetailsForm
from actions.playbook import shop_playbook
from actions.store import get_redis
from contract import events
from contract.intents import DECLINES_OFFER, REFUSED_REMEDIES
from nlu.details import refused_remedies, turns_offer_down
from tests.shop import new_customer

SLOT_DEFAULTS = {"detail_attempts": 0}
FORM = ValidateComplaintDetailsForm()  # prove(): the details form's proof of an order


def user_event(
    text: str,
    intent: str,
    entities: Optional[List[Dict]] = None,
    language: Optional[str] = None,
    metadata: Optional[Dict] = None,
) -> Dict[str, Any]:
    # The rule-based flag the NLU adds to every message (nlu/components.py DetailExtractor).
    parse = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.99},
        "entities": entities or [],
        "language": language,
        "metadata": metadata or {},
        DECLINES_OFFER: turns_offer_down(text),
        REFUSED_REMEDIES: refused_remedies(text),
    }
    return {"event": "user", "text": text, "parse_data": parse, "timestamp": 1.0}


def entity(name: str, value: str) -> Dict[str, Any]:
    return {"entity": name, "value": value, "start": 0, "end": len(value)}


def tracker(
    sender: str,
    text: str = "",
    intent: str = "greet",
    entities: Optional[List[Dict]] = None,
    slots: Optional[Dict] = None,
    history: Optional[List[Dict]] = None,
    language: str = "en",
    active_loop: Optional[Dict] = None,
    metadata: Optional[Dict] = None,
) -> Tracker:
    """`metadata` is what the hub sends with the message (contract/identity.py)."""
    latest = user_event(text, intent, entities, language, metadata)
    all_slots = {**SLOT_DEFAULTS, "language": language, **(slots or {})}
    return Tracker(
        sender,
        all_slots,
        latest["parse_data"],
        (history or []) + [latest],
        False,
        None,
        active_loop or {},
        "action_listen",
    )


async def run(action, trk: Tracker, domain: Dict) -> (CollectingDispatcher, List[Dict]):
    """Run `action`, and the action it hands the turn to (FollowupAction), as Rasa does."""
    from actions.remedies import ActionOfferAlternatives

    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, trk, domain)
    followups = {a.name(): a for a in (ActionOfferAlternatives(),)}
    for event in list(events):
        if event.get("event") == "followup":
            events.remove(event)
            events += await followups[event["name"]].run(dispatcher, trk, domain)
    return dispatcher, events


def slots_set(events: List[Dict]) -> Dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def responses(dispatcher: CollectingDispatcher) -> List[str]:
    return [m["response"] for m in dispatcher.messages if m.get("response")]


def payloads(dispatcher: CollectingDispatcher) -> List[Dict]:
    return [m["custom"] for m in dispatcher.messages if m.get("custom")]


def render(domain: Dict, message: Dict, slots: Dict[str, Any]) -> str:
    """Fill a response the way Rasa does; fail loudly if a {variable} is missing."""
    variations = domain["responses"][message["response"]]
    lang = slots.get("language") or "en"
    chosen = next(
        (v for v in variations if any(c.get("value") == lang for c in v.get("condition", []))), None
    )
    chosen = chosen or next(v for v in variations if "condition" not in v)
    values = {**slots, **{k: v for k, v in message.items() if k not in ("response", "buttons")}}
    names = re.findall(r"{(\w+)}", chosen["text"])
    missing = [n for n in names if values.get(n) is None]
    assert not missing, f"{message['response']} rendered without {missing}"
    return re.sub(r"{(\w+)}", lambda m: str(values[m.group(1)]), chosen["text"])


# --- customers, complaints and rankings shared by the action tests -------------------------------

# The tests' own playbook's thresholds (tests/conftest.py sets PLAYBOOK_PATH).
KNOBS = shop_playbook().understanding


def signed_in(customer):
    return {"channel": "web", "identity": {"channel_id": "w", "shop_customer": customer.customer.id}}


def signed(customer_id: str) -> dict:
    return {"channel": "web", "identity": {"channel_id": "w-session", "shop_customer": customer_id}}


async def acknowledge(sender, domain, text, intent, entities=(), language="en", slots=None, metadata=None):
    trk = tracker(sender, text, intent, list(entities), slots=slots, language=language, metadata=metadata)
    return await run(ActionAcknowledgeComplaint(), trk, domain)


async def _resolved(sender, domain, customer, complaint, language="en", text="help"):
    """Acknowledge and resolve a complaint about the customer's first order; the
    tracker the later steps need is rebuilt from the returned slots (and metadata)."""
    order_id = customer.order.order_id
    meta = signed_in(customer)
    _, ack = await acknowledge(
        sender, domain, text, complaint, language=language, slots={"order_id": order_id}, metadata=meta
    )
    slots = {**slots_set(ack), "order_id": order_id}
    dispatcher, events = await run(
        ActionResolveComplaint(),
        tracker(sender, "", "inform", slots=slots, language=language, metadata=meta),
        domain,
    )
    return dispatcher, {**slots, **slots_set(events)}


def glasses(redis_url):
    return new_customer(redis_url, orders=(("delivered", 480_000),))


def answering_an_offer(
    sender, text, intent, ranking, slots, metadata, language="en", last_action="action_resolve_complaint"
):
    """A message sent in answer to the offer the bot's last turn made."""
    history = [
        user_event("help", "complain_damaged"),
        {"event": "action", "name": last_action},
        {"event": "action", "name": "action_listen"},
    ]
    trk = tracker(
        sender,
        text,
        intent,
        [entity("remedy", "refund")],
        slots=slots,
        history=history,
        language=language,
        metadata=metadata,
    )
    trk.latest_message["intent_ranking"] = [{"name": n, "confidence": c} for n, c in ranking]
    return trk


def told(domain, dispatcher, language="en") -> str:
    return " ".join(
        render(domain, m, {"language": language}) for m in dispatcher.messages if m.get("response")
    )


def said(domain, dispatcher, slots) -> str:
    return " ".join(render(domain, m, {**slots, **m}) for m in dispatcher.messages if m.get("response"))


async def earlier_case(redis_url, domain, owner, order):
    """The owner complained before, signed in on the shop's site: a stored case."""
    sender = f"owner-{uuid.uuid4().hex[:8]}"
    trk = tracker(
        sender,
        "my parcel is late",
        "complain_delivery",
        [entity("order_id", order.order_id)],
        slots={"order_id": order.order_id},
        metadata=signed(owner.id),
    )
    _, events = await run(ActionAcknowledgeComplaint(), trk, domain)
    return slots_set(events)["case_ref"]


def ranking(*pairs):
    return [{"name": name, "confidence": confidence} for name, confidence in pairs]


def close_pair():
    """Two complaint types, the second just within close_ratio of the first; together
    clearly a complaint."""
    first = 0.9 * 1 / (1 + KNOBS.close_ratio)
    return ranking(
        ("complain_damaged", first), ("complain_defect", first * KNOBS.close_ratio + 0.01), ("greet", 0.02)
    )


def apart_pair():
    """The same mass, the second type just short of close_ratio: no question."""
    first = 0.9 * 1 / (1 + KNOBS.close_ratio)
    return ranking(
        ("complain_damaged", first), ("complain_defect", first * KNOBS.close_ratio - 0.01), ("greet", 0.02)
    )


def ranked_tracker(sender, text, intent, ranks, **kwargs):
    trk = tracker(sender, text, intent, **kwargs)
    trk.latest_message["intent_ranking"] = ranks
    trk.latest_message["intent"] = {"name": intent, "confidence": ranks[0]["confidence"]}
    return trk


async def recorded(sender, since):
    ref = await events.ref(get_redis(), sender)  # events name a conversation by its ref only
    return [e for e in await events.read(get_redis(), since, time.time() + 1) if e["cid"] == ref]


async def proved_as(sender):
    """The customer record this conversation has proved it is, now (None: a guest)."""
    from contract import memory

    proof = await memory.session_proof(get_redis(), sender, time.time())
    return proof.customer_id if proof else None


async def prove(sender, domain, order, given, attempts=0, entities=(), history=None):
    from rasa_sdk.executor import CollectingDispatcher

    out = CollectingDispatcher()
    slots = {
        "order_id": order.order_id,
        "order_contact": given,
        "complaint_type": "complain_delivery",
        "detail_attempts": attempts,
    }
    result = await FORM.validate_order_contact(
        given, out, tracker(sender, given, "inform", list(entities), slots=slots, history=history), domain
    )
    return out, result
