"""Typed keys for what the app holds (aiohttp's web.AppKey)."""

import asyncio
from typing import Optional

import aiohttp
from aiohttp import web
from redis import asyncio as aioredis

from bot.callback import CallBacks
from bot.console_labels import ConsoleLabels
from bot.conversations import ConversationStore
from bot.events import EventHub
from bot.identity import DemoSignIn
from bot.messenger import MessengerChannel
from bot.router import Router
from bot.settings import Settings
from bot.texts import Texts
from bot.widget import WidgetChannel

SETTINGS = web.AppKey("settings", Settings)
REDIS = web.AppKey("redis", aioredis.Redis)
HTTP = web.AppKey("http", aiohttp.ClientSession)
STORE = web.AppKey("store", ConversationStore)
ROUTER = web.AppKey("router", Router)
TEXTS = web.AppKey("texts", Texts)
LABELS = web.AppKey("labels", ConsoleLabels)  # the console's words (data/hub/console.yml)
EVENTS = web.AppKey("events", EventHub)
SECRET = web.AppKey("secret", str)
SHOP_SECRET = web.AppKey("shop_secret", str)  # verifies shop-signed identities ("" = none)
DEMO: web.AppKey[Optional[DemoSignIn]] = web.AppKey("demo")  # when HUB_DEMO is on
WIDGET = web.AppKey("widget", WidgetChannel)
MESSENGER: web.AppKey[Optional[MessengerChannel]] = web.AppKey("messenger")  # None when off
CALLBACKS = web.AppKey("callbacks", CallBacks)
SCRYPT_SLOTS = web.AppKey("scrypt_slots", asyncio.Semaphore)  # concurrent password checks
