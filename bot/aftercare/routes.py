"""The aftercare wing's routes: a link from a follow-up email reopens the conversation,
and the owner's one-time link proves an order for it.

POST /api/widget/resume   {"token", "session_id"?, "replace"?} -> {"session_id"} (aftercare/resume.py)
POST /api/widget/prove    {"token", "session_id"} -> {"session_id"} (aftercare/owner_link.py)
"""

from aiohttp import web

from bot.aftercare import owner_link, resume


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/widget/resume", resume.resume)
    app.router.add_post("/api/widget/prove", owner_link.prove)
