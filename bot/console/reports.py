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

import csv
import io
import time
from typing import Any, Dict, Iterable, List, Mapping, Optional

from aiohttp import web

from bot.console.appkeys import LABELS
from bot.console.report_figures import summarise, window
from bot.console.report_page import render_page
from bot.web.appkeys import REDIS, SETTINGS
from bot.web.http import json_error
from contract import events

MAX_DAYS = 90


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


async def reports_page(request: web.Request) -> web.Response:
    lang = "vi" if request.query.get("lang") == "vi" else "en"
    figures = await report(request.config_dict, _days(request))
    page = render_page(figures, request.config_dict[LABELS].labels, lang)
    return web.Response(text=page, content_type="text/html")
