"""The channels' routes: the shop page with the widget (and its socket.io, attached by
bot/app.py), the REST channel, the Messenger webhook, and the demo sign-in.

    GET  /                               the demo shop page with the chat widget
    GET  /static/...                     its scripts and styles (and the console's)
    GET  /help/{lang}/{page}             the shop's help pages (channels/help_page.py)
    GET  /demo/identity                  the demo customer, signed (HUB_DEMO only; else 404)
    POST /api/widget/end                 "End chat": the widget's session id is revoked
    POST /webhooks/rest/webhook          REST chat (channels/rest.py)
    GET  /webhooks/rest/messages         what a REST sender missed
    GET|POST /webhooks/facebook/webhook  Messenger (channels/messenger.py; 404 when off)
    GET|POST /webhooks/zalo/webhook      Zalo OA events (channels/zalo.py; 404 when off)
"""

from typing import Optional

from aiohttp import web

from bot.channels import identity, rest
from bot.channels.help_page import help_page
from bot.channels.identity import DemoSignIn
from bot.channels.messenger import MessengerChannel
from bot.channels.zalo import ZaloChannel
from bot.paths import STATIC
from bot.web.appkeys import REDIS, SESSIONS, SHOP_SECRET
from bot.web.http import read_json
from contract import memory

MESSENGER: web.AppKey[Optional[MessengerChannel]] = web.AppKey("messenger")  # None when off
ZALO: web.AppKey[Optional[ZaloChannel]] = web.AppKey("zalo")  # None when off
DEMO: web.AppKey[Optional[DemoSignIn]] = web.AppKey("demo")  # when HUB_DEMO is on


async def shop_page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "shop.html")


async def demo_identity(request: web.Request) -> web.Response:
    demo = request.app[DEMO]
    if demo is None:
        return web.json_response({"error": "the demo sign-in is off"}, status=404)
    return web.json_response(
        identity.demo_identity(demo, request.app[SHOP_SECRET]), headers={"Cache-Control": "no-store"}
    )


async def end_chat(request: web.Request) -> web.Response:
    """The shop page's "End chat": the session id is revoked (its sockets closed), and the
    conversation's proof of who the customer is ends; the page forgets the id. The next
    visitor of this browser starts a new conversation, a guest."""
    body = await read_json(request)
    cid = await request.app[SESSIONS].revoke(body.get("session_id"))
    if cid is not None:
        await memory.end_proof(request.app[REDIS], cid)
    return web.json_response({"ended": cid is not None})


async def facebook_webhook(request: web.Request) -> web.StreamResponse:
    channel = request.app[MESSENGER]
    if channel is None:
        return web.json_response(
            {
                "error": "the Messenger channel is off: set FB_VERIFY_TOKEN, FB_APP_SECRET and FB_PAGE_ACCESS_TOKEN"
            },
            status=404,
        )
    return await (channel.verify(request) if request.method == "GET" else channel.receive(request))


async def zalo_webhook(request: web.Request) -> web.StreamResponse:
    channel = request.app[ZALO]
    if channel is None:
        return web.json_response(
            {
                "error": "the Zalo channel is off: set ZALO_APP_ID, ZALO_OA_SECRET, ZALO_APP_SECRET and "
                "ZALO_REFRESH_TOKEN"
            },
            status=404,
        )
    if request.method == "GET":  # a reachability check: events come by POST
        return web.json_response({"channel": "zalo", "events": "POST, signed with X-ZEvent-Signature"})
    return await channel.receive(request)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", shop_page)
    app.router.add_static("/static/", STATIC, follow_symlinks=False)
    app.router.add_get("/help/{lang}/{page}", help_page)
    app.router.add_get("/demo/identity", demo_identity)
    app.router.add_post("/api/widget/end", end_chat)
    app.router.add_post("/webhooks/rest/webhook", rest.webhook)
    app.router.add_get("/webhooks/rest/messages", rest.missed)
    app.router.add_route("GET", "/webhooks/facebook/webhook", facebook_webhook)
    app.router.add_route("POST", "/webhooks/facebook/webhook", facebook_webhook)
    app.router.add_route("GET", "/webhooks/zalo/webhook", zalo_webhook)
    app.router.add_route("POST", "/webhooks/zalo/webhook", zalo_webhook)
