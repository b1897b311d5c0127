"""Typed keys for what the console's sub-applications hold (the shared ones are in
web/appkeys.py)."""

from typing import Any, Dict, List

from aiohttp import web

from bot.aftercare.callback import CallBacks
from bot.aftercare.promises import Promises
from bot.console.labels import ConsoleLabels

LABELS = web.AppKey("labels", ConsoleLabels)  # the console's words (data/hub/console.yml)
CANNED: web.AppKey[List[Dict[str, Any]]] = web.AppKey("canned")  # data/hub/canned.yml, checked
CALLBACKS = web.AppKey("callbacks", CallBacks)
PROMISES = web.AppKey("promises", Promises)  # fulfilment tasks and telling the customer
