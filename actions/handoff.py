"""Handing a conversation to a human, with everything they need to never ask again.

`hand_off` is shared by every path that ends with a person: the customer asked,
the case is critical, the alternatives were declined, nothing in the playbook fits,
or the bot failed to understand twice in a row. It records the case in Redis, tells
the customer honestly what happens next, and emits the custom payload
{"handoff": {...}} that the hub turns into a queued conversation (DESIGN.md).
"""

import time
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import memory
from actions.common import (
    PLAYBOOK, CustomerMemory, channel_of, details_from_slots, known, language,
    load_customer, text, usable_order,
)
from actions.orders import Order, order_store
from actions.severity import anger_signs
from actions.store import get_redis
from actions.triage import ASKED, ask_which, read
from contract.identity import normalise_email, normalise_phone

REASONS = {
    "customer_asked": ("the customer asked for a person", "khách hàng yêu cầu gặp nhân viên"),
    "critical_severity": ("the case is critical", "vụ việc nghiêm trọng"),
    "alternatives_declined": ("the customer declined the remedies and alternatives offered",
                              "khách hàng không đồng ý các phương án đã đề xuất"),
    "no_remedy": ("no remedy in the playbook fits this case",
                  "không có phương án phù hợp trong quy trình xử lý"),
    "not_understood": ("the bot failed to understand the customer twice in a row",
                       "trợ lý không hiểu khách hàng hai lần liên tiếp"),
}
# Which reply the customer gets for each reason.
REPLIES = {
    "customer_asked": "utter_handoff",
    "critical_severity": "utter_handoff",
    "alternatives_declined": "utter_handoff_no_options",
    "no_remedy": "utter_handoff_no_options",
    "not_understood": "utter_handoff_not_understood",
}
COMPLAINT_PREFIX = "complain_"
CONVERSATION_INTENTS = ("cancel_order", "request_human")


def transcript(tracker: Tracker) -> List[Dict[str, Any]]:
    lines = []
    for event in tracker.events:
        if event.get("event") == "user" and event.get("text"):
            lines.append({"from": "customer", "text": event["text"], "at": event.get("timestamp")})
        elif event.get("event") == "bot" and event.get("text"):
            lines.append({"from": "bot", "text": event["text"], "at": event.get("timestamp")})
    return lines


def intents_seen(tracker: Tracker) -> List[str]:
    seen: List[str] = []
    for event in tracker.events:
        if event.get("event") != "user":
            continue
        name = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if name and (name.startswith(COMPLAINT_PREFIX) or name in CONVERSATION_INTENTS):
            if name not in seen:
                seen.append(name)
    return seen


def remedies_and_answers(tracker: Tracker) -> List[Dict[str, str]]:
    answers = {a["remedy"]: a["answer"] for a in tracker.get_slot("remedy_answers") or []}
    return [{"remedy": rid, "answer": answers.get(rid, "no answer yet")}
            for rid in tracker.get_slot("offered_remedies") or []]


def summarise(packet: Dict[str, Any], lang: str) -> str:
    """One paragraph for the agent, in English (lang="en") or Vietnamese."""
    vi = lang == "vi"
    complaint = packet.get("complaint_type")
    rules = PLAYBOOK.complaints.get(complaint) if complaint else None
    about = text(rules.apologise_for, lang) if rules and rules.apologise_for else (
        ("việc hủy đơn" if vi else "cancelling an order") if complaint == "cancel_order"
        else ("một vấn đề chưa rõ" if vi else "an issue not yet classified"))
    details = packet["details"]
    order = packet.get("order")
    parts = [("Khách hàng liên hệ về " if vi else "The customer got in touch about ") + about + "."]
    if order:
        status = text(PLAYBOOK.order_status.get(order["status"]), lang)
        parts.append((f"Đơn {order['order_id']} ({text(order['items'], lang)}) {status}."
                      if vi else f"Order {order['order_id']} ({text(order['items'], lang)}) is {status}."))
    elif packet.get("claimed_order"):
        parts.append(f"Khách đưa mã đơn {details['order_id']} nhưng chưa xác minh là đơn của mình." if vi
                     else f"Order number given: {details['order_id']}, not verified as the customer's.")
    elif known(details.get("order_id")):
        parts.append(f"Mã đơn khách đưa: {details['order_id']} (chưa tra được)." if vi
                     else f"Order number given: {details['order_id']} (not found).")
    else:
        parts.append("Chưa có mã đơn." if vi else "No order number yet.")
    severity = packet["severity"]
    parts.append((f"Mức độ: {severity['level']}" if vi else f"Severity {severity['level']}")
                 + (" (" + "; ".join(severity["reasons"]) + ")." if severity["reasons"] else "."))
    offered = packet["remedies"]
    if offered:
        listed = ", ".join(f"{o['remedy']} ({o['answer']})" for o in offered)
        parts.append(("Đã đề xuất: " if vi else "Offered: ") + listed + ".")
    else:
        parts.append("Chưa đề xuất phương án nào." if vi else "No remedy offered yet.")
    reason = REASONS.get(packet["reason"], (packet["reason"], packet["reason"]))
    parts.append(("Lý do chuyển: " if vi else "Handed over because ") + reason[1 if vi else 0] + ".")
    return " ".join(parts)


