"""Typed keys for what the app holds (aiohttp's web.AppKey)."""

import asyncio

import aiohttp
from aiohttp import web

from bot.console_labels import ConsoleLabels
from bot.conversations import ConversationStore
from bot.events import EventHub
from bot.router import Router
from bot.settings import Settings
from bot.texts import Texts

SETTINGS = web.AppKey("settings", Settings)
REDIS = web.AppKey("redis", object)
HTTP = web.AppKey("http", aiohttp.ClientSession)
STORE = web.AppKey("store", ConversationStore)
ROUTER = web.AppKey("router", Router)
TEXTS = web.AppKey("texts", Texts)
LABELS = web.AppKey("labels", ConsoleLabels)  # the console's words (data/hub/console.yml)
EVENTS = web.AppKey("events", EventHub)
SECRET = web.AppKey("secret", str)
SHOP_SECRET = web.AppKey("shop_secret", str)  # verifies shop-signed identities ("" = none)
DEMO = web.AppKey("demo", object)  # the DemoSignIn when HUB_DEMO is on, else None
WIDGET = web.AppKey("widget", object)
MESSENGER = web.AppKey("messenger", object)  # the MessengerChannel, or None when off
CALLBACKS = web.AppKey("callbacks", object)  # bot.callback.CallBacks
SCRYPT_SLOTS = web.AppKey("scrypt_slots", asyncio.Semaphore)  # concurrent password checks
