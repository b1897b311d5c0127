"""The aftercare wing's route: a link from a follow-up email reopens the conversation.

POST /api/widget/resume   {"token"} -> {"session_id"} (aftercare/resume.py)
"""

from aiohttp import web

from bot.aftercare import resume


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/widget/resume", resume.resume)