def details_trust(details: Dict[str, str], customer: CustomerMemory,
                  order: Optional[Dict[str, Any]]) -> Dict[str, str]:
    """Each detail marked "verified" (the customer proved it, or it is theirs on record)
    or "claimed" (only typed here)."""
    profile = customer.profile if customer.verified else {}
    same = {
        "order_id": lambda v: order is not None and order.get("order_id") == v,
        "email": lambda v: customer.verified and normalise_email(v) == normalise_email(profile.get("email", "")),
        "phone": lambda v: customer.verified and normalise_phone(v) == normalise_phone(profile.get("phone", "x")),
    }
    return {k: "verified" if same[k](str(v)) else "claimed" for k, v in details.items() if k in same}


def build_packet(
    tracker: Tracker, customer: CustomerMemory, reason: str, case_ref: str,
    named_order: Optional[Order] = None,
) -> Dict[str, Any]:
    """The context for the agent: everything known, each detail marked verified or
    claimed (agents are trusted; customers never see this). `named_order` is the
    look-up of the order number the customer gave."""
    lang = language(tracker)
    details = {k: v for k, v in details_from_slots(tracker).items() if known(v)}
    usable = usable_order(tracker, customer, named_order)
    order = tracker.get_slot("order") or (usable.as_dict() if usable else None)
    packet: Dict[str, Any] = {
        "conversation_id": tracker.sender_id,
        "channel": channel_of(tracker),
        "case_ref": case_ref,
        "customer": {
            "id": customer.customer_id,
            "verified": customer.verified,
            "verified_by": customer.verified_by,
            "name": customer.profile.get("name", ""),
            "email": customer.profile.get("email", ""),
            "phone": customer.profile.get("phone", ""),
            "tier": customer.tier if customer.verified else None,
            "history": [
                {"case_ref": c["ref"], "complaint_type": c.get("complaint_type"),
                 "status": c.get("status"), "remedy": c.get("applied_remedy"),
                 "created_at": c.get("created_at")}
                for c in customer.cases if c.get("ref") != case_ref
            ],
        },
        "language": lang,
        "reason": reason,
        "intents": intents_seen(tracker),
        "complaint_type": tracker.get_slot("complaint_type"),
        "details": details,
        "details_trust": details_trust(details, customer, order),
        "order": order,
        # The order the customer named but did not prove theirs: for the agent to check.
        "claimed_order": named_order.as_dict() if named_order and not order else None,
        "severity": {
            "level": tracker.get_slot("severity") or "unknown",
            "reasons": tracker.get_slot("severity_reasons") or [],
        },
        "remedies": remedies_and_answers(tracker),
        "transcript": transcript(tracker),
        "created_at": time.time(),
    }
    packet["summary"] = {"en": summarise(packet, "en")}
    packet["summary"][lang] = summarise(packet, lang)
    return packet


