"""Recovery reports: the arithmetic on a known set of events, the events the hub records
as a conversation goes through it, and the JSON, CSV and page routes."""

import csv
from datetime import datetime, timezone
import io
import json
import time
import uuid

import pytest

from bot.console import report_figures, report_page, reports
from contract import events
from tests.hub.helpers import login, rest_sender

OFFSET = 7.0  # the team's local time: UTC+7


def at(day, hour, minute=0):
    """A UTC time on 2026-11-<day>."""
    return datetime(2026, 11, day, hour, minute, tzinfo=timezone.utc).timestamp()


def ev(kind, cid, when, **data):
    return {"kind": kind, "cid": cid, "at": when, **data}


# Local day 16 is 2026-11-15T17:00Z to 2026-11-16T17:00Z.
KNOWN = [
    ev("started", "c1", at(16, 3), channel="web", language="en"),
    ev("started", "c2", at(16, 4), channel="messenger", language="vi"),
    ev("started", "c3", at(16, 5), channel="web", language="vi"),
    ev("started", "c4", at(16, 17, 30), channel="web", language="en"),  # 00:30 local on the 17th
    ev("started", "c5", at(17, 2), channel="rest", language="en"),
    ev("complaint", "c1", at(16, 3, 1), type="complain_damaged", since_last=None),
    ev("complaint", "c2", at(16, 4, 1), type="complain_delivery", since_last=3 * 86400),
    ev("complaint", "c3", at(16, 5, 1), type="complain_damaged", since_last=10 * 86400),
    ev("complaint", "c4", at(16, 17, 31), type="complain_billing", since_last=None),
    ev("handoff", "c2", at(16, 4, 2), reason="customer_asked"),
    ev("handoff", "c4", at(16, 17, 32), reason="critical_severity"),
    ev("handoff", "c5", at(17, 2, 1), reason="assistant_unavailable"),
    ev("first_reply", "c2", at(16, 4, 3), wait=60, target=900, met=True),
    ev("first_reply", "c4", at(16, 17, 40), wait=300, target=120, met=False),
    ev("first_reply", "c5", at(17, 2, 30), wait=1200, target=900, met=False),
    ev("resolved", "c1", at(16, 3, 3), by="bot", duration=120),
    ev("resolved", "c3", at(16, 5, 5), by="bot", duration=240),
    ev("resolved", "c2", at(16, 4, 16), by="agent", duration=900),
    ev("resolved", "c4", at(16, 18), by="agent", duration=1800),
    ev("remedy", "c1", at(16, 3, 2), remedy="refund", outcome="offered"),
    ev("remedy", "c1", at(16, 3, 3), remedy="refund", outcome="accepted"),
    ev("remedy", "c3", at(16, 5, 2), remedy="voucher", outcome="offered"),
    ev("remedy", "c3", at(16, 5, 3), remedy="voucher", outcome="declined"),
    ev("remedy", "c3", at(16, 5, 3), remedy="refund", outcome="offered"),
    ev("remedy", "c3", at(16, 5, 4), remedy="refund", outcome="accepted"),
    ev("remedy", "c2", at(16, 4, 1), remedy="refund", outcome="needs_approval"),
    ev(
        "csat",
        "c1",
        at(16, 3, 4),
        score=5,
        complaint_type="complain_damaged",
        remedy="refund",
        channel="web",
        language="en",
    ),
    ev(
        "csat",
        "c2",
        at(16, 4, 17),
        score=2,
        complaint_type="complain_delivery",
        remedy="none",
        channel="messenger",
        language="vi",
    ),
    ev(
        "csat",
        "c3",
        at(16, 5, 6),
        score=4,
        complaint_type="complain_damaged",
        remedy="refund",
        channel="web",
        language="vi",
    ),
]


