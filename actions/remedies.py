"""Remedies: the first offer, the alternatives when the customer says no (never a bare
no), and carrying out the one they take.

What the customer's answer means is read here: the remedy they ask for (`wanted_remedy`),
those they name only to refuse ("no, not a refund": `refused_remedies`), and which one
remedy a word stands for (`meant`). Once one is accepted it is carried out (by the
order backend, or as a task for the team: actions/fulfilment.py) and the customer is
told what is true: "Done: ..." only when it is done, else what the team will do and that
we'll message them; then the case reference, thanks, and one CSAT question.
"""

import time
from typing import Callable, Collection, Dict, List, Optional, Sequence, Text, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import PlaybookAction
from actions.cases import update_case
from actions.customer import CustomerMemory, load_customer
from actions.fulfilment import fulfil
from actions.handoff import hand_off
from actions.orders import Order
from actions.playbook import Remedy, shop_playbook
from actions.replies import join_options, offer_buttons, text
from actions.reporting import report, report_answers
from actions.tracker import channel_of, conversation_started_at, language, order_in_hand
from contract.case import REMEDY_IN_PROGRESS
from contract.intents import DECLINES_OFFER, REFUSED_REMEDIES
from contract.text import fold, words

MAX_OFFERS = 2  # one or two concrete options at a time
CANCEL = "cancel"  # the remedy that cancels the order in hand (carried out on the order store)

# --- what the customer's answer means ---------------------------------------------------


def refused_remedies(tracker: Tracker) -> List[Remedy]:
    """The remedies the last message names only to refuse ("no, not a refund")."""
    families = tracker.latest_message.get(REFUSED_REMEDIES) or []
    return [r for family in families for r in shop_playbook().find(str(family))]


def wanted_remedy(tracker: Tracker) -> Tuple[Optional[str], List[Remedy], bool]:
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
    refused = refused_remedies(tracker)
    candidates = [r for r in shop_playbook().find(wanted) if r not in refused] if wanted else []
    return wanted, candidates, declined


def meant(
    candidates: List[Remedy],
    grantable: List[Remedy],
    prefer: Callable[[Remedy], bool] = lambda remedy: False,
    said: str = "",
) -> Optional[Remedy]:
    """The one remedy a customer's word means: first those `prefer` picks, then one the
    customer's words name (`said`: "đổi hàng" is the exchange, though the NLU's word for
    it is the family it shares with a replacement), then one the bot may grant, then the
    playbook's order (the remedy the word names comes first)."""
    ranked = sorted(candidates, key=lambda r: (not prefer(r), not names(said, r), r not in grantable))
    return ranked[0] if ranked else None


def names(said: str, remedy: Remedy) -> bool:
    """Whether `said` names `remedy` itself: its id ("exchange") or its button's words in
    either language ("đổi hàng"), diacritics folded."""
    folded = f" {' '.join(words(fold(said)))} "
    named = [remedy.id.replace("_", " ")] + [
        " ".join(words(fold(label))) for label in (remedy.label.en, remedy.label.vi)
    ]
    return any(f" {name} " in folded for name in named if name)


def chosen_remedy(tracker: Tracker, grantable: List[Remedy]) -> Optional[Remedy]:
    """The remedy the customer's answer to an offer takes, if the bot may grant it.
    None: nothing to carry out (a no to one offer, or a wish beyond the bot's authority)."""
    offered = tracker.get_slot("offered_remedies") or []
    word, candidates, turned_down = wanted_remedy(tracker)
    if word and turned_down:
        # "neither, I want my money back" after the shipping refund was offered means the
        # full refund; "ko can doi, hoan tien" after the refund was offered, that refund.
        choice = meant(
            [r for r in candidates if r.id == word or r.id not in offered], grantable, lambda r: r.id == word
        )
    elif word:  # "doi hang" after an offer of the exchange means the exchange
        choice = meant(candidates, grantable, lambda r: r.id in offered)
    elif refused_remedies(tracker):
        return None  # "no, not a refund": a no to that one only, not a yes to anything
    else:  # "yes": the first option still open, i.e. from the latest offer
        declined = {a["remedy"] for a in tracker.get_slot("remedy_answers") or []}
        open_offers = [rid for rid in offered if rid not in declined]
        choice = shop_playbook().remedies.get(open_offers[0]) if open_offers else None
    return choice if choice in grantable else None


