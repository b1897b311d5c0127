"""Complaint or not, and which one: read from the NLU's intent ranking.

Complaint-vs-not is the first decision: P(complaint) is the sum of the `complain_*`
confidences in the ranking, so a message split between two complaint types (or one the
FallbackClassifier gave up on) is still recognised as a complaint. When it is clearly a
complaint but the two most likely types are close, the bot asks once which it is
rather than guess (thresholds: the playbook's `understanding`).

The same care for the order: an item the customer names that the order does not
contain gets one gentle check (`named_items`, `on_the_order`).
"""

from dataclasses import dataclass
import re
from typing import Any, Dict, List, Tuple

from rasa_sdk.events import SlotSet

from actions.playbook import Understanding, shop_playbook
from actions.replies import label, text
from actions.severity import anger_signs
from actions.tracker import ASKED, COMPLAINT_PREFIX
from contract.intents import GENERAL_COMPLAINT, REFUSED_REMEDIES
from contract.text import fold


@dataclass
class Reading:
    complaint: float  # P(complaint)
    types: List[Tuple[str, float]]  # complaint types in the ranking, most likely first

    def is_complaint(self, knobs: Understanding) -> bool:
        return self.complaint >= knobs.complaint_at_least

    def unsure_which(self, knobs: Understanding) -> bool:
        """Clearly a complaint, but the second type is nearly as likely as the first."""
        if not self.is_complaint(knobs) or len(self.types) < 2:
            return False
        (_, first), (_, second) = self.types[:2]
        return second >= knobs.close_ratio * first

    def top_two(self) -> List[str]:
        return [name for name, _ in self.types[:2]]


def read(parse_data: Dict[str, Any]) -> Reading:
    ranking = parse_data.get("intent_ranking") or []
    if not ranking and parse_data.get("intent"):
        ranking = [parse_data["intent"]]
    complaints = [
        (r["name"], float(r.get("confidence") or 0))
        for r in ranking
        if str(r.get("name", "")).startswith(COMPLAINT_PREFIX)
    ]
    # A general complaint counts towards P(complaint) but is no type to ask about.
    types = sorted(((n, c) for n, c in complaints if n != GENERAL_COMPLAINT), key=lambda pair: -pair[1])
    return Reading(complaint=sum(c for _, c in complaints), types=types)


# A remedy word sent while an offer awaits its answer ("hoan tien" after "shall I have a
# colleague call you?") reads as a new complaint of that type (a short question about a
# refund is complain_refund) and as a choice; at least this much for the choice, and
# the bot takes it as the answer to the offer, not as a new complaint.
CHOICE_AT_LEAST = 0.1
CHOICE_INTENT = "choose_remedy"


def names_a_choice(parse_data: Dict[str, Any]) -> bool:
    """Whether a message read as a complaint could be naming a remedy it wants: a remedy
    word not refused ("no, not a refund"), and a choice nearly as plausible a reading."""
    refused = set(parse_data.get(REFUSED_REMEDIES) or [])
    wanted = [
        e
        for e in parse_data.get("entities") or []
        if e.get("entity") == "remedy" and e.get("value") not in refused
    ]
    choice = next(
        (
            float(r.get("confidence") or 0)
            for r in parse_data.get("intent_ranking") or []
            if r.get("name") == CHOICE_INTENT
        ),
        0.0,
    )
    return bool(wanted) and choice >= CHOICE_AT_LEAST


# Intents the bot does not take at their word when the message reads as a complaint:
# the classifier gave up (nlu_fallback), or put it outside the shop (out_of_scope) while
# the complaint types together outweigh that.
TRIAGED = ("nlu_fallback", "out_of_scope")


def which_to_ask(parse_data: Dict[str, Any], knobs: Understanding) -> List[str]:
    """For a message the classifier gave up on or put out of scope: the two complaint
    types to ask about when it is clearly a complaint, or when the classifier gave up on
    an angry customer (never "please rephrase" to them); else [] (the bot answers as the
    intent says: "do you sell shoes???" stays out of scope). The bot (actions/fallbacks.py)
    and the NLU report (benchmarks/nlu_quality.py, "as the bot acts") both decide with
    this: either way a complaint of no intent yet (an angry message that is not clearly a
    complaint gets "what happened?" rather than the two guesses as buttons)."""
    reading = read(parse_data)
    gave_up = (parse_data.get("intent") or {}).get("name") == "nlu_fallback"
    angry = gave_up and bool(anger_signs(parse_data.get("text") or ""))
    if (reading.is_complaint(knobs) or angry) and len(reading.types) >= 2:
        return reading.top_two()
    return []


def ask_which(
    dispatcher, types: List[str], lang: str, response: str = "utter_which_complaint"
) -> List[Dict[str, Any]]:
    """Apologise in general terms and ask once: the two types as buttons, and
    "something else". Returns the events that mark the question as asked (and keep
    its types, so a reply that doesn't answer it gets the same buttons again)."""
    complaints = shop_playbook().complaints
    buttons = [
        {"title": text(complaints[name].label, lang), "payload": f"/{name}"}
        for name in types
        if complaints.get(name) and complaints[name].label
    ]
    buttons.append({"title": label("something_else", lang), "payload": "/deny"})
    dispatcher.utter_message(response=response, buttons=buttons)
    return [SlotSet("complaint_check", ASKED), SlotSet("complaint_choices", list(types))]


def named_items(texts: List[str], words: Dict[str, List[str]]) -> List[str]:
    """The shop's item words the customer used, as they typed them (marks or not)."""
    found: List[str] = []
    for said in texts:
        # Fold character by character so a match maps back onto what was typed.
        folded = "".join(fold(ch)[:1] or " " for ch in said)
        for word in (w for listed in words.values() for w in listed):
            match = re.search(rf"(?<!\w){re.escape(fold(word))}(?!\w)", folded)
            typed = said[match.start() : match.end()] if match else ""
            if typed and fold(typed) not in (fold(f) for f in found):
                found.append(typed)
    return found


def on_the_order(named: str, items: Dict[str, str]) -> bool:
    """Whether an item word the customer used is on the order (either language; a plural
    matches its singular: "glasses" is on "glass tumbler set")."""
    word = fold(named)
    stems = {word, re.sub(r"(es|s)$", "", word) if len(word) > 4 else word}
    listed = " ".join(fold(text) for text in items.values())
    return any(re.search(rf"(?<!\w){re.escape(stem)}", listed) for stem in stems if stem)
