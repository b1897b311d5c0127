"""The recovery flow: acknowledge, resolve with a remedy, offer alternatives, close.

1. action_acknowledge_complaint: classify (when two complaint types are close, ask
   once which it is: actions/triage.py), recall what we know, assess severity,
   apologise in proportion, open a case.
2. (complaint_details_form collects only what is still missing.)
3. action_resolve_complaint: look the order up; critical cases go to a person;
   otherwise offer the playbook's best one or two remedies. A delivery complaint
   about an order marked delivered is a lost parcel: the bot says it can see the
   delivered status and opens a trace with the carrier before offering.
4. action_offer_alternatives: the customer said no (or wants something we cannot
   grant ourselves): offer one or two other concrete options, never a bare no.
5. action_apply_remedy: carry out the chosen remedy, then close: what was done,
   the case reference, thanks, one CSAT question.
"""

import time
from typing import Any, Callable, Collection, Dict, List, Optional, Sequence, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import memory
from actions.common import (
    PLAYBOOK,
    CustomerMemory,
    channel_of,
    describe_details,
    join_options,
    known,
    language,
    latest_entity,
    load_customer,
    person_button,
    recalled_details,
    text,
    usable_order,
)
from actions.handoff import hand_off
from actions.orders import Order, order_store
from actions.playbook import Remedy
from actions.severity import assess
from actions.store import get_redis
from actions.triage import ASKED, ask_which, named_items, names_a_choice, on_the_order, read
from contract import events as report_events
from contract.intents import DECLINES_OFFER, REFUSED_REMEDIES

MAX_OFFERS = 2  # one or two concrete options at a time
ANSWER_IS_A_REMEDY = "remedy"  # complaint_check: a message read as a complaint names a remedy
# A complaint of this type about an order marked delivered: the parcel is lost.
LOST_PARCEL_COMPLAINT = "complain_delivery"


async def _case(tracker: Tracker) -> Dict[str, Any]:
    return await memory.load_case(get_redis(), tracker.get_slot("case_ref") or "") or {
        "conversation_id": tracker.sender_id,
        "complaint_type": tracker.get_slot("complaint_type"),
        "status": "open",
    }


async def _save_case(tracker: Tracker, customer: CustomerMemory, **changes) -> Dict:
    case = await _case(tracker)
    case.update(changes)
    return await memory.save_case(get_redis(), customer.customer_id, case)


def _order(tracker: Tracker) -> Optional[Order]:
    data = tracker.get_slot("order")
    return Order(**data) if data else None


def _offer_buttons(remedies: List[Remedy], lang: str) -> List[Dict[str, str]]:
    buttons = [
        {"title": text(r.label, lang), "payload": '/choose_remedy{"remedy": "%s"}' % r.id} for r in remedies
    ]
    return buttons + [person_button(lang)]


def _record_answers(
    tracker: Tracker, answer: str, except_id: str = "", only: Optional[Collection[str]] = None
) -> List[Dict[str, str]]:
    """The remedy answers so far, plus `answer` for each offer not answered yet (or for
    those in `only`)."""
    answers = list(tracker.get_slot("remedy_answers") or [])
    answered = {a["remedy"] for a in answers}
    for rid in tracker.get_slot("offered_remedies") or []:
        if rid not in answered and rid != except_id and (only is None or rid in only):
            answers.append({"remedy": rid, "answer": answer})
    return answers


async def _report(tracker: Tracker, kind: str, **data: Any) -> None:
    """A recovery-report event (contract/events.py) for this conversation."""
    await report_events.record(
        get_redis(),
        kind,
        tracker.sender_id,
        complaint_type=tracker.get_slot("complaint_type") or "unknown",
        **data,
    )


async def _report_answers(tracker: Tracker, answers: List[Dict[str, str]]) -> None:
    """Remedy answers not reported yet (the slot holds the ones already given)."""
    before = {(a["remedy"], a["answer"]) for a in tracker.get_slot("remedy_answers") or []}
    for answer in answers:
        if (
            answer["answer"] in ("accepted", "declined")
            and (answer["remedy"], answer["answer"]) not in before
        ):
            await _report(tracker, "remedy", remedy=answer["remedy"], outcome=answer["answer"])


