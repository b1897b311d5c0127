"""The agent console's additions: internal notes (kept in the transcript, never sent
to the customer on any channel) and the console's label file (validated at start-up,
served to the console). The real hub and Redis; hub logic only, so the stand-in for
Rasa (tests/hub/conftest.py)."""

import pytest
from redis import asyncio as aioredis

from bot.app import create_app
from bot.console import labels as console_labels
from bot.core.conversation import Conversation
from contract import keys
from contract.handoff import Customer, Severity, assistant_away
from tests.hub.helpers import WidgetCustomer, a_packet, hub_settings, login, rest_sender

SECRET_NOTE = "NOTE-ONLY-FOR-AGENTS: customer sounded upset, check the courier"


async def add_note(client, cid, text=SECRET_NOTE):
    response = await client.post(f"/api/agent/conversations/{cid}/notes", json={"text": text})
    assert response.status == 200, await response.text()
    return await response.json()


async def entries(redis_url, cid):
    redis = aioredis.from_url(redis_url, decode_responses=True)
    try:
        return [fields for _, fields in await redis.xrange(keys.transcript(cid))]
    finally:
        await redis.close(close_connection_pool=True)


async def rest_handoff(client):
    sender = rest_sender()
    for words in ("I was charged twice for my last purchase", "/request_human"):
        response = await client.post("/webhooks/rest/webhook", json={"sender": sender, "message": words})
        assert response.status == 200, await response.text()
    return sender, f"rest-{sender}"


async def test_notes_need_an_agent_a_known_conversation_and_a_text(hub_fake, redis_url):
    sender, cid = await rest_handoff(hub_fake)
    assert (await hub_fake.post(f"/api/agent/conversations/{cid}/notes", json={"text": "x"})).status == 401
    await login(hub_fake)
    try:
        assert (
            await hub_fake.post("/api/agent/conversations/rest-nobody/notes", json={"text": "x"})
        ).status == 404
        for body, status in (
            (None, 400),
            ([], 400),
            ({}, 400),
            ({"text": "   "}, 400),
            ({"text": 7}, 400),
            ({"text": "x" * 100_000}, 413),
        ):
            kwargs = (
                {"data": b"not json", "headers": {"Content-Type": "application/json"}}
                if body is None
                else {"json": body}
            )
            response = await hub_fake.post(f"/api/agent/conversations/{cid}/notes", **kwargs)
            assert response.status == status, (body, await response.text())
            assert "error" in await response.json()
        assert not [e for e in await entries(redis_url, cid) if e["from"] == "note"]
    finally:
        await hub_fake.post(f"/api/agent/conversations/{cid}/claim")
        await hub_fake.post(f"/api/agent/conversations/{cid}/resolve", json={})


async def test_a_note_is_in_the_transcript_with_its_author_but_never_reaches_the_widget(
    make_hub_fake, redis_url
):
    client = await make_hub_fake(agent_online_seconds=0.001)
    await login(client)
    customer = WidgetCustomer(str(client.make_url("/")))
    session_id = await customer.connect()
    cid = session_id.rpartition(".")[0]
    try:
        await customer.say("I was charged twice for my last purchase")
        await customer.until(lambda m: "quick_replies" in m or "text" in m)
        await customer.say("/request_human")
        await customer.until(lambda m: "in line" in m.get("text", "") or "isn't online" in m.get("text", ""))
        # A note on a queued conversation (before anyone claims it) and one while owned.
        await add_note(client, cid, SECRET_NOTE + " (queued)")
        assert (await client.post(f"/api/agent/conversations/{cid}/claim")).status == 200
        await add_note(client, cid)
        await client.post(f"/api/agent/conversations/{cid}/messages", json={"text": "Hello from the team"})
        # Delivery follows the transcript in order: a leaked note would come before this.
        received = await customer.until(lambda m: m.get("text") == "Hello from the team")
        assert not any("NOTE-ONLY" in (m.get("text") or "") for m in received)
        detail = await (await client.get(f"/api/agent/conversations/{cid}")).json()
        notes = [e for e in detail["transcript"] if e["from"] == "note"]
        assert [n["text"] for n in notes] == [SECRET_NOTE + " (queued)", SECRET_NOTE]
        assert all(n["data"] == {"agent": "agent"} for n in notes)
        # A reload replays what the page missed: still no note.
        again = WidgetCustomer(str(client.make_url("/")))
        await again.connect(session_id, after="0-0")
        await client.post(f"/api/agent/conversations/{cid}/messages", json={"text": "Still here"})
        replayed = await again.until(lambda m: m.get("text") == "Still here")
        await again.close()
        assert any(m.get("text") == "Hello from the team" for m in replayed)
        assert not any("NOTE-ONLY" in (m.get("text") or "") for m in replayed)
    finally:
        await client.post(f"/api/agent/conversations/{cid}/resolve", json={})
        await customer.close()


