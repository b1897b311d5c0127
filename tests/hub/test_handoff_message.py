"""A handoff reaches the customer as one message: the assistant's handoff line, then the
hub's word on when someone replies (queue or hours), which only the hub knows. Through
the really trained model, in both languages; the transcript holds what was sent, once."""

import pytest

from contract import keys
from tests.hub.helpers import INTROS, rest_sender


@pytest.mark.parametrize(
    "words, hub_words",
    [
        ("can I talk to your manager please", "Our team isn't online right now"),
        ("cho tôi nói chuyện với quản lý của shop", "Hiện chưa có nhân viên trực tuyến"),
    ],
)
async def test_a_handoff_is_one_message(hub, redis, words, hub_words):
    sender = rest_sender()
    response = await hub.post("/webhooks/rest/webhook", json={"sender": sender, "message": words})
    assert response.status == 200
    intro, *replies = await response.json()  # the hub's first line of any conversation, then the reply
    assert intro["text"] in INTROS
    texts = [r["text"] for r in replies if r.get("text")]
    assert len(texts) == 1, texts
    [text] = texts
    assert hub_words in text and not text.startswith(hub_words)  # the assistant's line leads
    assert any(r.get("buttons") for r in replies)  # the hub's follow-up choices come with it
    entries = [e for _, e in await redis.xrange(keys.transcript(f"rest-{sender}"))]
    assert [e["text"] for e in entries if e["from"] == "bot"] == [intro["text"], text]
