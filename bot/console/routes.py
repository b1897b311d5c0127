"""The console's routes, as two sub-applications behind require_agent (every route but
the sign-in ones, marked `public`, needs a signed-in agent):

- the API, mounted at /api/agent: JSON, 401 without an agent; a browser's POST must
  come from the hub's own origin (403 otherwise);
- the pages, mounted at /agent: without an agent they send the browser to /agent/login.

docs/api.md lists every route with its body and answers.
"""

from aiohttp import web

from bot.console import (
    callbacks,
    canned,
    conversations,
    help,
    pages,
    proof_lock,
    reports,
    search,
    tasks,
    transfer,
)
from bot.console.auth import (
    PASSWORD_CHECKS,
    PasswordChecks,
    current_agent,
    login,
    login_page,
    logout,
    origin_allowed,
)
from bot.console.live import live
from bot.web.middlewares import require_agent, same_origin_posts

API = "/api/agent"
PAGES = "/agent"


def api() -> web.Application:
    app = web.Application(middlewares=[same_origin_posts(origin_allowed), require_agent(current_agent)])
    add = app.router
    add.add_post("/login", login)
    add.add_post("/logout", logout)
    add.add_get("/login/words", pages.login_words)
    add.add_get("/labels", pages.labels)
    add.add_get("/ws", live)
    add.add_get("/queue", conversations.queue)
    add.add_get("/conversations/{cid}", conversations.conversation)
    add.add_post("/conversations/{cid}/claim", conversations.claim)
    add.add_post("/conversations/{cid}/messages", conversations.send_message)
    add.add_post("/conversations/{cid}/resolve", conversations.resolve)
    add.add_post("/conversations/{cid}/handback", conversations.hand_back)
    add.add_post("/conversations/{cid}/forget", conversations.forget)
    add.add_post("/conversations/{cid}/notes", conversations.add_note)
    add.add_post("/conversations/{cid}/transfer", transfer.transfer)
    add.add_post("/conversations/{cid}/release", transfer.release)
    add.add_get("/conversations/{cid}/canned", canned.canned_for)
    add.add_get("/conversations/{cid}/customer", search.panel)
    add.add_post("/conversations/{cid}/proof-lock/lift", proof_lock.lift)
    add.add_get("/agents", transfer.online_agents)
    add.add_get("/search", search.search)
    add.add_get("/help", help.search_help)
    add.add_get("/callbacks", callbacks.callbacks)
    add.add_post("/callbacks/{cid}", callbacks.callback_outcome)
    add.add_get("/tasks", tasks.task_list)
    add.add_post("/tasks/{id}/claim", tasks.claim)
    add.add_post("/tasks/{id}/close", tasks.close)
    add.add_get("/reports", reports.reports_json)
    add.add_get("/reports.csv", reports.reports_csv)
    return app


def pages_app() -> web.Application:
    app = web.Application(middlewares=[require_agent(current_agent, sign_in_page=f"{PAGES}/login")])
    app.router.add_get("", pages.console_page)
    app.router.add_get("/login", login_page)
    app.router.add_get("/reports", reports.reports_page)
    return app


def mount(app: web.Application) -> None:
    app[PASSWORD_CHECKS] = PasswordChecks()  # the API's handlers find it through config_dict
    app.add_subapp(API, api())
    app.add_subapp(PAGES, pages_app())