async def hand_off(
    dispatcher: CollectingDispatcher, tracker: Tracker, reason: str,
    customer: Optional[CustomerMemory] = None,
) -> List[EventType]:
    redis = get_redis()
    customer = customer or await load_customer(tracker)
    case = await memory.load_case(redis, tracker.get_slot("case_ref") or "") or {
        "conversation_id": tracker.sender_id,
        "complaint_type": tracker.get_slot("complaint_type"),
    }
    case.setdefault("ref", memory.new_case_ref())
    order_id = tracker.get_slot("order_id")
    named = await order_store().get_order(str(order_id)) if known(order_id) else None
    packet = build_packet(tracker, customer, reason, case["ref"], named)
    case.update({
        "status": "handed_off",
        "details": packet["details"],
        "severity": packet["severity"],
        "handoff": {k: v for k, v in packet.items() if k != "transcript"},
        "language": packet["language"],
    })
    await memory.save_case(redis, customer.customer_id, case)
    dispatcher.utter_message(response=REPLIES[reason], case_ref=case["ref"])
    dispatcher.utter_message(json_message={"handoff": packet})
    return [SlotSet("case_ref", case["ref"]), ActiveLoop(None), SlotSet("requested_slot", None)]


class ActionHandoff(Action):
    """A person was asked for, or the alternatives were declined."""

    def name(self) -> Text:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        asked = tracker.latest_message.get("intent", {}).get("name") == "request_human"
        return await hand_off(dispatcher, tracker, "customer_asked" if asked else "alternatives_declined")


class ActionNluFallback(Action):
    """The classifier gave up. If the ranking still says "complaint", or the customer is
    clearly angry, ask once which complaint it is (never "please rephrase" to an angry
    customer); otherwise ask to rephrase. Not understood after that question, or twice
    in a row, and a person takes over."""

    def name(self) -> Text:
        return "action_nlu_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        user_turns = [e for e in tracker.events if e.get("event") == "user"]
        previous = user_turns[-2] if len(user_turns) >= 2 else None
        previous_intent = ((previous or {}).get("parse_data") or {}).get("intent", {}).get("name")
        # complaint_check is always set here: "asked" with the question, else cleared
        # (the rules read it).
        cleared = [SlotSet("complaint_check", None)]
        if previous_intent == "nlu_fallback" or tracker.get_slot("complaint_check") == ASKED:
            return cleared + await hand_off(dispatcher, tracker, "not_understood")
        reading = read(tracker.latest_message)
        angry = anger_signs(tracker.latest_message.get("text") or "")
        if (reading.is_complaint(PLAYBOOK.understanding) or angry) and len(reading.types) >= 2:
            return ask_which(dispatcher, reading.top_two(), language(tracker))
        dispatcher.utter_message(response="utter_rephrase")
        return cleared


class ActionAgentHandback(Action):
    """An agent handed the conversation back (the hub sends /agent_handback with
    metadata {"handback": {"agent", "note"}}): recap, thank, ask the CSAT question."""

    def name(self) -> Text:
        return "action_agent_handback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        handback = (tracker.latest_message.get("metadata") or {}).get("handback")
        if not isinstance(handback, dict):
            # Only the hub hands back (its own metadata, which customers cannot set).
            dispatcher.utter_message(response="utter_how_can_help")
            return []
        agent = str(handback.get("agent") or "").strip()
        note = str(handback.get("note") or "").strip().rstrip(".")
        redis = get_redis()
        customer = await load_customer(tracker)
        case = await memory.load_case(redis, tracker.get_slot("case_ref") or "") or {
            "conversation_id": tracker.sender_id, "complaint_type": tracker.get_slot("complaint_type")}
        case.update({"status": "agent_handled", "agent": agent, "agent_note": note})
        case = await memory.save_case(redis, customer.customer_id, case)
        # Without the agent's name: "our team", never a stand-in name in the sentence.
        if note:
            response = "utter_handback_recap" if agent else "utter_handback_recap_unnamed"
        else:
            response = "utter_handback_no_note" if agent else "utter_handback_no_note_unnamed"
        dispatcher.utter_message(response=response, agent=agent, note=note, case_ref=case["ref"])
        dispatcher.utter_message(response="utter_thanks_close")
        dispatcher.utter_message(response="utter_ask_csat")
        return [SlotSet("case_ref", case["ref"])]
