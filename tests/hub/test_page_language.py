"""The page's language reaches the assistant (issue #10, item 7): the shop page puts its
`lang` in the widget's customData (bot/static/shop.js), the hub passes it on as
`metadata.page_language`, and the first greeting is in that language. Also: the
"which of these?" buttons' payloads reach Rasa as the intents they name."""

from contract.text import has_vietnamese_marks
from tests.hub.helpers import WidgetCustomer, rest_sender


async def _widget_says(hub, text, custom_data):
    customer = WidgetCustomer(str(hub.make_url("/")))
    cid = (await customer.connect()).rpartition(".")[0]
    try:
        await customer.say(text, custom_data)
        intro = await customer.intro(timeout=60)
        reply = await customer.next(timeout=60)
    finally:
        await customer.close()
    # The hub's first line is in the page's language too, until the customer writes.
    assert has_vietnamese_marks(intro["text"]) == (custom_data.get("lang") == "vi"), intro
    return cid, reply


async def test_the_widget_passes_the_page_language_on_and_ignores_anything_else(make_hub_fake, fake_rasa):
    hub = await make_hub_fake()
    vi, _ = await _widget_says(hub, "/greet", {"lang": "vi"})
    assert fake_rasa.sent_for(vi)[0]["metadata"]["page_language"] == "vi"
    for odd in ({"lang": "fr"}, {"lang": ["vi"]}, {"lang": None}, {}):
        cid, reply = await _widget_says(hub, "/greet", odd)
        assert reply["text"] == "heard: /greet"  # never an error
        assert "page_language" not in fake_rasa.sent_for(cid)[0]["metadata"], odd


async def test_rest_callers_may_give_the_page_language(make_hub_fake, fake_rasa):
    hub = await make_hub_fake()
    sender = rest_sender()
    response = await hub.post(
        "/webhooks/rest/webhook",
        json={"sender": sender, "message": "/greet", "metadata": {"page_language": "vi"}},
    )
    assert response.status == 200
    assert fake_rasa.sent_for(f"rest-{sender}")[0]["metadata"]["page_language"] == "vi"
    response = await hub.post(
        "/webhooks/rest/webhook",
        json={"sender": sender + "x", "message": "/greet", "metadata": {"page_language": 7}},
    )
    assert response.status == 200


async def test_the_which_of_these_buttons_reach_rasa_as_intents(make_hub_fake, fake_rasa):
    hub = await make_hub_fake()
    sender = rest_sender()
    await hub.post("/webhooks/rest/webhook", json={"sender": sender, "message": "/complain_defect"})
    await hub.post("/webhooks/rest/webhook", json={"sender": sender, "message": "/agent_handback"})
    sent = [body["message"] for body in fake_rasa.sent_for(f"rest-{sender}")]
    assert sent == ["/complain_defect", "agent_handback"]  # the hub's own intents stay the hub's


async def test_a_vietnamese_page_is_greeted_in_vietnamese_by_the_real_assistant(hub):
    _, reply = await _widget_says(hub, "/greet", {"lang": "vi"})
    assert has_vietnamese_marks(reply["text"]), reply
    _, reply = await _widget_says(hub, "/greet", {"lang": "en"})
    assert not has_vietnamese_marks(reply["text"]) and reply["text"].startswith("Hi"), reply
