"""The recovery report's events (contract/events.py) as the actions record them: a
complaint, each remedy offered and answered, a case resolved, a CSAT score, a question
answered from the help pages (or not)."""

from typing import Any, Dict, List

from rasa_sdk import Tracker

from actions.store import get_redis
from contract import events


async def report(tracker: Tracker, kind: str, **data: Any) -> None:
    """A report event for this conversation, about its complaint type."""
    await events.record(
        get_redis(),
        kind,
        tracker.sender_id,
        complaint_type=tracker.get_slot("complaint_type") or "unknown",
        **data,
    )


async def report_complaint(tracker: Tracker, **data: Any) -> None:
    """A complaint acknowledged (its type is `data["type"]`: the slot is not set yet)."""
    await events.record(get_redis(), "complaint", tracker.sender_id, **data)


async def record_question(tracker: Tracker, **data: Any) -> None:
    """A question answered from the help pages, or not (contract/events.py "question")."""
    await events.record(get_redis(), "question", tracker.sender_id, **data)


async def report_answers(tracker: Tracker, answers: List[Dict[str, str]]) -> None:
    """Remedy answers not reported yet (the slot holds the ones already given)."""
    before = {(a["remedy"], a["answer"]) for a in tracker.get_slot("remedy_answers") or []}
    for answer in answers:
        if (
            answer["answer"] in ("accepted", "declined")
            and (answer["remedy"], answer["answer"]) not in before
        ):
            await report(tracker, "remedy", remedy=answer["remedy"], outcome=answer["answer"])
