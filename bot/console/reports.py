"""Recovery reports, from the events recorded as they happen (contract/events.py).

    GET /api/agent/reports?days=N        the figures as JSON (N: 1-90, default 7)
    GET /api/agent/reports.csv?days=N    the same, one figure a row
    GET /agent/reports?days=N&lang=vi    the page: tables and server-drawn SVG charts

Days are the team's local days (SUPPORT_UTC_OFFSET): "7 days" is today and the six
before. The hub records "started" and "handoff" in bot/conversations.py, an agent's first reply
and resolution in bot/recording.py; the action server records the rest
(actions/complaint.py).
"""

from collections import Counter, defaultdict
import csv
from datetime import datetime, timedelta, timezone
import html
import io
import math
import time
from typing import Any, Dict, Iterable, List, Optional, Sequence

from aiohttp import web

from bot.appkeys import LABELS, REDIS, SETTINGS
from bot.auth import current_agent
from bot.http import json_error
from contract import events

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


def summarise(found: Iterable[Dict[str, Any]], days: List[str], utc_offset_hours: float) -> Dict[str, Any]:
    """Every figure of the report from a list of events (contract/events.py)."""
    by_kind: Dict[str, List[Dict[str, Any]]] = defaultdict(list)
    for event in found:
        by_kind[event["kind"]].append(event)
    complaints = by_kind["complaint"]
    complaint_cids = {e["cid"] for e in complaints}
    handoff_cids = {e["cid"] for e in by_kind["handoff"]}
    handed_off_complaints = complaint_cids & handoff_cids
    resolved = by_kind["resolved"]
    first = by_kind["first_reply"]
    scores = [e for e in by_kind["csat"] if isinstance(e.get("score"), int) and 1 <= e["score"] <= 5]

    def csat_by(field: str) -> Dict[str, Dict[str, Any]]:
        groups: Dict[str, List[int]] = defaultdict(list)
        for e in scores:
            groups[str(e.get(field) or "none")].append(e["score"])
        return {k: {"count": len(v), "average": _average(v)} for k, v in sorted(groups.items())}

    remedies: Dict[str, Counter] = defaultdict(Counter)
    for e in by_kind["remedy"]:
        remedies[e["remedy"]][e["outcome"]] += 1
    repeats = [e for e in complaints if e.get("since_last") is not None and e["since_last"] <= REPEAT_WINDOW]

    trend: Dict[str, Counter] = {day: Counter() for day in days}
    trend_scores: Dict[str, List[int]] = defaultdict(list)
    names = {"started": "conversations", "complaint": "complaints", "handoff": "handoffs"}
    for event in (e for kind in by_kind.values() for e in kind):
        day = local_day(event["at"], utc_offset_hours)
        if day not in trend:
            continue
        if event["kind"] in names:
            trend[day][names[event["kind"]]] += 1
        elif event["kind"] == "resolved":
            trend[day][f"resolved_by_{event.get('by')}"] += 1
        elif event["kind"] == "csat" and event in scores:
            trend_scores[day].append(event["score"])

    return {
        "conversations": len({e["cid"] for e in by_kind["started"]}),
        "complaints": {
            "total": len(complaints),
            "by_type": dict(sorted(Counter(e.get("type") or "unknown" for e in complaints).items())),
        },
        "containment": {
            "complaint_conversations": len(complaint_cids),
            "bot_only": len(complaint_cids - handoff_cids),
            "handed_off": len(handed_off_complaints),
            "rate": _rate(len(complaint_cids - handoff_cids), len(complaint_cids)),
        },
        "resolved": {
            "by_bot": sum(1 for e in resolved if e.get("by") == "bot"),
            "by_agent": sum(1 for e in resolved if e.get("by") == "agent"),
        },
        "handoffs": {
            "total": len(by_kind["handoff"]),
            "by_reason": dict(
                sorted(Counter(e.get("reason") or "unknown" for e in by_kind["handoff"]).items())
            ),
        },
        "time_to_person_seconds": _durations([e["wait"] for e in first]),
        "first_response_sla": {
            "replies": len(first),
            "met": sum(1 for e in first if e.get("met")),
            "met_percent": _rate(sum(1 for e in first if e.get("met")), len(first)),
        },
        "resolution_seconds": _durations([e["duration"] for e in resolved]),
        "csat": {
            "responses": len(scores),
            "average": _average([e["score"] for e in scores]),
            "response_rate_percent": _rate(
                len({e["cid"] for e in scores}), len({e["cid"] for e in resolved})
            ),
            "distribution": {str(n): sum(1 for e in scores if e["score"] == n) for n in range(1, 6)},
            "by_complaint_type": csat_by("complaint_type"),
            "by_remedy": csat_by("remedy"),
            "by_channel": csat_by("channel"),
            "by_language": csat_by("language"),
        },
        "remedies": {rid: {o: c[o] for o in events.REMEDY_OUTCOMES} for rid, c in sorted(remedies.items())},
        "repeat_contact_7d": {
            "count": len(repeats),
            "percent_of_complaints": _rate(len(repeats), len(complaints)),
        },
        "trend": [
            {
                "day": day,
                **{
                    k: trend[day][k]
                    for k in (
                        "conversations",
                        "complaints",
                        "handoffs",
                        "resolved_by_bot",
                        "resolved_by_agent",
                    )
                },
                "csat_average": _average(trend_scores[day]),
            }
            for day in days
        ],
    }


