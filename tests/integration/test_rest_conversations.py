"""Whole conversations over Rasa's REST channel, against the really trained model,
the live action server and a real Redis: what a customer actually sees."""

import json
import uuid

import pytest
import requests

from nlu.text import has_vietnamese_marks
from scripts.stack import Stack

pytestmark = pytest.mark.integration


@pytest.fixture
def rasa(assistant):
    return assistant


class Customer:
    def __init__(self, stack: Stack, sender: str = "", channel: str = "web"):
        self.url = f"{stack.rasa_url}/webhooks/rest/webhook"
        self.sender = sender or f"it-{uuid.uuid4().hex[:10]}"
        self.channel = channel

    def say(self, message: str):
        response = requests.post(self.url, timeout=60, json={
            "sender": self.sender, "message": message, "metadata": {"channel": self.channel}})
        response.raise_for_status()
        return Replies(response.json())


class Replies(list):
    @property
    def texts(self):
        return [r["text"] for r in self if r.get("text")]

    @property
    def all_text(self):
        return " ".join(self.texts)

    @property
    def buttons(self):
        return [b for r in self for b in r.get("buttons") or []]

    @property
    def handoff(self):
        return next((r["custom"]["handoff"] for r in self if "handoff" in (r.get("custom") or {})), None)


def test_en_details_in_the_first_message_then_decline_then_alternative(rasa):
    customer = Customer(rasa)
    first = customer.say("my order #1048213 was meant to arrive on Monday and it's still not here, "
                         "this is the second time")
    assert "sorry" in first.all_text.lower()
    assert "come back to us about it again" in first.all_text  # repeat contact noticed
    assert "Which order" not in first.all_text  # never asked again
    assert "order 1048213" in first.all_text and "in transit" in first.all_text
    offered = [b["payload"] for b in first.buttons]
    assert offered[-1] == "/request_human" and len(offered) == 3

    declined = customer.say("neither, I just want my money back")
    assert "approval" in declined.all_text  # the wish is beyond the bot: said plainly...
    alternatives = [b for b in declined.buttons if b["payload"] != "/request_human"]
    assert 1 <= len(alternatives) <= 2  # ...and concrete alternatives, never a bare no

    done = customer.say(alternatives[0]["payload"])
    assert done.texts[0].startswith("Done:") and "SR-" in done.texts[0]
    assert len([b for b in done.buttons if b["payload"].startswith("/rate")]) == 5
    thanks = customer.say('/rate{"rating": "5"}')
    assert "Thank you" in thanks.all_text


def test_vi_without_diacritics_gets_vietnamese_replies_and_what_they_ask_for(rasa):
    customer = Customer(rasa)
    first = customer.say("shop oi hang giao toi bi vo het roi, don 2207718")
    assert first.texts and all(has_vietnamese_marks(t) for t in first.texts)
    assert "2207718" in first.all_text and "Bộ ly thủy tinh" in first.all_text
    # "No need to exchange, give me my money back": within the bot's limit, so granted.
    done = customer.say("ko can doi, tra tien lai cho toi")
    assert all(has_vietnamese_marks(t) for t in done.texts)
    assert done.texts[0].startswith("Xong rồi") and "hoàn tiền" in done.texts[0].lower()
    # A bare score is a rating, and does not flip the language.
    thanks = customer.say("5")
    assert thanks.texts and all(has_vietnamese_marks(t) for t in thanks.texts)


def test_vi_a_declined_remedy_brings_alternatives(rasa):
    customer = Customer(rasa)
    customer.say("sp giao toi bi vo, don 2207718")
    declined = customer.say("không, tôi không muốn vậy")
    assert declined.texts[0].startswith("Dạ em hiểu")
    choices = [b for b in declined.buttons if b["payload"].startswith("/choose_remedy")]
    assert 1 <= len(choices) <= 2
    done = customer.say("ok dc")
    assert done.texts[0].startswith("Xong rồi")


def test_a_person_is_honoured_mid_form_with_the_full_context(rasa):
    customer = Customer(rasa)
    first = customer.say("I was charged twice for my last purchase")
    assert "Which order" in first.all_text
    handed = customer.say("just put me through to a real person please")
    assert "passing your conversation to a colleague" in handed.all_text
    packet = handed.handoff
    assert packet["reason"] == "customer_asked" and packet["language"] == "en"
    assert packet["intents"] == ["complain_billing", "request_human"]
    assert packet["severity"]["level"] in ("medium", "high")
    assert packet["channel"] == "web" and "No order number yet." in packet["summary"]["en"]
    assert [line["from"] for line in packet["transcript"]][:2] == ["customer", "bot"]
    json.dumps(packet)  # the hub stores it as JSON


def test_an_invalid_order_number_is_explained_and_never_loops(rasa):
    customer = Customer(rasa)
    customer.say("the shoes you sent are the wrong size")
    too_short = customer.say("12345")
    assert "6 to 10 digits" in too_short.all_text and "5" in too_short.all_text
    unknown = customer.say("99999999")
    assert "couldn't find order 99999999" in unknown.all_text
    assert "carry on without it" in unknown.all_text
    assert "Which order" not in unknown.all_text.split("carry on without it")[-1]
    assert any(b["payload"].startswith("/choose_remedy") for b in unknown.buttons)


def test_a_returning_customer_on_another_channel_is_not_asked_again(rasa):
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    web = Customer(rasa, channel="web")
    web.say(f"my parcel is late, order 1048213, my email is {email}")
    messenger = Customer(rasa, sender=f"fb-{uuid.uuid4().hex[:8]}", channel="facebook")
    back = messenger.say(f"hi, it's me again, {email}")
    assert "Welcome back" in back.all_text and "1048213" in back.all_text
    resumed = messenger.say("yes")
    assert "order 1048213" in resumed.all_text and "Which order" not in resumed.all_text
