"""A question about the shop, answered from its help pages (actions/knowledge.py), quoted
with the page's title, or "I'm not sure" and a person; every question is reported.
"""

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.knowledge import Found, knowledge, mask_spans
from actions.readings import asks_for_person, asks_if_bot, is_question, tells_a_problem
from actions.replies import person_button
from actions.reporting import record_question
from actions.severity import anger_signs
from actions.tracker import channel_of, language


def general_question(tracker: Tracker) -> bool:
    """A question about how things are done at the shop, not a problem told as a question:
    asked as a question, with no detail in it, not angry, no problem words, no person
    asked for ("how long does a refund take?", not "where is my refund??")."""
    said = tracker.latest_message.get("text") or ""
    details = [
        e
        for e in tracker.latest_message.get("entities") or []
        if e.get("entity") in ("order_id", "email", "phone")
    ]
    return (
        is_question(said)
        and not details
        and not anger_signs(said)
        and not tells_a_problem(said)
        and not asks_for_person(said)
        and not asks_if_bot(said)
    )


def find_answer(tracker: Tracker) -> Found:
    """The help pages' best section for the latest message, in the customer's language."""
    lang = language(tracker)
    said = tracker.latest_message.get("text") or ""
    masked = mask_spans(said, tracker.latest_message.get("entities") or [], lang)
    return knowledge().find(said, lang, masked)


async def answer_from_pages(
    dispatcher: CollectingDispatcher, tracker: Tracker, found: Found, say_not_sure: bool = True
) -> bool:
    """Quote the section with its page's title (True), or say the bot isn't sure and offer
    a person (`say_not_sure`; False either way). Every question is reported, answered or
    not, for the owner's report (which lists the ones without a good answer)."""
    lang = language(tracker)
    said = tracker.latest_message.get("text") or ""
    masked = mask_spans(said, tracker.latest_message.get("entities") or [], lang)
    section = found.section
    await record_question(
        tracker,
        question=masked[:300],
        answered=found.sure,
        page=section.page if section else None,
        section=section.heading if section else None,
        score=round(found.score, 3),
        language=lang,
        channel=channel_of(tracker),
    )
    if found.sure and section is not None:
        dispatcher.utter_message(response="utter_knowledge_answer", page=section.title, answer=section.text)
        return True
    if say_not_sure:
        dispatcher.utter_message(response="utter_knowledge_not_sure", buttons=[person_button(lang)])
    return False


async def answer_general_question(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
    """A question about how things are done at the shop (`general_question`) that the help
    pages answer surely: answered (True). Otherwise nothing is said (False) and the caller
    goes on as if it were not a question: a complaint, "which of these?", the form's own
    question. E.g. "tra hang thi lam the nao" (how do I return something), which leaves
    the classifier torn between a refund complaint and nothing."""
    if not general_question(tracker):
        return False
    found = find_answer(tracker)
    return found.sure and await answer_from_pages(dispatcher, tracker, found)