def record_answers(
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


# --- what may be offered ------------------------------------------------------------------


def grantable_remedies(tracker: Tracker, customer: CustomerMemory) -> List[Remedy]:
    """The playbook's remedies for this complaint, order and customer that the bot may
    grant itself (within their approval limits), best first."""
    order = order_in_hand(tracker)
    value = order.value if order else None
    eligible = shop_playbook().eligible(
        tracker.get_slot("complaint_type") or "complain_delivery",
        order.status if order else None,
        value,
        customer.tier,
        bool(tracker.get_slot("repeat_contact")),
    )
    # A voucher or wallet credit needs an account the bot knows is theirs, and that, or
    # cancelling the order, a proof younger than the idle time (or the shop's signature).
    return [
        r
        for r in eligible
        if (customer.fresh or not (r.to_account or r.id == CANCEL)) and r.within_limit(value)
    ]


def _offer(dispatcher: CollectingDispatcher, tracker: Tracker, remedies: List[Remedy], response: str) -> None:
    lang = language(tracker)
    dispatcher.utter_message(
        response=response,
        buttons=offer_buttons(remedies, lang),
        options=join_options([text(r.offer, lang) for r in remedies], lang),
    )


async def offer_first(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    customer: CustomerMemory,
    order: Optional[Order],
    **case_changes: object,
) -> List[EventType]:
    """The first offer of a complaint: the playbook's best one or two remedies, one the
    customer asked for before telling the problem ("I want a refund") first. With none,
    a person takes over."""
    grantable = grantable_remedies(tracker, customer)
    asked_for = tracker.get_slot("wanted_remedy")
    first = meant(shop_playbook().find(asked_for), grantable) if asked_for else None
    if first in grantable:
        grantable = [first] + [r for r in grantable if r is not first]
    offers = grantable[:MAX_OFFERS]
    if not offers:  # a guest who could not prove the order gets no voucher either
        why = "no_remedy" if customer.verified else "order_not_proved"
        return await hand_off(dispatcher, tracker, why, customer)
    _offer(dispatcher, tracker, offers, "utter_offer_one" if len(offers) == 1 else "utter_offer_remedies")
    offered = [r.id for r in offers]
    for rid in offered:
        await report(tracker, "remedy", remedy=rid, outcome="offered")
    order_id = order.order_id if order else None
    await update_case(tracker, customer, order_id=order_id, offered=offered, **case_changes)
    return [SlotSet("offered_remedies", offered)]


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
    book = shop_playbook()
    grantable = grantable_remedies(tracker, customer)
    offered = list(tracker.get_slot("offered_remedies") or [])
    refused_ids = {r.id for r in refused}
    answers = record_answers(tracker, "declined", only=[rid for rid in offered if rid in refused_ids] or None)
    await report_answers(tracker, answers)
    result: List[EventType] = [SlotSet("remedy_answers", answers)]
    tracker.slots["remedy_answers"] = answers

    if wanted and wanted not in grantable:
        # What they asked for is beyond the bot's authority: say so plainly, note it.
        dispatcher.utter_message(
            response="utter_needs_colleague", wanted=text(wanted.label, language(tracker))
        )
        answers.append({"remedy": wanted.id, "answer": "requested; needs approval"})
        # The owner's report counts these: a limit customers keep hitting may be too low.
        await report(tracker, "remedy", remedy=wanted.id, outcome="needs_approval")
    wanted_ok = [wanted] if wanted and wanted in grantable else []
    answered = {a["remedy"] for a in answers}
    still_open = [
        r
        for r in (book.remedies[rid] for rid in offered if rid not in answered)
        if r in grantable and r not in wanted_ok
    ]
    fresh = [r for r in grantable if r.id not in offered and r.id not in refused_ids and r not in wanted_ok]
    alternatives = (wanted_ok + still_open + fresh)[:MAX_OFFERS]
    if not alternatives:
        return result + await hand_off(dispatcher, tracker, "alternatives_declined", customer)
    # One option left is a yes-or-no question, never "which would you prefer?".
    response = "utter_alternatives" if len(alternatives) > 1 else "utter_alternative_single"
    _offer(dispatcher, tracker, alternatives, response)
    for remedy in alternatives:
        if remedy.id not in offered:
            await report(tracker, "remedy", remedy=remedy.id, outcome="offered")
    offered += [r.id for r in alternatives if r.id not in offered]
    return result + [SlotSet("offered_remedies", offered)]


# --- the actions --------------------------------------------------------------------------


class ActionOfferAlternatives(PlaybookAction):
    def name(self) -> Text:
        return "action_offer_alternatives"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        customer = await load_customer(tracker)
        grantable = grantable_remedies(tracker, customer)
        offered = tracker.get_slot("offered_remedies") or []
        # "Neither, I want my money back": what they decline is not what they mean.
        _, candidates, _ = wanted_remedy(tracker)
        said = tracker.latest_message.get("text") or ""
        wanted = meant([r for r in candidates if r.id not in offered], grantable, said=said)
        return await offer_alternatives(
            dispatcher, tracker, wanted, customer, refused=refused_remedies(tracker)
        )


class ActionApplyRemedy(PlaybookAction):
    def name(self) -> Text:
        return "action_apply_remedy"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        answered = SlotSet("complaint_check", None)
        customer = await load_customer(tracker)
        choice = chosen_remedy(tracker, grantable_remedies(tracker, customer))
        if choice is None:
            # Nothing to carry out: the offer of what is left is the alternatives' turn, so
            # the customer's next "yes" or "no" answers that offer (data/rules).
            return [answered, FollowupAction(ActionOfferAlternatives().name())]
        return [answered] + await self.carry_out(dispatcher, tracker, customer, choice)

    @staticmethod
    async def carry_out(
        dispatcher: CollectingDispatcher, tracker: Tracker, customer: CustomerMemory, choice: Remedy
    ) -> List[EventType]:
        """Record it, carry it out (or make it the team's task), then close: what is true
        now, the case reference, thanks, and one CSAT question."""
        lang = language(tracker)
        order = order_in_hand(tracker)
        answers = record_answers(tracker, "declined", except_id=choice.id)
        answers.append({"remedy": choice.id, "answer": "accepted"})
        await report_answers(tracker, answers)
        started = conversation_started_at(tracker)
        duration = round(time.time() - started, 1) if started else 0
        await report(
            tracker, "resolved", by="bot", channel=channel_of(tracker), language=lang, duration=duration
        )
        case = await update_case(
            tracker,
            customer,
            status=REMEDY_IN_PROGRESS,
            applied_remedy=choice.id,
            answers=answers,
            order_id=order.order_id if order else None,
        )
        carried = await fulfil(tracker, customer, choice, order, case)
        if carried.done:
            dispatcher.utter_message(
                response="utter_remedy_done", done=text(choice.done, lang), case_ref=case.ref
            )
        else:
            dispatcher.utter_message(
                response="utter_remedy_promised", promise=text(choice.promise, lang), case_ref=case.ref
            )
        dispatcher.utter_message(response="utter_thanks_close")
        dispatcher.utter_message(response="utter_ask_csat")
        return [
            SlotSet("csat_asked", True),
            SlotSet("applied_remedy", choice.id),
            SlotSet("remedy_answers", answers),
            SlotSet("case_ref", case.ref),
        ]
