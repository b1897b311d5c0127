"""Handing a conversation to a human, with everything they need to never ask again.

`hand_off` is shared by every path that ends with a person: the customer asked,
the case is critical, the alternatives were declined, nothing in the playbook fits,
or the bot failed to understand twice in a row. It records the case in Redis, tells
the customer honestly what happens next, and emits the custom payload
{"handoff": {...}} that the hub turns into a queued conversation (DESIGN.md).
"""

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import memory
from actions.common import (
    PLAYBOOK,
    CustomerMemory,
    details_from_slots,
    known,
    language,
    load_customer,
    usable_order,
)
from actions.orders import Order, order_store
from actions.store import get_redis
from actions.triage import ASKED, ask_which, which_to_ask
from contract.handoff import SEVERITY_REASONS, HandoffPacket, summaries
from contract.identity import normalise_email, normalise_phone

# Which reply the customer gets for each reason.
REPLIES = {
    "customer_asked": "utter_handoff",
    "critical_severity": "utter_handoff",
    "alternatives_declined": "utter_handoff_no_options",
    "no_remedy": "utter_handoff_no_options",
    "order_not_proved": "utter_handoff_not_proved",
    "not_understood": "utter_handoff_not_understood",
}
COMPLAINT_PREFIX = "complain_"
CONVERSATION_INTENTS = ("cancel_order", "request_human", "ask_case_status")


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
    """Each remedy offered with the customer's answer, then what they asked for that was
    never offered (a refund beyond the bot's authority): the agent sees both."""
    answers = {a["remedy"]: a["answer"] for a in tracker.get_slot("remedy_answers") or []}
    offered = list(tracker.get_slot("offered_remedies") or [])
    return [{"remedy": rid, "answer": answers.get(rid, "no answer yet")} for rid in offered] + [
        {"remedy": rid, "answer": answer} for rid, answer in answers.items() if rid not in offered
    ]


def severity_codes(reasons: List[str]) -> List[str]:
    """The assessment's reasons (actions/severity.py words: "angry tone: ...", "gold
    customer", "complain_damaged (base 2)") as the packet's codes (contract SEVERITY_REASONS)."""
    codes: List[str] = []
    for reason in reasons:
        head = str(reason).split(":")[0].strip()
        code = (
            "base"
            if head.endswith(")") and "(base " in head
            else head.lower().replace(" ", "_").replace("-", "_")
        )
        if code in SEVERITY_REASONS and code not in codes:
            codes.append(code)
    return codes


def details_trust(
    details: Dict[str, str], customer: CustomerMemory, order: Optional[Dict[str, Any]]
) -> Dict[str, str]:
    """Each detail marked "verified" (the customer proved it, or it is theirs on record)
    or "claimed" (only typed here)."""
    profile = customer.profile if customer.verified else {}
    same = {
        "order_id": lambda v: order is not None and order.get("order_id") == v,
        "email": lambda v: (
            customer.verified and normalise_email(v) == normalise_email(profile.get("email", ""))
        ),
        "phone": lambda v: (
            customer.verified and normalise_phone(v) == normalise_phone(profile.get("phone", "x"))
        ),
    }
    return {k: "verified" if same[k](str(v)) else "claimed" for k, v in details.items() if k in same}


def build_packet(
    tracker: Tracker,
    customer: CustomerMemory,
    reason: str,
    case_ref: str,
    named_order: Optional[Order] = None,
) -> HandoffPacket:
    """The context for the agent: everything known, each detail marked verified or
    claimed (agents are trusted; customers never see this). `named_order` is the
    look-up of the order number the customer gave. The hub adds its own fields
    (conversation id, channel) and keeps the transcript."""
    details = {k: str(v) for k, v in details_from_slots(tracker).items() if known(v)}
    usable = usable_order(tracker, customer, named_order)
    order = tracker.get_slot("order") or (usable.as_dict() if usable else None)
    reasons = tracker.get_slot("severity_reasons") or []
    packet = HandoffPacket.parse_obj(
        {  # checked against the contract here, not in the hub
            "case_ref": case_ref,
            "language": language(tracker),
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
                "reasons": severity_codes(reasons),
                "notes": [str(r) for r in reasons],
            },
            "repeat_contact": bool(tracker.get_slot("repeat_contact")),
            "remedies": remedies_and_answers(tracker),
            "customer": {
                "id": customer.customer_id,
                "verified": customer.verified,
                "verified_by": customer.verified_by,
                "name": customer.profile.get("name", ""),
                "email": customer.profile.get("email", ""),
                "phone": customer.profile.get("phone", ""),
                "tier": customer.tier if customer.verified else None,
                "history": [
                    {
                        "case_ref": c["ref"],
                        "complaint_type": c.get("complaint_type"),
                        "status": c.get("status"),
                        "remedy": c.get("applied_remedy"),
                        "created_at": c.get("created_at"),
                    }
                    for c in customer.cases
                    if c.get("ref") != case_ref
                ],
            },
            "summary": {"en": "", "vi": ""},  # below, from the fields
        }
    )
    return packet.copy(
        update={
            "summary": summaries(
                packet,
                order_status=PLAYBOOK.order_status,
                remedy_names={rid: r.label for rid, r in PLAYBOOK.remedies.items()},
            )
        }
    )


async def hand_off(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    reason: str,
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
    packet = build_packet(tracker, customer, reason, case["ref"], named).payload()
    case.update(
        {
            "status": "handed_off",
            "details": packet["details"],
            "severity": packet["severity"],
            "handoff": packet,
            "language": packet["language"],
        }
    )
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
        types = which_to_ask(tracker.latest_message, PLAYBOOK.understanding)
        if types:
            return ask_which(dispatcher, types, language(tracker))
        dispatcher.utter_message(response="utter_rephrase")
        return cleared


class ActionOutOfScope(Action):
    """Out of the shop's scope, as the classifier has it; but when the complaint types
    together outweigh that (or the customer is angry), it is a complaint whose type is
    unclear: a general apology and "which of these?" rather than "I can't help"."""

    def name(self) -> Text:
        return "action_out_of_scope"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        types = which_to_ask(tracker.latest_message, PLAYBOOK.understanding)
        if types:
            return ask_which(dispatcher, types, language(tracker))
        # While a form waits for a detail ("why do you need that?"), not "I can't help
        # with that": the form's question, which says why it asks, comes straight after.
        asking = tracker.active_loop_name and tracker.get_slot("requested_slot")
        dispatcher.utter_message(response="utter_not_followed" if asking else "utter_out_of_scope")
        return [SlotSet("complaint_check", None)]  # the rules read it


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
            "conversation_id": tracker.sender_id,
            "complaint_type": tracker.get_slot("complaint_type"),
        }
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
        return [SlotSet("case_ref", case["ref"]), SlotSet("csat_asked", True)]
