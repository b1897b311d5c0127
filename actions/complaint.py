"""The complaint's steps: acknowledge it, resolve it, and the turns around them.

1. action_acknowledge_complaint: classify (when two complaint types are close, ask
   once which it is: actions/triage.py), recall what we know, assess severity,
   apologise in proportion, open a case.
2. (complaint_details_form collects only what is still missing.)
3. action_resolve_complaint (actions/complaint_resolve.py): look the order up;
   critical cases go to a person; otherwise offer the playbook's best one or two remedies (actions/remedies.py). A
   delivery complaint about an order marked delivered is a lost parcel: the bot says it
   can see the delivered status and that the team will have the carrier trace it (a
   task for the team: actions/fulfilment.py trace_parcel) before offering.
   With the order backend unavailable, the customer hears so once, the bot offers what
   needs no order, and with nothing to offer a person takes over (orders_unavailable).
4. action_ask_what_happened (actions/complaint_turns.py): a complaint that does not say
   what went wrong yet.
5. action_note_detail (actions/complaint_turns.py): a detail given outside any question.
The customer's answer to an offer, and closing the case, are actions/remedies.py's.

Read with the complaint (actions/asides.py): a person asked for inside it ("... cho gặp
quản lý") is honoured at once, after the apology (complaint_check "person": the handoff
comes next); "no, it's not late, it arrived broken" corrects the complaint in hand (its
type, apology and remedies change, every detail stays); a question about how things are
done, asked as a complaint type with no complaint in hand ("how long does a refund
take?"), is answered from the help pages (complaint_check "aside"); "are you a bot?" in
the same message gets its answer first; a cancellation because of a wait is sorry for the
wait.
"""

import time
from typing import List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import asides, page_answers, readings
from actions.base import PlaybookAction
from actions.cases import update_case
from actions.complaint_turns import ActionNoteDetail
from actions.customer import (
    ORDERS_UNAVAILABLE,
    earlier_contacts,
    load_customer,
    order_named,
    recalled_details,
    same_problem,
    usable_order,
)
from actions.orders import OrdersUnavailable
from actions.playbook import shop_playbook
from actions.replies import describe_details, text
from actions.reporting import report_complaint
from actions.severity import Assessment, assess
from actions.store import get_redis
from actions.tracker import (
    ANSWERED_ASIDE,
    ASKED,
    apologised,
    channel_of,
    complaint_words,
    language,
    latest_intent,
    offer_awaits_answer,
    this_complaint_texts,
)
from actions.triage import ask_which, names_a_choice, read
from contract import memory
from contract.case import Case

ANSWER_IS_A_REMEDY = "remedy"  # complaint_check: a message read as a complaint names a remedy
PERSON_ASKED = "person"  # complaint_check: the complaint asked for a person too (the handoff is next)


# --- 1. acknowledge -------------------------------------------------------------------------


