"""Build rasa_sdk trackers in code and run actions against the real domain."""

import re
from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from contract.intents import DECLINES_OFFER, REFUSED_REMEDIES
from nlu.details import refused_remedies, turns_offer_down

SLOT_DEFAULTS = {"detail_attempts": 0}


def user_event(text: str, intent: str, entities: Optional[List[Dict]] = None,
               language: Optional[str] = None, metadata: Optional[Dict] = None) -> Dict[str, Any]:
    # The rule-based flag the NLU adds to every message (nlu/components.py DetailExtractor).
    parse = {"text": text, "intent": {"name": intent, "confidence": 0.99},
             "entities": entities or [], "language": language, "metadata": metadata or {},
             DECLINES_OFFER: turns_offer_down(text), REFUSED_REMEDIES: refused_remedies(text)}
    return {"event": "user", "text": text, "parse_data": parse, "timestamp": 1.0}


def entity(name: str, value: str) -> Dict[str, Any]:
    return {"entity": name, "value": value, "start": 0, "end": len(value)}


def tracker(sender: str, text: str = "", intent: str = "greet",
            entities: Optional[List[Dict]] = None, slots: Optional[Dict] = None,
            history: Optional[List[Dict]] = None, language: str = "en",
            active_loop: Optional[Dict] = None, metadata: Optional[Dict] = None) -> Tracker:
    """`metadata` is what the hub sends with the message (contract/identity.py)."""
    latest = user_event(text, intent, entities, language, metadata)
    all_slots = {**SLOT_DEFAULTS, "language": language, **(slots or {})}
    return Tracker(sender, all_slots, latest["parse_data"], (history or []) + [latest],
                   False, None, active_loop or {}, "action_listen")


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
    chosen = next((v for v in variations
                   if any(c.get("value") == lang for c in v.get("condition", []))), None)
    chosen = chosen or next(v for v in variations if "condition" not in v)
    values = {**slots, **{k: v for k, v in message.items() if k not in ("response", "buttons")}}
    names = re.findall(r"{(\w+)}", chosen["text"])
    missing = [n for n in names if values.get(n) is None]
    assert not missing, f"{message['response']} rendered without {missing}"
    return re.sub(r"{(\w+)}", lambda m: str(values[m.group(1)]), chosen["text"])