def complaint_words(tracker: Tracker) -> str:
    """What the customer said about the complaint. After "which of these?", the answer
    is often a button, so the message the question was about counts too (for tone)."""
    latest = tracker.latest_message.get("text") or ""
    if tracker.get_slot("complaint_check") != ASKED:
        return latest
    said = [
        e.get("text") or ""
        for e in tracker.events
        if e.get("event") == "user"
        and ((e.get("parse_data") or {}).get("intent") or {}).get("name") != "inform"  # a detail
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
    return [
        e.get("text") or ""
        for e in tracker.events[start:]
        if e.get("event") == "user" and not (e.get("text") or "").startswith("/")
    ]


def item_mismatch(tracker: Tracker, order: Order) -> List[str]:
    """Items the customer named that the order does not contain (none named: [])."""
    named = named_items(this_complaint_texts(tracker), PLAYBOOK.understanding.item_words)
    if not named or any(on_the_order(word, order.items) for word in named):
        return []
    return named


def earlier_contacts(tracker: Tracker, customer: CustomerMemory) -> List[Dict]:
    """Cases from earlier contacts: a verified customer's, or this channel identity's own
    (a guest's), from another conversation or an earlier session of this one."""
    started = next(
        (e.get("timestamp") or 0 for e in reversed(tracker.events) if e.get("event") == "session_started"), 0
    )
    return [
        c
        for c in customer.cases
        if c.get("conversation_id") != tracker.sender_id or c.get("created_at", 0) < started
    ]


# What the bot last did when it offered remedies and awaits the answer.
OFFERING_ACTIONS = ("action_resolve_complaint", "action_offer_alternatives")


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
            return event.get("name") in OFFERING_ACTIONS
    return False


def same_problem(case: Dict, complaint_type: str, order_id: Any) -> bool:
    """Whether an earlier case was about this problem: the same complaint type, or the
    same order. Only then is this a repeat contact ("sorry you've had to come back to us
    about it again", and the remedies kept for repeat contacts); a verified customer's
    earlier case about something else is not."""
    if case.get("complaint_type") == complaint_type:
        return True
    return known(order_id) and str(case.get("order_id") or "") == str(order_id)


class ActionAcknowledgeComplaint(Action):
    def name(self) -> Text:
        return "action_acknowledge_complaint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        lang = language(tracker)
        intent = tracker.latest_message["intent"]["name"]
        wish = names_a_choice(tracker.latest_message)
        if intent.startswith("complain_") and wish and offer_awaits_answer(tracker):
            # "hoan tien" in answer to an offer is a wish, not a new complaint about a
            # refund: action_apply_remedy takes it (data/rules: complaint_check remedy).
            return [SlotSet("complaint_check", ANSWER_IS_A_REMEDY)]
        choices = tracker.get_slot("complaint_choices") or []
        if wish and tracker.get_slot("complaint_check") == ASKED and intent not in choices:
            # "what about a refund?" instead of answering "which of these?": kept, to be
            # offered first, and the same question again.
            return await ActionNoteDetail().run(dispatcher, tracker, domain)
        rules = PLAYBOOK.complaints[intent]
        reading = read(tracker.latest_message)
        if (
            intent.startswith("complain_")
            and tracker.get_slot("complaint_check") != ASKED
            and reading.unsure_which(PLAYBOOK.understanding)
        ):
            return ask_which(dispatcher, reading.top_two(), lang)  # once; the answer carries on here
        customer = await load_customer(tracker)
        earlier = earlier_contacts(tracker, customer)
        recalled = recalled_details(tracker, customer, open_cases=customer.open_cases(tracker.sender_id))
        order_id = recalled.get("order_id") or tracker.get_slot("order_id")
        order = usable_order(
            tracker, customer, await order_store().get_order(order_id) if known(order_id) else None
        )
        severity = assess(
            intent,
            rules.severity,
            complaint_words(tracker),
            tier=customer.tier,
            repeat_on_record=any(same_problem(case, intent, order_id) for case in earlier),
            order_value=order.value if order else None,
        )
        if rules.apologise_for is None:
            dispatcher.utter_message(response="utter_cancel_intro")
        else:
            dispatcher.utter_message(
                response=f"utter_apology_{severity.level}", problem=text(rules.sorry_that, lang)
            )
            if "repeat contact" in severity.reasons and severity.level != "critical":
                dispatcher.utter_message(response="utter_repeat_contact")
        if recalled:
            dispatcher.utter_message(response="utter_known_details", details=describe_details(recalled, lang))
        last = max((c.get("created_at") or 0 for c in earlier), default=0)
        await report_events.record(
            get_redis(),
            "complaint",
            tracker.sender_id,
            type=intent,
            channel=channel_of(tracker),
            language=lang,
            since_last=round(time.time() - last) if last else None,
        )
        case = await memory.save_case(
            get_redis(),
            customer.customer_id,
            {
                "conversation_id": tracker.sender_id,
                "complaint_type": intent,
                "status": "open",
                "language": lang,
                "severity": {"level": severity.level, "reasons": severity.reasons},
            },
        )
        return [SlotSet(name, value) for name, value in recalled.items()] + [
            SlotSet("complaint_type", intent),
            SlotSet("severity", severity.level),
            SlotSet("severity_reasons", severity.reasons),
            SlotSet("repeat_contact", "repeat contact" in severity.reasons),
            SlotSet("case_ref", case["ref"]),
            SlotSet("offered_remedies", []),
            SlotSet("remedy_answers", []),
            SlotSet("applied_remedy", None),
            SlotSet("detail_attempts", 0),
            SlotSet("order_contact", None),  # a new complaint: its order is checked afresh
            SlotSet("complaint_check", None),  # answered (or never needed)
            SlotSet("item_check", None),
        ]


class ActionResolveComplaint(Action):
    def name(self) -> Text:
        return "action_resolve_complaint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        lang = language(tracker)
        customer = await load_customer(tracker)
        # item_check is "asked" only while the check awaits its answer (the rules read it);
        # that the check was made is kept on the case, so it is made once per complaint.
        answering = tracker.get_slot("item_check") == ASKED
        checked: List[EventType] = [SlotSet("item_check", None)]
        if answering and tracker.latest_message.get("intent", {}).get("name") == "deny":
            # Another order: forget this one; the details form asks for the right one.
            return (
                checked
                + [SlotSet(name, None) for name in ("order_id", "order", "order_contact")]
                + [SlotSet("detail_attempts", 0)]
            )
        order_id = tracker.get_slot("order_id")
        # Only an order this customer may see drives what is said and offered.
        order = usable_order(
            tracker, customer, await order_store().get_order(order_id) if known(order_id) else None
        )
        events: List[EventType] = checked + [SlotSet("order", order.as_dict() if order else None)]
        # hand_off below reads the order from the tracker: let it see this look-up.
        tracker.slots["order"] = order.as_dict() if order else None

        if tracker.get_slot("severity") == "critical":
            return events + await hand_off(dispatcher, tracker, "critical_severity", customer)

        already = answering or bool((await _case(tracker)).get("item_checked"))
        mismatch = item_mismatch(tracker, order) if order and not already else []
        if order and mismatch:
            # One gentle check before anything is offered for the wrong order.
            dispatcher.utter_message(
                response="utter_item_check",
                order_id=order.order_id,
                items=text(order.items, lang),
                named=join_options(mismatch, lang, "all_of"),
                buttons=[
                    {"title": text(PLAYBOOK.labels["yes_that_one"], lang), "payload": "/affirm"},
                    {"title": text(PLAYBOOK.labels["another_order"], lang), "payload": "/deny"},
                ],
            )
            await _save_case(tracker, customer, item_checked=True)
            return events + [SlotSet("item_check", ASKED)]
        lost_parcel = bool(
            order
            and order.status == "delivered"
            and tracker.get_slot("complaint_type") == LOST_PARCEL_COMPLAINT
        )
        if order and lost_parcel:
            dispatcher.utter_message(
                response="utter_delivered_not_received",
                order_id=order.order_id,
                items=text(order.items, lang),
                carrier=order.carrier,
                last_scan=text(order.last_scan, lang),
            )
        elif order:
            dispatcher.utter_message(
                response="utter_order_found",
                order_id=order.order_id,
                items=text(order.items, lang),
                carrier=order.carrier,
                status=text(PLAYBOOK.order_status.get(order.status), lang),
                last_scan=text(order.last_scan, lang),
            )
        grantable, _, _ = await _options(tracker, customer)
        # A remedy asked for before the problem was told ("I want a refund") comes first.
        asked_for = tracker.get_slot("wanted_remedy")
        first = _meant(PLAYBOOK.find(asked_for), grantable) if asked_for else None
        if first in grantable:
            grantable = [first] + [r for r in grantable if r is not first]
        offers = grantable[:MAX_OFFERS]
        if not offers:  # a guest who could not prove the order gets no voucher either
            why = "no_remedy" if customer.verified else "order_not_proved"
            return events + await hand_off(dispatcher, tracker, why, customer)
        response = "utter_offer_one" if len(offers) == 1 else "utter_offer_remedies"
        dispatcher.utter_message(
            response=response,
            buttons=_offer_buttons(offers, lang),
            options=join_options([text(r.offer, lang) for r in offers], lang),
        )
        offered = [r.id for r in offers]
        for rid in offered:
            await _report(tracker, "remedy", remedy=rid, outcome="offered")
        trace = {"carrier_trace": order.carrier} if order and lost_parcel else {}
        await _save_case(
            tracker, customer, order_id=order.order_id if order else None, offered=offered, **trace
        )
        return events + [SlotSet("offered_remedies", offered)]


def _refused(tracker: Tracker) -> List[Remedy]:
    """The remedies the last message names only to refuse ("no, not a refund")."""
    families = tracker.latest_message.get(REFUSED_REMEDIES) or []
    return [r for family in families for r in PLAYBOOK.find(str(family))]


def _wanted(tracker: Tracker) -> Tuple[Optional[str], List[Remedy], bool]:
    """What the customer asked for in their last message: the word (a remedy id from a
    button, or a family from NLU), the playbook remedies it may mean, and whether they
    turned the offer down while asking. After a "no" the wish comes last ("I don't want a
    replacement, I want my money back"); otherwise first ("a new one, not a refund"). A
    remedy named only to refuse it is never the wish."""
    words = [str(w) for w in tracker.get_latest_entity_values("remedy")]
    for family in tracker.latest_message.get(REFUSED_REMEDIES) or []:
        if family in words:
            words.remove(family)
    declined = bool(tracker.latest_message.get(DECLINES_OFFER))
    wanted = (words[-1] if declined else words[0]) if words else None
    refused = _refused(tracker)
    candidates = [r for r in PLAYBOOK.find(wanted) if r not in refused] if wanted else []
    return wanted, candidates, declined


def _meant(
    candidates: List[Remedy],
    grantable: List[Remedy],
    prefer: Callable[[Remedy], bool] = lambda remedy: False,
) -> Optional[Remedy]:
    """The one remedy a customer's word means: first those `prefer` picks, then one the
    bot may grant, then the playbook's order (the remedy the word names comes first)."""
    ranked = sorted(candidates, key=lambda r: (not prefer(r), r not in grantable))
    return ranked[0] if ranked else None


async def _options(
    tracker: Tracker, customer: CustomerMemory
) -> Tuple[List[Remedy], List[Remedy], Optional[Order]]:
    """(eligible remedies the bot may grant, those needing approval, the order)."""
    order = _order(tracker)
    eligible = PLAYBOOK.eligible(
        tracker.get_slot("complaint_type") or "complain_delivery",
        order.status if order else None,
        order.value if order else None,
        customer.tier,
        bool(tracker.get_slot("repeat_contact")),
    )
    value = order.value if order else None
    # A voucher or wallet credit needs an account the bot knows is theirs.
    eligible = [r for r in eligible if customer.verified or not r.to_account]
    return (
        [r for r in eligible if r.within_limit(value)],
        [r for r in eligible if not r.within_limit(value)],
        order,
    )


async def offer_alternatives(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    wanted: Optional[Remedy],
    customer: CustomerMemory,
    refused: Sequence[Remedy] = (),
) -> List[EventType]:
    """Offer one or two options not tried yet, the `wanted` one first if the bot may
    grant it (if not, say so); with none left, a person takes over. A message that
    refuses one offer by name ("no, not a refund") turns down only that one: the other
    is still on the table. A bare "no" turns down all of them."""
    lang = language(tracker)
    grantable, _, _ = await _options(tracker, customer)
    offered = list(tracker.get_slot("offered_remedies") or [])
    refused_ids = {r.id for r in refused}
    answers = _record_answers(
        tracker, "declined", only=[rid for rid in offered if rid in refused_ids] or None
    )
    await _report_answers(tracker, answers)
    result: List[EventType] = [SlotSet("remedy_answers", answers)]
    tracker.slots["remedy_answers"] = answers

    if wanted and wanted not in grantable:
        # What they asked for is beyond the bot's authority: say so plainly, note it.
        dispatcher.utter_message(response="utter_needs_colleague", wanted=text(wanted.label, lang))
        answers.append({"remedy": wanted.id, "answer": "requested; needs approval"})
        # The owner's report counts these: a limit customers keep hitting may be too low.
        await _report(tracker, "remedy", remedy=wanted.id, outcome="needs_approval")
    wanted_ok = [wanted] if wanted and wanted in grantable else []
    answered = {a["remedy"] for a in answers}
    still_open = [
        r
        for r in (PLAYBOOK.remedies[rid] for rid in offered if rid not in answered)
        if r in grantable and r not in wanted_ok
    ]
    fresh = [r for r in grantable if r.id not in offered and r.id not in refused_ids and r not in wanted_ok]
    alternatives = (wanted_ok + still_open + fresh)[:MAX_OFFERS]
    if not alternatives:
        return result + await hand_off(dispatcher, tracker, "alternatives_declined", customer)
    dispatcher.utter_message(
        # One option left is a yes-or-no question, never "which would you prefer?".
        response="utter_alternatives" if len(alternatives) > 1 else "utter_alternative_single",
        buttons=_offer_buttons(alternatives, lang),
        options=join_options([text(r.offer, lang) for r in alternatives], lang),
    )
    for remedy in alternatives:
        if remedy.id not in offered:
            await _report(tracker, "remedy", remedy=remedy.id, outcome="offered")
    offered += [r.id for r in alternatives if r.id not in offered]
    return result + [SlotSet("offered_remedies", offered)]


class ActionAskWhatHappened(Action):
    """A complaint that does not say what went wrong yet ("I'd like to make a
    complaint"), or a remedy asked for first ("I want a refund"): say sorry (or yes),
    ask what happened, and keep the wanted remedy to offer first. The answer is a
    complaint like any other."""

    def name(self) -> Text:
        return "action_ask_what_happened"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        buttons = [person_button(language(tracker))]
        wanted = latest_entity(tracker, "remedy")
        if wanted:
            dispatcher.utter_message(response="utter_remedy_needs_reason", buttons=buttons)
            return [SlotSet("wanted_remedy", wanted)]
        dispatcher.utter_message(response="utter_general_complaint", buttons=buttons)
        return []


class ActionOfferAlternatives(Action):
    def name(self) -> Text:
        return "action_offer_alternatives"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        customer = await load_customer(tracker)
        grantable, _, _ = await _options(tracker, customer)
        offered = tracker.get_slot("offered_remedies") or []
        # "Neither, I want my money back": what they decline is not what they mean.
        _, candidates, _ = _wanted(tracker)
        wanted = _meant([r for r in candidates if r.id not in offered], grantable)
        return await offer_alternatives(dispatcher, tracker, wanted, customer, refused=_refused(tracker))


class ActionApplyRemedy(Action):
    def name(self) -> Text:
        return "action_apply_remedy"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        lang = language(tracker)
        answered = SlotSet("complaint_check", None)
        customer = await load_customer(tracker)
        grantable, _, order = await _options(tracker, customer)
        offered = tracker.get_slot("offered_remedies") or []
        word, candidates, turned_down = _wanted(tracker)
        if word and turned_down:
            # "neither, I want my money back" after the shipping refund was offered means the
            # full refund; "ko can doi, hoan tien" after the refund was offered, that refund.
            choice = _meant(
                [r for r in candidates if r.id == word or r.id not in offered],
                grantable,
                lambda r: r.id == word,
            )
        elif word:  # "doi hang" after an offer of the exchange means the exchange
            choice = _meant(candidates, grantable, lambda r: r.id in offered)
        elif _refused(tracker):
            # "no, not a refund": a no to that one only, not a yes to anything.
            return [answered, FollowupAction(ActionOfferAlternatives().name())]
        else:  # "yes": the first option still open, i.e. from the latest offer
            declined = {a["remedy"] for a in tracker.get_slot("remedy_answers") or []}
            open_offers = [rid for rid in offered if rid not in declined]
            choice = PLAYBOOK.remedies.get(open_offers[0]) if open_offers else None
        if choice is None or choice not in grantable:
            # Nothing to carry out: the offer of what is left is the alternatives' turn, so
            # the customer's next "yes" or "no" answers that offer (data/rules).
            return [answered, FollowupAction(ActionOfferAlternatives().name())]

        if choice.id == "cancel" and order:
            await order_store().set_status(order.order_id, "cancelled")
        answers = _record_answers(tracker, "declined", except_id=choice.id)
        answers.append({"remedy": choice.id, "answer": "accepted"})
        await _report_answers(tracker, answers)
        started = next((e.get("timestamp") for e in tracker.events if e.get("timestamp")), None)
        await _report(
            tracker,
            "resolved",
            by="bot",
            channel=channel_of(tracker),
            language=lang,
            duration=round(time.time() - started, 1) if started else 0,
        )
        case = await _save_case(
            tracker,
            customer,
            status="remedy_in_progress",
            applied_remedy=choice.id,
            answers=answers,
            order_id=order.order_id if order else None,
        )
        dispatcher.utter_message(
            response="utter_remedy_done", done=text(choice.done, lang), case_ref=case["ref"]
        )
        dispatcher.utter_message(response="utter_thanks_close")
        dispatcher.utter_message(response="utter_ask_csat")
        return [
            answered,
            SlotSet("csat_asked", True),
            SlotSet("applied_remedy", choice.id),
            SlotSet("remedy_answers", answers),
            SlotSet("case_ref", case["ref"]),
        ]


class ActionRecordCsat(Action):
    def name(self) -> Text:
        return "action_record_csat"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        if not tracker.get_slot("csat_asked"):
            # Nobody asked: not a satisfaction score for the owner's report or the case.
            dispatcher.utter_message(response="utter_rating_unasked")
            return []
        rating = latest_entity(tracker, "rating")
        if rating is None:
            digits = [c for c in tracker.latest_message.get("text") or "" if c in "12345"]
            rating = digits[0] if digits else None
        customer = await load_customer(tracker)
        if tracker.get_slot("case_ref"):
            await _save_case(
                tracker,
                customer,
                csat=int(rating) if rating else None,
                csat_text=tracker.latest_message.get("text"),
            )
        if rating is not None and 1 <= int(rating) <= 5:
            await _report(
                tracker,
                "csat",
                score=int(rating),
                channel=channel_of(tracker),
                language=language(tracker),
                remedy=tracker.get_slot("applied_remedy") or "none",
            )
        low = rating is not None and int(rating) <= 2
        dispatcher.utter_message(response="utter_csat_sorry" if low else "utter_csat_thanks")
        return [SlotSet("csat_asked", False)]  # answered: a later score is not another one


class ActionNoteDetail(Action):
    """A detail (an order number, an email, a phone) given outside any question: taken
    as part of the complaint in hand, never as the start of another conversation. Also a
    remedy asked for instead of answering "which of these?"."""

    def name(self) -> Text:
        return "action_note_detail"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        choices = tracker.get_slot("complaint_choices") or []
        if tracker.get_slot("complaint_check") == ASKED and choices:
            # A detail or a wish came instead of the answer to "which of these?": noted (a
            # detail's slot is set, a remedy is kept to offer first), and the same question
            # again, so the complaint is never asked twice.
            wanted = latest_entity(tracker, "remedy")
            if wanted:
                events = ask_which(dispatcher, choices, language(tracker), response="utter_wish_noted_which")
                return events + [SlotSet("wanted_remedy", wanted)]
            return ask_which(dispatcher, choices, language(tracker), response="utter_detail_noted_which")
        in_hand = tracker.get_slot("case_ref") and tracker.get_slot("complaint_type")
        dispatcher.utter_message(response="utter_detail_noted" if in_hand else "utter_detail_what_happened")
        return [SlotSet("complaint_check", None)]  # the rules read it
