"""Handing a conversation to a human, with everything they need to never ask again.

`hand_off` is shared by every path that ends with a person: the customer asked,
the case is critical, the alternatives were declined, nothing in the playbook fits,
or the bot failed to understand twice in a row. It records the case in Redis, tells
the hub at once (contract/handoff_requests.py: the agents' queue has it before the turn
ends), tells the customer honestly what happens next, and emits the custom payload
{"handoff": {...}} that the hub relays with the turn: the same handoff, queued once (DESIGN.md).
"""

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import PlaybookAction
from actions.cases import case_in_hand, update_case
from actions.customer import CustomerMemory, load_customer, order_named, usable_order
from actions.orders import Order, OrdersUnavailable
from actions.playbook import shop_playbook
from actions.store import get_redis
from actions.tracker import details_from_slots, intents_seen, known, language
from contract import handoff_requests, memory
from contract.case import AGENT_HANDLED, HANDED_OFF, Case
from contract.handoff import SEVERITY_REASONS, HandoffPacket, Severity, summaries
from contract.identity import normalise_email, normalise_phone
from contract.words import pick

# Which reply the customer gets for each reason.
REPLIES = {
    "customer_asked": "utter_handoff",
    "critical_severity": "utter_handoff",
    "alternatives_declined": "utter_handoff_no_options",
    "no_remedy": "utter_handoff_no_remedy",
    "order_not_proved": "utter_handoff_not_proved",
    "orders_unavailable": "utter_handoff_orders_unavailable",
    "not_understood": "utter_handoff_not_understood",
}


def remedies_and_answers(tracker: Tracker) -> List[Dict[str, str]]:
    """Each remedy offered with the customer's answer, then what they asked for that was
    never offered (a refund beyond the bot's authority): the agent sees both."""
    answers = {a["remedy"]: a["answer"] for a in tracker.get_slot("remedy_answers") or []}
    offered = list(tracker.get_slot("offered_remedies") or [])
    return [{"remedy": rid, "answer": answers.get(rid, "no answer yet")} for rid in offered] + [
        {"remedy": rid, "answer": answer} for rid, answer in answers.items() if rid not in offered
    ]


def severity_of(tracker: Tracker, case: Case) -> Severity:
    """The complaint's severity as assessed when it was acknowledged, kept on its case
    with the evidence. A case without one has the slots' (none: "unknown")."""
    if case.severity is not None:
        return case.severity
    codes = [r for r in tracker.get_slot("severity_reasons") or [] if r in SEVERITY_REASONS]
    return Severity(level=tracker.get_slot("severity") or "unknown", reasons=codes)


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


def customer_context(customer: CustomerMemory, case: Case) -> Dict[str, Any]:
    """Who the customer is, and their other cases, for the agent."""
    return {
        "id": customer.customer_id,
        "verified": customer.verified,
        "verified_by": customer.verified_by,
        "name": customer.profile.get("name", ""),
        "email": customer.profile.get("email", ""),
        "phone": customer.profile.get("phone", ""),
        "tier": customer.tier if customer.verified else None,
        "history": [
            {
                "case_ref": c.ref,
                "complaint_type": c.complaint_type,
                "status": c.status,
                "remedy": c.applied_remedy,
                "created_at": c.created_at,
            }
            for c in customer.cases
            if c.ref != case.ref
        ],
    }


def build_packet(
    tracker: Tracker,
    customer: CustomerMemory,
    reason: str,
    case: Case,
    named_order: Optional[Order] = None,
) -> HandoffPacket:
    """The context for the agent: everything known, each detail marked verified or
    claimed (agents are trusted; customers never see this). `named_order` is the
    look-up of the order number the customer gave. The hub adds its own fields
    (conversation id, channel) and keeps the transcript."""
    details = {k: str(v) for k, v in details_from_slots(tracker).items() if known(v)}
    usable = usable_order(tracker, customer, named_order)
    order = tracker.get_slot("order") or (usable.as_dict() if usable else None)
    packet = HandoffPacket.parse_obj(
        {  # checked against the contract here, not in the hub
            "case_ref": case.ref,
            "language": language(tracker),
            "reason": reason,
            "intents": intents_seen(tracker),
            "complaint_type": tracker.get_slot("complaint_type"),
            "details": details,
            "details_trust": details_trust(details, customer, order),
            "order": order,
            # The order the customer named but did not prove theirs: for the agent to check.
            "claimed_order": named_order.as_dict() if named_order and not order else None,
            "severity": severity_of(tracker, case),
            "repeat_contact": bool(tracker.get_slot("repeat_contact")),
            "remedies": remedies_and_answers(tracker),
            "customer": customer_context(customer, case),
            "summary": {"en": "", "vi": ""},  # below, from the fields
        }
    )
    book = shop_playbook()
    return packet.copy(
        update={
            "summary": summaries(
                packet,
                order_status=book.order_status,
                remedy_names={rid: r.label for rid, r in book.remedies.items()},
            )
        }
    )