async def test_a_note_never_reaches_a_rest_caller(hub_fake, redis_url):
    sender, cid = await rest_handoff(hub_fake)
    await login(hub_fake)
    try:
        await add_note(hub_fake, cid, SECRET_NOTE + " (queued)")
        assert (await hub_fake.post(f"/api/agent/conversations/{cid}/claim")).status == 200
        await add_note(hub_fake, cid)
        await hub_fake.post(f"/api/agent/conversations/{cid}/messages", json={"text": "I'm on it."})
        missed = (await (await hub_fake.get("/webhooks/rest/messages", params={"sender": sender})).json())[
            "messages"
        ]
        assert missed[-1]["text"] == "I'm on it."
        assert not any("NOTE-ONLY" in (m.get("text") or "") for m in missed)
        assert [e["text"] for e in await entries(redis_url, cid) if e["from"] == "note"] == [
            SECRET_NOTE + " (queued)",
            SECRET_NOTE,
        ]
    finally:
        await hub_fake.post(f"/api/agent/conversations/{cid}/resolve", json={})


async def test_the_console_gets_its_labels_in_both_languages_with_the_playbooks_remedy_names(hub_fake):
    assert (await hub_fake.get("/api/agent/labels")).status == 401
    await login(hub_fake)
    body = await (await hub_fake.get("/api/agent/labels")).json()
    labels = body["labels"]
    assert body["languages"] == ["en", "vi"]
    assert labels["complaint_types"]["complain_damaged"] == {"en": "Damaged item", "vi": "Hàng bị hư hỏng"}
    assert labels["reasons"]["customer_asked"]["en"] == "Customer asked for a person"
    assert labels["severity_reasons"]["repeat_contact"]["en"] == "second contact"
    assert labels["remedies"]["refund"]["en"] and labels["remedies"]["refund"]["vi"]
    assert body["first_response_minutes"] == {
        "critical": 2,
        "high": 5,
        "medium": 15,
        "low": 60,
        "unknown": 15,
    }


def test_a_label_missing_a_language_stops_the_hub_and_names_the_label(tmp_path, monkeypatch):
    broken = tmp_path / "console.yml"
    broken.write_text(
        console_labels.CONSOLE_FILE.read_text(encoding="utf-8").replace(
            'send: {en: "Send", vi: "Gửi"}', 'send: {en: "Send"}'
        ),
        encoding="utf-8",
    )
    monkeypatch.setattr(console_labels, "CONSOLE_FILE", broken)
    with pytest.raises(
        ValueError, match=r"console\.yml, line \d+ \(console\.labels\.ui\.send\.vi\): is missing"
    ):
        create_app(hub_settings("redis://127.0.0.1:1/0", "http://127.0.0.1:1"))


@pytest.mark.parametrize(
    "change, error",
    [
        (
            ("critical: 2,", "critical: 0,"),
            r"first_response_minutes\.critical\): must be a positive number of minutes",
        ),
        (
            ("critical: 2,", "critical: yes,"),
            r"first_response_minutes\.critical\): must be a positive number of minutes",
        ),
        (("    reasons:\n", "    reasons: []\n    unused:\n"), r"label group 'reasons'"),
        (
            ("      safety_risk: {", "      safety_risks: {"),
            r"labels\.severity_reasons\): lacks the packet's codes \['safety_risk'\]",
        ),
    ],
)
def test_targets_and_label_groups_are_checked_too(tmp_path, change, error):
    broken = tmp_path / "console.yml"
    broken.write_text(
        console_labels.CONSOLE_FILE.read_text(encoding="utf-8").replace(*change), encoding="utf-8"
    )
    with pytest.raises(ValueError, match=error):
        console_labels.ConsoleLabels(broken)


def test_the_queue_names_a_customer_only_once_verified():
    packet = a_packet(
        customer=Customer(name="Lan", verified=True, verified_by="shop_signature"),
        details={"order_id": "1048213"},
        repeat_contact=True,
        severity=Severity(level="high", reasons=["base", "gold_customer", "repeat_contact"]),
    )
    verified = Conversation("c1", packet=packet).summary()
    assert verified["customer_name"] == "Lan" and verified["order_id"] == "1048213"
    assert verified["severity_reasons"] == ["base", "gold_customer", "repeat_contact"]
    assert verified["repeat_contact"] is True
    guest = Conversation("c2", packet={**packet, "customer": {"name": "Lan", "verified": False}}).summary()
    assert guest["customer_name"] == "" and guest["repeat_contact"] is True
    fallback = Conversation(
        "c3",
        packet=assistant_away(
            "c3", "web", {"channel_id": "c3"}, "vi", "SR-ABCDEF", "timeout", "hello"
        ).payload(),
    )
    assert fallback.summary()["customer_name"] == "" and fallback.summary()["order_id"] == ""
    assert fallback.summary()["reason"] == "assistant_unavailable"


def test_a_packet_of_another_version_is_kept_but_not_read():
    older = {**a_packet(), "version": 1, "summary": {"en": "older words"}}
    conv = Conversation("c4", packet=older)
    assert conv.handoff() is None
    assert conv.summary()["summary"] == "" and conv.summary()["severity_reasons"] == []


async def test_the_alert_sound_is_a_small_wav_served_with_the_console(hub_fake):
    response = await hub_fake.get("/static/alert.wav")
    assert response.status == 200
    body = await response.read()
    assert body[:4] == b"RIFF" and body[8:12] == b"WAVE" and len(body) < 20_000