def test_the_figures_on_a_known_week():
    figures = report_figures.summarise(KNOWN, ["2026-11-16", "2026-11-17"], OFFSET)
    assert figures["conversations"] == 5
    assert figures["complaints"] == {
        "total": 4,
        "by_type": {"complain_billing": 1, "complain_damaged": 2, "complain_delivery": 1},
    }
    # c1 and c3 never went to a person; c2 and c4 did (c5 was no complaint).
    assert figures["containment"] == {
        "complaint_conversations": 4,
        "bot_only": 2,
        "handed_off": 2,
        "rate": 50.0,
    }
    assert figures["resolved"] == {"by_bot": 2, "by_agent": 2}
    assert figures["handoffs"] == {
        "total": 3,
        "by_reason": {"assistant_unavailable": 1, "critical_severity": 1, "customer_asked": 1},
    }
    # Nearest rank: p50 of three is the second, p90 the third.
    assert figures["time_to_person_seconds"] == {"count": 3, "p50": 300, "p90": 1200, "average": 520.0}
    assert figures["first_response_sla"] == {"replies": 3, "met": 1, "met_percent": 33.3}
    assert figures["resolution_seconds"] == {"count": 4, "p50": 240, "p90": 1800, "average": 765.0}
    csat = figures["csat"]
    assert csat["responses"] == 3 and csat["average"] == 3.67
    assert csat["response_rate_percent"] == 75.0  # 3 of the 4 resolved conversations answered
    assert csat["distribution"] == {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1}
    assert csat["by_complaint_type"] == {
        "complain_damaged": {"count": 2, "average": 4.5},
        "complain_delivery": {"count": 1, "average": 2.0},
    }
    assert csat["by_remedy"] == {"none": {"count": 1, "average": 2.0}, "refund": {"count": 2, "average": 4.5}}
    assert csat["by_channel"] == {
        "messenger": {"count": 1, "average": 2.0},
        "web": {"count": 2, "average": 4.5},
    }
    assert csat["by_language"] == {"en": {"count": 1, "average": 5.0}, "vi": {"count": 2, "average": 3.0}}
    # A refund c2 asked for was beyond the bot's limit: the owner sees the limit was hit.
    assert figures["remedies"] == {
        "refund": {"offered": 2, "accepted": 2, "declined": 0, "needs_approval": 1},
        "voucher": {"offered": 1, "accepted": 0, "declined": 1, "needs_approval": 0},
    }
    assert figures["repeat_contact_7d"] == {"count": 1, "percent_of_complaints": 25.0}  # c2, not c3
    assert figures["trend"] == [
        {
            "day": "2026-11-16",
            "conversations": 3,
            "complaints": 3,
            "handoffs": 1,
            "resolved_by_bot": 2,
            "resolved_by_agent": 1,
            "csat_average": 3.67,
        },
        {
            "day": "2026-11-17",
            "conversations": 2,
            "complaints": 1,
            "handoffs": 2,
            "resolved_by_bot": 0,
            "resolved_by_agent": 1,
            "csat_average": None,
        },
    ]


def test_the_page_names_things_in_words_and_escapes_what_it_shows():
    from bot.console.labels import ConsoleLabels

    figures = report_figures.summarise(
        KNOWN + [ev("handoff", "c9", at(16, 6), reason="<script>x</script>")],
        ["2026-11-16", "2026-11-17"],
        OFFSET,
    )
    page = report_page.render_page(
        {"days": 2, "from": "2026-11-16", "to": "2026-11-17", **figures}, ConsoleLabels().labels, "en"
    )
    assert "Damaged item" in page and "Customer asked for a person" in page
    assert "no remedy applied (1)" in page and "<script>" not in page and "&lt;script&gt;" in page
    assert "<th>asked for, beyond the bot&#39;s limit</th>" in page


# Promises: refunds done at once by the order system, and the team's tasks. t1 is done
# an hour early, t2 a day late, t3 failed, t4 still open; t0 was made before the period
# and is closed within it; t5 (a trace) is done on time.
PROMISES = [
    ev("carried_out", "c1", at(16, 3, 3), remedy="refund", complaint_type="complain_damaged"),
    ev("carried_out", "c3", at(16, 5, 4), remedy="refund", complaint_type="complain_damaged"),
    ev(
        "task_made",
        "c6",
        at(16, 6),
        task="SR-A-replacement",
        remedy="replacement",
        due_at=at(16, 14),
        api_failure=False,
    ),
    ev(
        "task_closed",
        "c6",
        at(16, 13),
        task="SR-A-replacement",
        remedy="replacement",
        outcome="done",
        on_time=True,
        overdue=0,
    ),
    ev(
        "task_made",
        "c7",
        at(16, 7),
        task="SR-B-replacement",
        remedy="replacement",
        due_at=at(16, 15),
        api_failure=False,
    ),
    ev(
        "task_closed",
        "c7",
        at(17, 15),
        task="SR-B-replacement",
        remedy="replacement",
        outcome="done",
        on_time=False,
        overdue=86400,
    ),
    ev("task_made", "c8", at(16, 8), task="SR-C-refund", remedy="refund", due_at=at(17, 8), api_failure=True),
    ev(
        "task_closed",
        "c8",
        at(16, 9),
        task="SR-C-refund",
        remedy="refund",
        outcome="failed",
        on_time=True,
        overdue=0,
    ),
    ev(
        "task_made",
        "c9",
        at(16, 9),
        task="SR-D-voucher_15",
        remedy="voucher_15",
        due_at=at(16, 13),
        api_failure=False,
    ),
    ev(
        "task_closed",
        "c0",
        at(16, 2),
        task="SR-E-exchange",
        remedy="exchange",
        outcome="done",
        on_time=True,
        overdue=0,
    ),
    ev(
        "task_made",
        "c5",
        at(16, 10),
        task="SR-F-carrier_trace",
        remedy="carrier_trace",
        due_at=at(17, 10),
        api_failure=False,
    ),
    ev(
        "task_closed",
        "c5",
        at(16, 11),
        task="SR-F-carrier_trace",
        remedy="carrier_trace",
        outcome="done",
        on_time=True,
        overdue=0,
    ),
]