async def report(app: web.Application, days: int, now: Optional[float] = None) -> Dict[str, Any]:
    offset = app[SETTINGS].support_utc_offset
    span = window(days, time.time() if now is None else now, offset)
    found = await events.read(app[REDIS], span["since"], span["until"])
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
    await current_agent(request)
    return web.json_response(await report(request.app, _days(request)))


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
        else:
            yield [name, "" if value is None else str(value)]


async def reports_csv(request: web.Request) -> web.Response:
    await current_agent(request)
    days = _days(request)
    figures = await report(request.app, days)
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


# --- the page: every text escaped, charts as inline SVG (no script) ------------------------------


def _bars(items: List[tuple], unit: str = "") -> str:
    """A horizontal bar chart: (label, value) pairs."""
    items = [(label, value) for label, value in items if value is not None]
    if not items:
        return ""
    top = max(value for _, value in items) or 1
    height = 22 * len(items)
    parts = [f'<svg class="chart" viewBox="0 0 600 {height}" role="img" width="100%">']
    for i, (label, value) in enumerate(items):
        y = 22 * i
        width = 330 * value / top
        parts.append(
            f'<text x="0" y="{y + 15}">{html.escape(str(label))}</text>'
            f'<rect x="220" y="{y + 3}" width="{width:.1f}" height="16" rx="2"></rect>'
            f'<text x="{226 + width:.1f}" y="{y + 15}">{html.escape(f"{value:g}{unit}")}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _columns(trend: List[Dict[str, Any]], fields: List[tuple]) -> str:
    """Columns per day: one bar per field (name, css class) side by side."""
    top = max([d[f] for d in trend for f, _ in fields] + [1])
    slot = 600 / max(len(trend), 1)
    bar = slot * 0.8 / len(fields)
    parts = ['<svg class="chart trend" viewBox="0 0 600 180" role="img" width="100%">']
    for i, day in enumerate(trend):
        x = i * slot + slot * 0.1
        for j, (field, css) in enumerate(fields):
            h = 140 * day[field] / top
            parts.append(
                f'<rect class="{css}" x="{x + j * bar:.1f}" y="{150 - h:.1f}" '
                f'width="{bar - 1:.1f}" height="{h:.1f}"><title>{html.escape(field)}: '
                f"{day[field]}</title></rect>"
            )
        parts.append(f'<text x="{x:.1f}" y="170">{html.escape(day["day"][5:])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _minutes(seconds: Optional[float]) -> Optional[float]:
    return None if seconds is None else round(seconds / 60, 1)


def render_page(figures: Dict[str, Any], words, lang: str) -> str:
    def w(key: str, **values) -> str:
        entry = words.get("reports", {}).get(key) or {}
        return html.escape((entry.get(lang) or entry.get("en") or key).format(**values))

    def named(group: str, key: str) -> str:
        if group == "remedies" and key == "none":  # rated without a remedy applied
            group = "reports"
        entry = words.get(group, {}).get(key) or {}
        return entry.get(lang) or entry.get("en") or key

    def fmt(value, unit=""):
        return "–" if value is None else html.escape(f"{value:g}{unit}")

    c, t, s = figures["containment"], figures["time_to_person_seconds"], figures["first_response_sla"]
    r, q = figures["resolution_seconds"], figures["csat"]
    tiles = [
        (w("conversations"), fmt(figures["conversations"])),
        (w("containment"), fmt(c["rate"], "%")),
        (w("handed_off"), fmt(c["handed_off"])),
        (w("time_to_person"), f"{fmt(_minutes(t['p50']))} / {fmt(_minutes(t['p90']))} min"),
        (w("sla_met"), fmt(s["met_percent"], "%")),
        (w("resolution"), f"{fmt(_minutes(r['p50']))} / {fmt(_minutes(r['p90']))} min"),
        (w("csat_average"), fmt(q["average"])),
        (w("csat_response_rate"), fmt(q["response_rate_percent"], "%")),
        (w("repeat"), fmt(figures["repeat_contact_7d"]["count"])),
    ]
    sections = [
        (
            w("complaints_by_type"),
            _bars([(named("complaint_types", k), v) for k, v in figures["complaints"]["by_type"].items()]),
        ),
        (
            w("handoff_reasons"),
            _bars([(named("reasons", k), v) for k, v in figures["handoffs"]["by_reason"].items()]),
        ),
        (
            w("csat_by_type"),
            _bars(
                [
                    (f"{named('complaint_types', k)} ({v['count']})", v["average"])
                    for k, v in q["by_complaint_type"].items()
                ]
            ),
        ),
        (
            w("csat_by_remedy"),
            _bars(
                [(f"{named('remedies', k)} ({v['count']})", v["average"]) for k, v in q["by_remedy"].items()]
            ),
        ),
        (
            w("csat_by_channel"),
            _bars(
                [(f"{named('channels', k)} ({v['count']})", v["average"]) for k, v in q["by_channel"].items()]
            ),
        ),
        (
            w("csat_by_language"),
            _bars(
                [
                    (f"{named('languages', k)} ({v['count']})", v["average"])
                    for k, v in q["by_language"].items()
                ]
            ),
        ),
        (w("csat_distribution"), _bars([(f"{k} ★", v) for k, v in q["distribution"].items()])),
    ]
    remedy_rows = "".join(
        f"<tr><td>{html.escape(named('remedies', rid))}</td>"
        + "".join(f"<td>{v[outcome]}</td>" for outcome in events.REMEDY_OUTCOMES)
        + "</tr>"
        for rid, v in figures["remedies"].items()
    )
    trend_rows = "".join(
        f"<tr><td>{d['day']}</td><td>{d['conversations']}</td><td>{d['complaints']}</td>"
        f"<td>{d['handoffs']}</td><td>{d['resolved_by_bot']}</td><td>{d['resolved_by_agent']}</td>"
        f"<td>{fmt(d['csat_average'])}</td></tr>"
        for d in figures["trend"]
    )
    days = figures["days"]
    choices = "".join(
        f'<a href="?days={n}&amp;lang={lang}"{" aria-current=page" if n == days else ""}>'
        f"{w('last_days', days=n)}</a> "
        for n in (1, 7, 30, 90)
    )
    other = "vi" if lang == "en" else "en"
    return f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{w("title")}</title><link rel="stylesheet" href="/static/agent.css"><link rel="stylesheet" href="/static/reports.css"></head>
<body class="reports"><header><h1>{w("title")}</h1><span>{figures["from"]} – {figures["to"]}</span>
<nav class="periods">{choices}</nav>
<a href="?days={days}&amp;lang={other}">{html.escape(named("languages", other))}</a>
<a href="/api/agent/reports.csv?days={days}" download>{w("csv")}</a><a href="/agent">{w("console")}</a></header>
<main>
<section class="tiles">{"".join(f'<div class="tile"><span>{k}</span><strong>{v}</strong></div>' for k, v in tiles)}</section>
<section><h2>{w("trend")}</h2>{_columns(figures["trend"], [("conversations", "c1"), ("handoffs", "c2"), ("resolved_by_bot", "c3")])}
<p class="legend"><span class="c1">■</span> {w("conversations")} <span class="c2">■</span> {w("handed_off")} <span class="c3">■</span> {w("resolved_by_bot")}</p>
<table><thead><tr><th>{w("day")}</th><th>{w("conversations")}</th><th>{w("complaints")}</th><th>{w("handed_off")}</th><th>{w("resolved_by_bot")}</th><th>{w("resolved_by_agent")}</th><th>{w("csat_average")}</th></tr></thead><tbody>{trend_rows}</tbody></table></section>
{"".join(f"<section><h2>{title}</h2>{chart or '<p>' + w('nothing_yet') + '</p>'}</section>" for title, chart in sections)}
<section><h2>{w("remedies")}</h2><table><thead><tr><th></th>{"".join(f"<th>{w(outcome)}</th>" for outcome in events.REMEDY_OUTCOMES)}</tr></thead><tbody>{remedy_rows}</tbody></table></section>
</main></body></html>"""


async def reports_page(request: web.Request) -> web.Response:
    try:
        await current_agent(request)
    except web.HTTPUnauthorized:
        raise web.HTTPFound("/agent/login") from None
    lang = "vi" if request.query.get("lang") == "vi" else "en"
    figures = await report(request.app, _days(request))
    return web.Response(text=render_page(figures, request.app[LABELS].labels, lang), content_type="text/html")


def setup(app: web.Application) -> None:
    app.router.add_get("/agent/reports", reports_page)
    app.router.add_get("/api/agent/reports", reports_json)
    app.router.add_get("/api/agent/reports.csv", reports_csv)
