"""Recovery reports, from the events recorded as they happen (contract/events.py).

    GET /api/agent/reports?days=N        the figures as JSON (N: 1-90, default 7)
    GET /api/agent/reports.csv?days=N    the same, one figure a row
    GET /agent/reports?days=N&lang=vi    the page (bot/templates/reports.html): tables and
                                         server-drawn SVG charts

Days are the team's local days (SUPPORT_UTC_OFFSET): "7 days" is today and the six
before. The hub records its events where a conversation's state changes
(core/reporting.py) and where an agent closes a task (contract/tasks.py); the action
server records the rest, a task made among them.
"""

from collections import Counter, defaultdict
import csv
from datetime import datetime, timedelta, timezone
import io
import math
import time
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from aiohttp import web
import jinja2

from bot.console.appkeys import LABELS
from bot.paths import TEMPLATES
from bot.web.appkeys import REDIS, SETTINGS
from bot.web.http import json_error
from contract import events
from contract.tasks import TRACE
from contract.words import pick

MAX_DAYS = 90
REPEAT_WINDOW = 7 * 86400


# --- the arithmetic -------------------------------------------------------------------------


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


async def report(config: Mapping, days: int, now: Optional[float] = None) -> Dict[str, Any]:
    """The figures of the last `days` local days; `config` is the app's (config_dict)."""
    offset = config[SETTINGS].support_utc_offset
    span = window(days, time.time() if now is None else now, offset)
    found = await events.read(config[REDIS], span["since"], span["until"])
    return {
        "days": days,
        "from": span["days"][0],
        "to": span["days"][-1],
        "utc_offset_hours": offset,
        **summarise(found, span["days"], offset),
    }


def _days(request: web.Request) -> int:
    raw = request.query.get("days", "7")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_DAYS:
        raise json_error(400, f"'days' must be a whole number from 1 to {MAX_DAYS}")
    return int(raw)


# --- the routes -------------------------------------------------------------------------------


async def reports_json(request: web.Request) -> web.Response:
    return web.json_response(await report(request.config_dict, _days(request)))


def rows(figures: Dict[str, Any], prefix: str = "") -> Iterable[List[str]]:
    """The report flattened: one (figure, value) a row, e.g. csat.by_channel.web.average."""
    for key, value in figures.items():
        name = f"{prefix}{key}"
        if key == "trend":
            for day in value:
                for field, number in day.items():
                    if field != "day":
                        yield [f"trend.{day['day']}.{field}", "" if number is None else str(number)]
        elif isinstance(value, dict):
            yield from rows(value, f"{name}.")
        elif isinstance(value, list):  # questions without an answer: one a row
            for number, item in enumerate(value, start=1):
                yield [f"{name}.{number}", f"{item['question']} ({item['language']}, {item['count']}x)"]
        else:
            yield [name, "" if value is None else str(value)]


async def reports_csv(request: web.Request) -> web.Response:
    days = _days(request)
    figures = await report(request.config_dict, days)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["figure", "value"])
    writer.writerows(rows(figures))
    return web.Response(
        text=out.getvalue(),
        content_type="text/csv",
        charset="utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="recovery-report-{figures["to"]}-{days}d.csv"'
        },
    )


# --- the page: a Jinja2 template (autoescaped), charts laid out here as numbers ---------------

PAGES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


def bar_chart(items: List[Tuple[str, Optional[float]]], unit: str = "") -> Optional[Dict[str, Any]]:
    """A horizontal bar chart of (label, value) pairs, or None when there is nothing."""
    items = [(label, value) for label, value in items if value is not None]
    if not items:
        return None
    top = max(value for _, value in items if value is not None) or 1
    bars = [
        {"y": 22 * i, "label": str(label), "width": 330 * value / top, "value": f"{value:g}{unit}"}
        for i, (label, value) in enumerate(items)
        if value is not None
    ]
    return {"height": 22 * len(bars), "bars": bars}


def column_chart(trend: List[Dict[str, Any]], fields: List[Tuple[str, str]]) -> List[Dict[str, Any]]:
    """Columns per day: one bar per field (name, css class) side by side."""
    top = max([d[f] for d in trend for f, _ in fields] + [1])
    slot = 600 / max(len(trend), 1)
    width = slot * 0.8 / len(fields)
    days = []
    for i, day in enumerate(trend):
        x = i * slot + slot * 0.1
        bars = [
            {
                "css": css,
                "field": field,
                "value": day[field],
                "x": x + j * width,
                "width": width - 1,
                "height": 140 * day[field] / top,
            }
            for j, (field, css) in enumerate(fields)
        ]
        days.append({"x": x, "label": day["day"][5:], "bars": bars})
    return days