def test_promises_kept_on_time_late_failed_and_open_by_remedy():
    from bot.console.labels import ConsoleLabels

    figures = report_figures.summarise(KNOWN + PROMISES, ["2026-11-16", "2026-11-17"], OFFSET)
    zero = dict.fromkeys(report_figures.PROMISE_FIGURES, 0)
    assert figures["promises"]["by_remedy"] == {
        "carrier_trace": {**zero, "done_on_time": 1},
        "exchange": {**zero, "done_on_time": 1},
        "refund": {**zero, "by_backend": 2, "failed": 1},
        "replacement": {**zero, "done_on_time": 1, "done_late": 1},
        "voucher_15": {**zero, "open": 1},
    }
    assert figures["promises"]["total"] == {
        "by_backend": 2,
        "done_on_time": 3,
        "done_late": 1,
        "failed": 1,
        "open": 1,
    }
    assert figures["promises"]["kept_on_time_percent"] == 71.4  # 5 of the 7 settled
    page = report_page.render_page(
        {"days": 2, "from": "2026-11-16", "to": "2026-11-17", **figures}, ConsoleLabels().labels, "en"
    )
    assert "<h2>Promises kept</h2>" in page and "<th>task done late</th>" in page
    assert "<td>trace with the carrier</td>" in page and "<td>Send a replacement</td>" in page
    assert "Promises kept on time</span><strong>71.4%</strong>" in page
    flat = dict(reports.rows(figures))
    assert flat["promises.by_remedy.replacement.done_late"] == "1" and flat["promises.total.open"] == "1"


def test_nothing_recorded_gives_empty_figures_not_errors():
    figures = report_figures.summarise([], ["2026-11-16"], OFFSET)
    assert figures["containment"]["rate"] is None and figures["csat"]["average"] is None
    assert figures["time_to_person_seconds"] == {"count": 0, "p50": None, "p90": None, "average": None}
    assert figures["promises"] == {
        "by_remedy": {},
        "total": dict.fromkeys(report_figures.PROMISE_FIGURES, 0),
        "kept_on_time_percent": None,
    }
    assert report_page.render_page({"days": 1, "from": "2026-11-16", "to": "2026-11-16", **figures}, {}, "en")


def test_the_window_starts_at_the_teams_local_midnight():
    now = at(17, 2)  # 09:00 on the 17th in Vietnam
    span = report_figures.window(2, now, OFFSET)
    assert span["days"] == ["2026-11-16", "2026-11-17"]
    assert span["since"] == at(15, 17) and span["until"] == now


async def test_events_are_kept_in_a_daily_stream_that_expires(redis):
    cid = f"report-test-{uuid.uuid4().hex[:8]}"
    now = time.time()
    await events.record(redis, "started", cid, at=now, channel="web", language="vi")
    ref = await events.ref(redis, cid)
    found = [e for e in await events.read(redis, now - 1, now + 1) if e["cid"] == ref]
    assert found == [
        {
            "kind": "started",
            "cid": ref,
            "at": pytest.approx(now, abs=0.001),
            "channel": "web",
            "language": "vi",
        }
    ]
    ttl = await redis.ttl(events.stream_key(events.day_of(now)))
    assert events.RETENTION_DAYS * 86400 - 2 * 86400 < ttl <= events.RETENTION_DAYS * 86400 + 1
    with pytest.raises(ValueError):
        await events.record(redis, "made_up", cid)


async def figures_now(client):
    response = await client.get("/api/agent/reports", params={"days": "1"})
    assert response.status == 200, await response.text()
    return await response.json()


