"""The console's pages and the words they show.

GET /agent                    the console (bot/static/agent.html and .css, console/*.js)
GET /api/agent/labels         its words: data/hub/console.yml with the playbook's
                              remedy labels and order statuses (console/labels.py)
GET /api/agent/login/words    the sign-in page's words, the one thing served before
                              sign-in (the `login` group; bot/static/login.js picks
                              the language)
"""

from aiohttp import web

from bot.console.appkeys import LABELS
from bot.paths import STATIC
from bot.web.middlewares import public


async def console_page(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "agent.html")


async def labels(request: web.Request) -> web.Response:
    return web.json_response(request.config_dict[LABELS].as_json())


@public
async def login_words(request: web.Request) -> web.Response:
    return web.json_response({"words": request.config_dict[LABELS].labels.get("login", {})})
