"""What the conversation tests share: a customer talking to Rasa's REST channel as the
hub would (its metadata: channel and identity), and the replies it gets."""

import uuid

import requests

from scripts.stack import Stack


class Customer:
    def __init__(self, stack: Stack, sender: str = "", channel: str = "web", shop_customer: str = ""):
        self.url = f"{stack.rasa_url}/webhooks/rest/webhook"
        self.sender = sender or f"it-{uuid.uuid4().hex[:10]}"
        self.channel = channel
        self.identity = {"channel_id": self.sender}
        if shop_customer:
            self.identity["shop_customer"] = shop_customer

    def say(self, message: str):
        response = requests.post(
            self.url,
            timeout=60,
            json={
                "sender": self.sender,
                "message": message,
                "metadata": {"channel": self.channel, "identity": self.identity},
            },
        )
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