async def test_a_conversation_through_the_hub_is_counted_as_it_happens(make_hub_fake):
    client = await make_hub_fake()
    await login(client)
    before = await figures_now(client)
    sender = rest_sender()
    cid = f"rest-{sender}"
    assert (
        await client.post("/webhooks/rest/webhook", json={"sender": sender, "message": "hello"})
    ).status == 200
    assert (
        await client.post("/webhooks/rest/webhook", json={"sender": sender, "message": "/request_human"})
    ).status == 200
    assert (await client.post(f"/api/agent/conversations/{cid}/claim")).status == 200
    for text in ("Hello, I'm looking at it", "Done: refund sent"):  # only the first one counts
        assert (
            await client.post(f"/api/agent/conversations/{cid}/messages", json={"text": text})
        ).status == 200
    assert (await client.post(f"/api/agent/conversations/{cid}/resolve", json={})).status == 200
    after = await figures_now(client)
    assert after["conversations"] == before["conversations"] + 1
    assert (
        after["handoffs"]["by_reason"]["customer_asked"]
        == before["handoffs"]["by_reason"].get("customer_asked", 0) + 1
    )
    assert after["first_response_sla"]["replies"] == before["first_response_sla"]["replies"] + 1
    assert (
        after["first_response_sla"]["met"] == before["first_response_sla"]["met"] + 1
    )  # seconds, not minutes
    assert after["resolved"]["by_agent"] == before["resolved"]["by_agent"] + 1
    assert after["trend"][-1]["handoffs"] == before["trend"][-1]["handoffs"] + 1


async def test_the_routes_need_an_agent_and_a_sensible_period(make_hub_fake):
    client = await make_hub_fake()
    for path in ("/api/agent/reports", "/api/agent/reports.csv"):
        assert (await client.get(path)).status == 401
    page = await client.get("/agent/reports", allow_redirects=False)
    assert page.status == 302 and page.headers["Location"] == "/agent/login"
    await login(client)
    for days in ("0", "91", "abc", "-1", "7.5"):
        response = await client.get("/api/agent/reports", params={"days": days})
        assert response.status == 400, days
    body = await figures_now(client)
    assert len(body["trend"]) == 1 and body["days"] == 1
    response = await client.get("/api/agent/reports.csv", params={"days": "7"})
    assert response.status == 200 and response.content_type == "text/csv"
    table = list(csv.reader(io.StringIO(await response.text())))
    assert table[0] == ["figure", "value"]
    names = {row[0] for row in table[1:]}
    assert {"conversations", "containment.rate", "time_to_person_seconds.p90", "csat.average"} <= names
    assert sum(name.startswith("trend.") and name.endswith(".conversations") for name in names) == 7
    page = await client.get("/agent/reports", params={"days": "7", "lang": "vi"})
    text = await page.text()
    assert page.status == 200 and "Báo cáo xử lý khiếu nại" in text and "<svg" in text
    assert "<script" not in text


async def test_events_name_no_conversation_and_go_when_it_is_forgotten(make_hub_fake, redis, caplog):
    hub = await make_hub_fake()
    sender = f"minh.tran.{uuid.uuid4().hex[:6]}@example.vn"  # a REST sender can be an email address
    cid = f"rest-{sender}"
    since = time.time() - 1
    await hub.post("/webhooks/rest/webhook", json={"sender": sender, "message": "/request_human"})
    other = f"rest-{uuid.uuid4().hex[:8]}"
    await events.record(redis, "started", other, channel="rest", language="en")
    mine = await events.ref(redis, cid)
    kept = [e for e in await events.read(redis, since, time.time() + 1) if e["cid"] == mine]
    assert {e["kind"] for e in kept} == {"started", "handoff"}
    assert mine != await events.ref(redis, other) and sender not in mine
    day = await redis.xrange(events.stream_key(events.day_of(time.time())))
    assert not any(sender in json.dumps(fields) for _, fields in day)  # never the id itself
    # An agent forgets it: its events go, another conversation's stay; the log names the
    # agent, never the conversation.
    await login(hub)
    caplog.set_level("INFO", logger="bot.console.conversations")
    assert (await hub.post(f"/api/agent/conversations/{cid}/forget")).status == 200
    left = await events.read(redis, since, time.time() + 1)
    assert not [e for e in left if e["cid"] == mine]
    assert [e["kind"] for e in left if e["cid"] == await events.ref(redis, other)] == ["started"]
    assert not await redis.exists(events.conversation_index(mine))
    [line] = [r.getMessage() for r in caplog.records if "forgot" in r.getMessage()]
    assert line.startswith("agent 'agent' forgot") and sender not in line and mine[:12] in line