class ActionAcknowledgeComplaint(PlaybookAction):
    def name(self) -> Text:
        return "action_acknowledge_complaint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        # The complaint a handoff taken back told, or one told beside "are you a bot?".
        told = {"cancel_handoff": asides.asked_complaint, "ask_bot": asides.told_complaint}.get(
            str(latest_intent(tracker)), lambda _: None
        )(tracker)
        if told is None:
            instead = await self._not_a_new_complaint(dispatcher, tracker, domain)
            if instead is not None:
                return instead
        lang = language(tracker)
        intent = str(told["intent"] if told else latest_intent(tracker))
        said = told["text"] if told else complaint_words(tracker)
        person = told is None and readings.asks_for_person(tracker.latest_message.get("text") or "")
        if told is None and readings.asks_if_bot(tracker.latest_message.get("text") or ""):
            dispatcher.utter_message(response="utter_i_am_a_bot_short")
        customer = await load_customer(tracker)
        earlier = earlier_contacts(tracker, customer)
        recalled = recalled_details(tracker, customer, open_cases=customer.open_cases(tracker.sender_id))
        order_id = recalled.get("order_id") or tracker.get_slot("order_id")
        try:
            order = usable_order(tracker, customer, await order_named(order_id))
        except OrdersUnavailable:
            order = None  # assessed without its value; the form or the resolution says so
        severity = assess(
            intent,
            shop_playbook().complaints[intent].severity,
            said,
            tier=customer.tier,
            repeat_on_record=any(same_problem(case, intent, order_id) for case in earlier),
            order_value=order.value if order else None,
        )
        if not (told is not None and latest_intent(tracker) == "cancel_handoff" and apologised(tracker)):
            # (A request for a person taken back: already sorry with the handoff, not twice.)
            self._apologise(dispatcher, intent, severity, lang, said)
        if recalled:
            dispatcher.utter_message(response="utter_known_details", details=describe_details(recalled, lang))
        last = max((c.created_at for c in earlier), default=0)
        await report_complaint(
            tracker,
            type=intent,
            channel=channel_of(tracker),
            language=lang,
            since_last=round(time.time() - last) if last else None,
        )
        case = Case.new(tracker.sender_id, intent, language=lang, severity=severity.as_severity())
        case = await memory.save_case(get_redis(), customer.customer_id, case)
        events = [SlotSet(name, value) for name, value in recalled.items()] + self._new_complaint(
            intent, severity, case
        )
        # A person asked for inside the complaint: honoured at once, next (data/rules).
        return events + ([SlotSet("complaint_check", PERSON_ASKED)] if person else [])

    @staticmethod
    async def _not_a_new_complaint(
        dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Optional[List[EventType]]:
        """The events when this message is not (yet) a complaint to acknowledge: a remedy
        named in answer to an offer, a wish instead of "which of these?", or two types too
        close to tell (asked once; the answer carries on here). None: acknowledge it."""
        intent = str(latest_intent(tracker))
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
        said = tracker.latest_message.get("text") or ""
        in_progress = complaint_in_progress(tracker)
        if (
            intent.startswith("complain_")
            and in_progress
            and intent != tracker.get_slot("complaint_type")
            and readings.corrects(said)
        ):
            # "no, it's not late, it arrived broken": the same case, another problem.
            return await correct_complaint(dispatcher, tracker, intent)
        if intent.startswith("complain_") and await page_answers.answer_general_question(dispatcher, tracker):
            # "how long does a refund take?": the help pages answer, never a new complaint.
            # With none in hand, "if something has gone wrong, tell me" (unless a case was
            # just put right); in the middle of one, action_aside asks again what was open
            # (the offer), data/rules/asides.yml.
            if not in_progress and not tracker.get_slot("applied_remedy"):
                dispatcher.utter_message(response="utter_knowledge_more")
            return [SlotSet("complaint_check", ANSWERED_ASIDE)]
        reading = read(tracker.latest_message)
        if (
            intent.startswith("complain_")
            and tracker.get_slot("complaint_check") != ASKED
            and reading.unsure_which(shop_playbook().understanding)
            and not readings.asks_for_person(said)  # asked for a person: honoured, never "which of these?"
        ):
            return ask_which(dispatcher, reading.top_two(), language(tracker))
        return None

    @staticmethod
    def _apologise(
        dispatcher: CollectingDispatcher, intent: str, severity: Assessment, lang: str, said: str = ""
    ) -> None:
        """Sorry, in proportion (and "again" to a repeat contact); a cancellation is no
        complaint to apologise for, unless it is because of a wait."""
        rules = shop_playbook().complaints[intent]
        if rules.apologise_for is None:
            if readings.mentions_wait(said):
                dispatcher.utter_message(response="utter_sorry_wait")
            dispatcher.utter_message(response="utter_cancel_intro")
            return
        dispatcher.utter_message(
            response=f"utter_apology_{severity.level}", problem=text(rules.sorry_that, lang)
        )
        if "repeat_contact" in severity.reasons and severity.level != "critical":
            dispatcher.utter_message(response="utter_repeat_contact")

    @staticmethod
    def _new_complaint(intent: str, severity: Assessment, case: Case) -> List[EventType]:
        """The slots of a complaint just acknowledged: what was left of the last one is cleared."""
        return [
            SlotSet("complaint_type", intent),
            SlotSet("severity", severity.level),
            SlotSet("severity_reasons", severity.reasons),
            SlotSet("repeat_contact", "repeat_contact" in severity.reasons),
            SlotSet("case_ref", case.ref),
            SlotSet("offered_remedies", []),
            SlotSet("remedy_answers", []),
            SlotSet("applied_remedy", None),
            SlotSet("detail_attempts", 0),
            SlotSet("order_contact", None),  # a new complaint: its order is checked afresh
            SlotSet("complaint_check", None),  # answered (or never needed)
            SlotSet("item_check", None),
            SlotSet(ORDERS_UNAVAILABLE, None),  # a new complaint: told again if still so
        ]


def complaint_in_progress(tracker: Tracker) -> bool:
    """A complaint acknowledged in this conversation and not settled yet (nothing carried
    out): what a correction corrects."""
    return bool(
        tracker.get_slot("complaint_type")
        and tracker.get_slot("case_ref")
        and not tracker.get_slot("applied_remedy")
    )


async def correct_complaint(
    dispatcher: CollectingDispatcher, tracker: Tracker, intent: str
) -> List[EventType]:
    """The complaint in hand is another type: "sorry, I got that wrong", the apology for
    the problem it really is, the same case with that type, and every detail kept (the
    order, its proof, the email and phone): only what was offered for the wrong problem
    goes. The rules then carry on as after any acknowledgement (the details form asks
    only for what the new type needs and nobody gave)."""
    lang = language(tracker)
    customer = await load_customer(tracker)
    said = tracker.latest_message.get("text") or ""
    order_id = tracker.get_slot("order_id")
    try:
        order = usable_order(tracker, customer, await order_named(order_id))
    except OrdersUnavailable:
        order = None
    severity = assess(
        intent,
        shop_playbook().complaints[intent].severity,
        " ".join(this_complaint_texts(tracker)) or said,
        tier=customer.tier,
        repeat_on_record=bool(tracker.get_slot("repeat_contact")),
        order_value=order.value if order else None,
    )
    dispatcher.utter_message(response="utter_correction")
    ActionAcknowledgeComplaint._apologise(dispatcher, intent, severity, lang, said)
    case = await update_case(
        tracker, customer, complaint_type=intent, severity=severity.as_severity(), offered=[], answers=[]
    )
    return [
        SlotSet("complaint_type", intent),
        SlotSet("severity", severity.level),
        SlotSet("severity_reasons", severity.reasons),
        SlotSet("case_ref", case.ref),
        SlotSet("offered_remedies", []),
        SlotSet("remedy_answers", []),
        SlotSet("complaint_check", None),
        SlotSet("item_check", None),
    ]
