"""Typed keys for what the app holds (aiohttp's web.AppKey), for the parts every wing
shares. A wing's own objects have their keys in that wing (console/routes.py,
channels/routes.py). Handlers of a sub-application read them with
`request.config_dict[KEY]`, which looks through the parent app too."""

from typing import Dict

import aiohttp
from aiohttp import web
from redis import asyncio as aioredis

from bot.core.channel import Channel
from bot.core.conversations import ConversationStore
from bot.core.events import EventHub
from bot.core.limits import Limits
from bot.core.outbox import Outbox
from bot.core.rasa_client import RasaClient
from bot.core.sessions import Sessions
from bot.core.texts import Texts
from bot.core.turn import Turn
from bot.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
REDIS = web.AppKey("redis", aioredis.Redis)
HTTP = web.AppKey("http", aiohttp.ClientSession)
SECRET = web.AppKey("secret", str)  # signs agent cookies and resume links
SHOP_SECRET = web.AppKey("shop_secret", str)  # verifies shop-signed identities ("" = none)
STORE = web.AppKey("store", ConversationStore)
RASA = web.AppKey("rasa", RasaClient)
TEXTS = web.AppKey("texts", Texts)
EVENTS = web.AppKey("events", EventHub)
TURN = web.AppKey("turn", Turn)
SESSIONS = web.AppKey("sessions", Sessions)  # the widget's session ids
OUTBOX = web.AppKey("outbox", Outbox)
LIMITS = web.AppKey("limits", Limits)  # the token buckets and byte budget (core/limits.py)
CHANNELS: web.AppKey[Dict[str, Channel]] = web.AppKey("channels")  # by name, for the outbox and /health
