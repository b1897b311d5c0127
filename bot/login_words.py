"""The sign-in page's words, served before sign-in (GET /api/agent/login/words): only the
`login` group of data/hub/console.yml, in both languages (bot/static/login.js picks one)."""

from aiohttp import web

from bot.appkeys import LABELS


async def login_words(request: web.Request) -> web.Response:
    return web.json_response({"words": request.app[LABELS].labels.get("login", {})})


def setup(app: web.Application) -> None:
    app.router.add_get("/api/agent/login/words", login_words)
