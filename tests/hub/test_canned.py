"""Canned replies: the owner's file is checked at start-up (a bad one is refused with
its line named), and the console gets them filled in for one conversation, in the
customer's language."""

import pytest

from bot.app import create_app
from bot.console import canned
from bot.core.conversation import Conversation
from contract.handoff import Customer
from tests.hub.helpers import a_packet, hub_settings, login, rest_sender

GOOD = """\
canned_replies:
  - id: hello
    title: {en: "Hello", vi: "Chào"}
    text:
      en: "Hi {name}, {agent} here about order {order_id} (case {case}). {{braces}} stay."
      vi: "Chào {name}, em là {agent}, về đơn {order_id} (hồ sơ {case})."
"""


def write(tmp_path, text):
    path = tmp_path / "canned.yml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "change, line, entry, error",
    [
        (("{case}). {{braces}}", "{case}). {voucher}"), 5, r"text\.en", r"unknown placeholder \{voucher\}"),
        (("{order_id} (hồ sơ", "{order_id!r} (hồ sơ"), 6, r"text\.vi", r"unknown placeholder \{order_id\}"),
        (("{{braces}}", "{braces"), 5, r"text\.en", r"broken braces"),
        ((' vi: "Chào"}', "}"), 3, r"title\.vi", r"is missing"),
        (
            ('vi: "Chào {name}, em là {agent}, về đơn {order_id} (hồ sơ {case})."', 'vi: "  "'),
            6,
            r"text\.vi",
            r"must be a non-empty text",
        ),
        (("id: hello", "id: hello world"), 2, r"\[0\]\.id", r"string does not match regex"),
        (("canned_replies:", "replies:"), 1, r"canned_replies", r"is missing"),
    ],
)
def test_a_bad_file_is_refused_with_its_line_and_what_is_wrong(tmp_path, change, line, entry, error):
    assert canned.load(write(tmp_path, GOOD))  # the file itself is fine
    path = write(tmp_path, GOOD.replace(*change))
    with pytest.raises(canned.CannedError, match=rf"canned\.yml, line {line} \(.*{entry}\): {error}"):
        canned.load(path)


def test_a_duplicate_id_names_the_second_one(tmp_path):
    twice = GOOD + GOOD.split("\n", 1)[1]
    with pytest.raises(
        canned.CannedError, match=r"line 7 \(canned_replies\.\[1\]\.id\): id 'hello' is used twice"
    ):
        canned.load(write(tmp_path, twice))


def test_the_hub_does_not_start_with_an_unknown_placeholder(tmp_path, monkeypatch):
    monkeypatch.setattr(
        canned, "CANNED_FILE", write(tmp_path, GOOD.replace("(hồ sơ {case})", "(hồ sơ {refund})"))
    )
    with pytest.raises(
        canned.CannedError,
        match=r"line 6 \(canned_replies\.\[0\]\.text\.vi\): unknown placeholder \{refund\}",
    ):
        create_app(hub_settings("redis://127.0.0.1:1/0", "http://127.0.0.1:1"))


def test_the_shipped_starter_set_is_bilingual_and_covers_the_usual_moments():
    replies = {r["id"]: r for r in canned.load()}
    assert {"apology", "follow_up", "photo", "refund_timing", "escalate", "closing"} <= set(replies)
    for reply in replies.values():
        assert reply["title"]["en"] != reply["title"]["vi"]


def test_placeholders_are_filled_from_the_conversation_in_the_customers_language(tmp_path):
    replies = canned.load(write(tmp_path, GOOD))
    packet = a_packet(
        case_ref="CASE-7", customer=Customer(name="Lan", verified=True), details={"order_id": "55501234"}
    )
    vi = canned.for_conversation(replies, Conversation("c1", language="vi", packet=packet), "Minh")
    assert vi["language"] == "vi"
    assert vi["replies"][0]["text"] == "Chào Lan, em là Minh, về đơn 55501234 (hồ sơ CASE-7)."
    assert vi["replies"][0]["missing"] == []
    # A name the customer only claimed is not used; what is unknown stays for the agent.
    guest = {**packet, "customer": {"name": "Lan", "verified": False}, "case_ref": ""}
    en = canned.for_conversation(replies, Conversation("c2", language="en", packet=guest), "Minh")
    assert en["replies"][0]["text"] == (
        "Hi {name}, Minh here about order 55501234 (case {case}). {braces} stay."
    )
    assert en["replies"][0]["missing"] == ["name", "case"]


async def test_the_console_gets_them_for_a_conversation_only_when_signed_in(make_hub_fake):
    client = await make_hub_fake()
    sender = rest_sender()
    cid = f"rest-{sender}"
    assert (
        await client.post("/webhooks/rest/webhook", json={"sender": sender, "message": "/request_human"})
    ).status == 200
    assert (await client.get(f"/api/agent/conversations/{cid}/canned")).status == 401
    await login(client)
    assert (await client.get("/api/agent/conversations/rest-nobody/canned")).status == 404
    body = await (await client.get(f"/api/agent/conversations/{cid}/canned")).json()
    assert body["language"] == "en"
    apology = next(r for r in body["replies"] if r["id"] == "apology")
    assert apology["title"] == canned.load()[0]["title"]
    assert "agent" not in apology["missing"] and "Hi {name}, I'm Mai from the team." in apology["text"]
    assert apology["missing"] == ["name"]  # the stand-in's packet names no verified customer
    await client.post(f"/api/agent/conversations/{cid}/claim")
    await client.post(f"/api/agent/conversations/{cid}/resolve", json={})