async def hand_off(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    reason: str,
    customer: Optional[CustomerMemory] = None,
) -> List[EventType]:
    customer = customer or await load_customer(tracker)
    case = await case_in_hand(tracker)
    try:
        named = await order_named(tracker.get_slot("order_id"))
    except OrdersUnavailable:
        named = None  # the number stays in the details, marked claimed, for the agent
    packet = build_packet(tracker, customer, reason, case, named)
    payload = packet.payload()
    handed = case.changed(
        status=HANDED_OFF,
        details=packet.details,
        severity=packet.severity,
        handoff=payload,
        language=packet.language,
    )
    await memory.save_case(get_redis(), customer.customer_id, handed)
    # The hub queues it now, for the agents, without waiting for the turn's end; the
    # payload below tells the customer their place (contract/handoff_requests.py).
    await handoff_requests.announce(get_redis(), tracker.sender_id, packet)
    dispatcher.utter_message(response=REPLIES[reason], case_ref=case.ref)
    dispatcher.utter_message(json_message={"handoff": payload})
    return [SlotSet("case_ref", case.ref), ActiveLoop(None), SlotSet("requested_slot", None)]


# The least the likeliest complaint type must weigh for the apology before a handoff to
# name that problem; below it (but a complaint or angry), a general apology.
NAMED_PROBLEM_AT_LEAST = 0.25


def apologise_before_handoff(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """A person asked for in a message that also complains or is angry ("THIS IS A JOKE!!!
    my order is 2 weeks late, cho gặp quản lý"): sorry first, in proportion, for the
    problem it tells, or in general terms; a plain request gets no apology."""
    from actions.severity import anger_signs, assess
    from actions.triage import read

    said = tracker.latest_message.get("text") or ""
    reading = read(tracker.latest_message)
    book = shop_playbook()
    if reading.types and reading.types[0][1] >= NAMED_PROBLEM_AT_LEAST:
        kind = reading.types[0][0]
        rules = book.complaints.get(kind)
        if rules is not None and rules.sorry_that is not None:
            level = assess(kind, rules.severity, said).level
            dispatcher.utter_message(
                response=f"utter_apology_{level}", problem=pick(rules.sorry_that, language(tracker))
            )
            return
    if anger_signs(said) or reading.is_complaint(book.understanding):
        dispatcher.utter_message(response="utter_sorry_general")


class ActionHandoff(PlaybookAction):
    """A person was asked for (on its own, or inside a complaint just acknowledged:
    complaint_check "person"), or the alternatives were declined."""

    def name(self) -> Text:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        requested = tracker.latest_message.get("intent", {}).get("name") == "request_human"
        asked = requested or tracker.get_slot("complaint_check") == "person"
        if requested and not tracker.get_slot("case_ref"):
            apologise_before_handoff(dispatcher, tracker)
        events = await hand_off(dispatcher, tracker, "customer_asked" if asked else "alternatives_declined")
        return events + [SlotSet("complaint_check", None)]


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
        customer = await load_customer(tracker)
        case = await update_case(tracker, customer, status=AGENT_HANDLED, agent=agent, agent_note=note)
        # Without the agent's name: "our team", never a stand-in name in the sentence.
        if note:
            response = "utter_handback_recap" if agent else "utter_handback_recap_unnamed"
        else:
            response = "utter_handback_no_note" if agent else "utter_handback_no_note_unnamed"
        dispatcher.utter_message(response=response, agent=agent, note=note, case_ref=case.ref)
        dispatcher.utter_message(response="utter_thanks_close")
        dispatcher.utter_message(response="utter_ask_csat")
        return [SlotSet("case_ref", case.ref), SlotSet("csat_asked", True)]
