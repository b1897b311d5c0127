"""The recovery report's figures, from a list of events (contract/events.py): counts,
rates, durations, CSAT, promises kept, questions, and a trend by the team's local day.
Pure arithmetic; bot/console/reports.py reads the events and serves the figures.
"""

from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
import math
from typing import Any, Dict, Iterable, List, Optional, Sequence

from contract import events

REPEAT_WINDOW = 7 * 86400


def percentile(values: List[float], p: float) -> Optional[float]:
    """Nearest-rank percentile (p in 0-100): a value that really occurred."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def _average(values: Sequence[float]) -> Optional[float]:
    return round(sum(values) / len(values), 2) if values else None


def _rate(part: int, whole: int) -> Optional[float]:
    return round(100 * part / whole, 1) if whole else None


def _durations(values: List[float]) -> Dict[str, Any]:
    return {
        "count": len(values),
        "p50": percentile(values, 50),
        "p90": percentile(values, 90),
        "average": _average(values),
    }


def local_day(at: float, utc_offset_hours: float) -> str:
    return (datetime.fromtimestamp(at, timezone.utc) + timedelta(hours=utc_offset_hours)).date().isoformat()


def window(days: int, now: float, utc_offset_hours: float) -> Dict[str, Any]:
    """From the start of the local day `days - 1` days ago to now."""
    offset = timedelta(hours=utc_offset_hours)
    today = (datetime.fromtimestamp(now, timezone.utc) + offset).date()
    first = today - timedelta(days=days - 1)
    start = datetime(first.year, first.month, first.day, tzinfo=timezone.utc) - offset
    return {
        "since": start.timestamp(),
        "until": now,
        "days": [(first + timedelta(days=i)).isoformat() for i in range(days)],
    }


Events = Dict[str, List[Dict[str, Any]]]  # by kind


TREND_FIELDS = ("conversations", "complaints", "handoffs", "resolved_by_bot", "resolved_by_agent")


# Promises kept, per remedy: carried out at once by the order backend, fulfilment tasks
# done on time, done late, failed, and made in the period but still open.
PROMISE_FIGURES = ("by_backend", "done_on_time", "done_late", "failed", "open")


def _scores(by_kind: Events) -> List[Dict[str, Any]]:
    """The CSAT answers that count: a 1-5 score."""
    return [e for e in by_kind["csat"] if isinstance(e.get("score"), int) and 1 <= e["score"] <= 5]


def _counted(values: Iterable[Any]) -> Dict[str, int]:
    return dict(sorted(Counter(str(v or "unknown") for v in values).items()))


def _csat(by_kind: Events) -> Dict[str, Any]:
    scores = _scores(by_kind)

    def by(field: str) -> Dict[str, Dict[str, Any]]:
        groups: Dict[str, List[int]] = defaultdict(list)
        for e in scores:
            groups[str(e.get(field) or "none")].append(e["score"])
        return {k: {"count": len(v), "average": _average(v)} for k, v in sorted(groups.items())}

    return {
        "responses": len(scores),
        "average": _average([e["score"] for e in scores]),
        "response_rate_percent": _rate(
            len({e["cid"] for e in scores}), len({e["cid"] for e in by_kind["resolved"]})
        ),
        "distribution": {str(n): sum(1 for e in scores if e["score"] == n) for n in range(1, 6)},
        "by_complaint_type": by("complaint_type"),
        "by_remedy": by("remedy"),
        "by_channel": by("channel"),
        "by_language": by("language"),
    }


def _promises(by_kind: Events) -> Dict[str, Any]:
    """Promises kept, by remedy (a trace with the carrier counts as one too): from the
    `carried_out`, `task_made` and `task_closed` events. A task made in the period and
    not closed in it is still open; one made before the period counts when it closes."""
    rows: Dict[str, Counter] = defaultdict(Counter)
    for e in by_kind["carried_out"]:
        rows[str(e.get("remedy"))]["by_backend"] += 1
    closed = set()
    for e in by_kind["task_closed"]:
        closed.add(e.get("task"))
        figure = (
            "failed" if e.get("outcome") == "failed" else "done_on_time" if e.get("on_time") else "done_late"
        )
        rows[str(e.get("remedy"))][figure] += 1
    for e in by_kind["task_made"]:
        if e.get("task") not in closed:
            rows[str(e.get("remedy"))]["open"] += 1
    by_remedy = {rid: {f: counts[f] for f in PROMISE_FIGURES} for rid, counts in sorted(rows.items())}
    total = {f: sum(row[f] for row in by_remedy.values()) for f in PROMISE_FIGURES}
    kept = total["by_backend"] + total["done_on_time"]
    return {
        "by_remedy": by_remedy,
        "total": total,
        # of the promises settled in the period: kept at once or by their due time
        "kept_on_time_percent": _rate(kept, kept + total["done_late"] + total["failed"]),
    }


def _trend(by_kind: Events, days: List[str], utc_offset_hours: float) -> List[Dict[str, Any]]:
    """One entry a local day: what started, was complained of, handed off, resolved."""
    counts: Dict[str, Counter] = {day: Counter() for day in days}
    scores: Dict[str, List[int]] = defaultdict(list)
    names = {"started": "conversations", "complaint": "complaints", "handoff": "handoffs"}
    for event in (e for kind in by_kind.values() for e in kind):
        day = local_day(event["at"], utc_offset_hours)
        if day not in counts:
            continue
        if event["kind"] in names:
            counts[day][names[event["kind"]]] += 1
        elif event["kind"] == "resolved":
            counts[day][f"resolved_by_{event.get('by')}"] += 1
    for event in _scores(by_kind):
        day = local_day(event["at"], utc_offset_hours)
        if day in counts:
            scores[day].append(event["score"])
    return [
        {"day": day, **{k: counts[day][k] for k in TREND_FIELDS}, "csat_average": _average(scores[day])}
        for day in days
    ]


def summarise(found: Iterable[Dict[str, Any]], days: List[str], utc_offset_hours: float) -> Dict[str, Any]:
    """Every figure of the report from a list of events (contract/events.py)."""
    by_kind: Events = defaultdict(list)
    for event in found:
        by_kind[event["kind"]].append(event)
    complaints, resolved, first = by_kind["complaint"], by_kind["resolved"], by_kind["first_reply"]
    complaint_cids = {e["cid"] for e in complaints}
    handoff_cids = {e["cid"] for e in by_kind["handoff"]}
    remedies: Dict[str, Counter] = defaultdict(Counter)
    for e in by_kind["remedy"]:
        remedies[e["remedy"]][e["outcome"]] += 1
    repeats = [e for e in complaints if e.get("since_last") is not None and e["since_last"] <= REPEAT_WINDOW]
    met = sum(1 for e in first if e.get("met"))
    return {
        "conversations": len({e["cid"] for e in by_kind["started"]}),
        "complaints": {"total": len(complaints), "by_type": _counted(e.get("type") for e in complaints)},
        "containment": {
            "complaint_conversations": len(complaint_cids),
            "bot_only": len(complaint_cids - handoff_cids),
            "handed_off": len(complaint_cids & handoff_cids),
            "rate": _rate(len(complaint_cids - handoff_cids), len(complaint_cids)),
        },
        "resolved": {
            "by_bot": sum(1 for e in resolved if e.get("by") == "bot"),
            "by_agent": sum(1 for e in resolved if e.get("by") == "agent"),
        },
        "handoffs": {
            "total": len(by_kind["handoff"]),
            "by_reason": _counted(e.get("reason") for e in by_kind["handoff"]),
        },
        "time_to_person_seconds": _durations([e["wait"] for e in first]),
        "first_response_sla": {"replies": len(first), "met": met, "met_percent": _rate(met, len(first))},
        "resolution_seconds": _durations([e["duration"] for e in resolved]),
        "csat": _csat(by_kind),
        "remedies": {rid: {o: c[o] for o in events.REMEDY_OUTCOMES} for rid, c in sorted(remedies.items())},
        "promises": _promises(by_kind),
        "repeat_contact_7d": {
            "count": len(repeats),
            "percent_of_complaints": _rate(len(repeats), len(complaints)),
        },
        "questions": _questions(by_kind["question"]),
        "trend": _trend(by_kind, days, utc_offset_hours),
    }


UNANSWERED_LISTED = 20


def _questions(asked: List[Dict[str, Any]]) -> Dict[str, Any]:
    """Questions answered from the help pages, and those without a good answer, listed
    (most asked first, the same words once) so the owner knows which page to write."""
    answered = [e for e in asked if e.get("answered")]
    missing = Counter(
        (str(e.get("question") or "").strip(), str(e.get("language") or ""))
        for e in asked
        if not e.get("answered")
    )
    return {
        "total": len(asked),
        "answered": len(answered),
        "not_answered": len(asked) - len(answered),
        "answered_percent": _rate(len(answered), len(asked)),
        "by_page": _counted(e.get("page") for e in answered),
        "without_answer": [
            {"question": question, "language": language, "count": count}
            for (question, language), count in sorted(missing.items(), key=lambda item: (-item[1], item[0]))[
                :UNANSWERED_LISTED
            ]
            if question
        ],
    }