def _minutes(seconds: Optional[float]) -> Optional[float]:
    return None if seconds is None else round(seconds / 60, 1)


def _fmt(value: Optional[float], unit: str = "") -> str:
    return "–" if value is None else f"{value:g}{unit}"


def _words(labels: Mapping[str, Any], lang: str) -> Tuple[Callable[..., str], Callable[[str, str], str]]:
    """w(key): the page's own words; named(group, key): a code in words (a complaint
    type, a reason, a remedy...), in `lang`, else English, else the code itself."""

    def w(key: str, **values: Any) -> str:
        entry = labels.get("reports", {}).get(key)
        return (pick(entry, lang) if entry else key).format(**values)

    def named(group: str, key: str) -> str:
        if group == "remedies" and key in ("none", TRACE):  # no remedy applied; a trace
            group = "reports"
        entry = labels.get(group, {}).get(key)
        return pick(entry, lang) if entry else key

    return w, named


def render_page(figures: Dict[str, Any], labels: Mapping[str, Any], lang: str) -> str:
    w, named = _words(labels, lang)
    c, t, s = figures["containment"], figures["time_to_person_seconds"], figures["first_response_sla"]
    r, q = figures["resolution_seconds"], figures["csat"]
    tiles = [
        (w("conversations"), _fmt(figures["conversations"])),
        (w("containment"), _fmt(c["rate"], "%")),
        (w("handed_off"), _fmt(c["handed_off"])),
        (w("time_to_person"), f"{_fmt(_minutes(t['p50']))} / {_fmt(_minutes(t['p90']))} min"),
        (w("sla_met"), _fmt(s["met_percent"], "%")),
        (w("resolution"), f"{_fmt(_minutes(r['p50']))} / {_fmt(_minutes(r['p90']))} min"),
        (w("csat_average"), _fmt(q["average"])),
        (w("csat_response_rate"), _fmt(q["response_rate_percent"], "%")),
        (w("repeat"), _fmt(figures["repeat_contact_7d"]["count"])),
        (w("promises_on_time"), _fmt(figures["promises"]["kept_on_time_percent"], "%")),
        (
            w("questions_answered"),
            f"{_fmt(figures['questions']['answered'])} / {_fmt(figures['questions']['total'])}",
        ),
    ]

    def csat_by(group: str, field: str) -> Optional[Dict[str, Any]]:
        return bar_chart([(f"{named(group, k)} ({v['count']})", v["average"]) for k, v in q[field].items()])

    sections = [
        (
            w("complaints_by_type"),
            bar_chart(
                [(named("complaint_types", k), v) for k, v in figures["complaints"]["by_type"].items()]
            ),
        ),
        (
            w("handoff_reasons"),
            bar_chart([(named("reasons", k), v) for k, v in figures["handoffs"]["by_reason"].items()]),
        ),
        (w("csat_by_type"), csat_by("complaint_types", "by_complaint_type")),
        (w("csat_by_remedy"), csat_by("remedies", "by_remedy")),
        (w("csat_by_channel"), csat_by("channels", "by_channel")),
        (w("csat_by_language"), csat_by("languages", "by_language")),
        (w("csat_distribution"), bar_chart([(f"{k} ★", v) for k, v in q["distribution"].items()])),
        (w("questions_by_page"), bar_chart(list(figures["questions"]["by_page"].items()))),
    ]
    trend = column_chart(
        figures["trend"], [("conversations", "c1"), ("handoffs", "c2"), ("resolved_by_bot", "c3")]
    )
    return PAGES.get_template("reports.html").render(
        figures=figures,
        lang=lang,
        other="vi" if lang == "en" else "en",
        w=w,
        named=named,
        fmt=_fmt,
        tiles=tiles,
        sections=sections,
        trend_chart=trend,
        outcomes=events.REMEDY_OUTCOMES,
        promise_figures=PROMISE_FIGURES,
    )


async def reports_page(request: web.Request) -> web.Response:
    lang = "vi" if request.query.get("lang") == "vi" else "en"
    figures = await report(request.config_dict, _days(request))
    page = render_page(figures, request.config_dict[LABELS].labels, lang)
    return web.Response(text=page, content_type="text/html")
