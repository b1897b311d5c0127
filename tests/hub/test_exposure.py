"""What the hub exposes: the agent API only to the hub's own pages and current agents,
cookies that fit the deployment, and the demo agent only where it is harmless."""

from aiohttp import WSMsgType

from bot.settings import DEMO_LOGIN, Settings
from tests.hub.helpers import login


async def test_a_cross_site_post_to_the_agent_api_is_refused(make_hub_fake):
    hub = await make_hub_fake()
    await login(hub)
    own = str(hub.make_url("")).rstrip("/")
    refused = await hub.post(
        "/api/agent/conversations/rest-nobody/claim", headers={"Origin": "https://evil.example"}, data="x=1"
    )
    assert refused.status == 403 and "error" in await refused.json()
    # The console's own pages (and Origin-less callers) reach the handler.
    same = await hub.post("/api/agent/conversations/rest-nobody/claim", headers={"Origin": own})
    assert same.status == 404
    cross_login = await hub.post(
        "/api/agent/login",
        headers={"Origin": "https://evil.example"},
        json={"name": DEMO_LOGIN[0], "password": DEMO_LOGIN[1]},
    )
    assert cross_login.status == 403


async def test_an_agent_removed_from_the_list_is_out_at_once(make_hub_fake):
    hub = await make_hub_fake()
    await login(hub)
    assert (await hub.get("/api/agent/queue")).status == 200
    # The same Redis and secret, restarted without that agent: the session no longer works.
    other = await make_hub_fake(agents={})
    cookie = hub.session.cookie_jar.filter_cookies(hub.make_url("/"))["sr_agent"].value
    response = await other.get("/api/agent/queue", headers={"Cookie": f"sr_agent={cookie}"})
    assert response.status == 401


async def test_the_agent_cookie_is_secure_behind_https(make_hub_fake):
    plain = await login(await make_hub_fake())
    assert "Secure" not in plain.headers["Set-Cookie"]
    hub = await make_hub_fake(public_origin="https://shop.example")
    response = await hub.post("/api/agent/login", json={"name": DEMO_LOGIN[0], "password": DEMO_LOGIN[1]})
    assert response.status == 200 and "Secure" in response.headers["Set-Cookie"]


def test_the_demo_agent_only_on_loopback_or_when_asked():
    assert DEMO_LOGIN[0] in Settings.from_env({}).agents
    assert DEMO_LOGIN[0] in Settings.from_env({"HUB_HOST": "::1"}).agents
    assert Settings.from_env({"HUB_HOST": "0.0.0.0"}).agents == {}
    assert DEMO_LOGIN[0] in Settings.from_env({"HUB_HOST": "0.0.0.0", "HUB_DEMO": "1"}).agents
    real = "ana:scrypt$16384$8$1$00$00"
    assert list(Settings.from_env({"HUB_HOST": "0.0.0.0", "HUB_AGENTS": real}).agents) == ["ana"]


async def test_every_page_and_answer_carries_the_security_headers(make_hub_fake):
    hub = await make_hub_fake()
    for path in ("/", "/agent/login", "/health", "/static/shop.js", "/api/agent/queue"):
        response = await hub.get(path)
        csp = response.headers.get("Content-Security-Policy", "")
        assert "script-src 'self'" in csp and "frame-ancestors" in csp and "object-src 'none'" in csp, path
        assert response.headers.get("X-Content-Type-Options") == "nosniff", path
        assert response.headers.get("Referrer-Policy") == "same-origin", path


async def test_logging_out_closes_that_sessions_console_socket(make_hub_fake):
    hub = await make_hub_fake()
    await login(hub)
    origin = str(hub.make_url("")).rstrip("/")
    ws = await hub.ws_connect("/api/agent/ws", headers={"Origin": origin})
    assert (await hub.post("/api/agent/logout", headers={"Origin": origin})).status == 200
    message = await ws.receive(timeout=10)
    while message.type == WSMsgType.TEXT:  # other consoles' events may come first
        message = await ws.receive(timeout=10)
    assert message.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED)
