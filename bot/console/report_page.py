"""The recovery reports page: a Jinja2 template (bot/templates/reports.html, autoescaped),
its charts laid out here as numbers, its words in the console's labels.
"""

from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

import jinja2

from bot.console.report_figures import PROMISE_FIGURES
from bot.paths import TEMPLATES
from contract import events
from contract.tasks import TRACE
from contract.words import pick

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
