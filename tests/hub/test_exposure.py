"""What the hub exposes: the agent API only to the hub's own pages and current agents,
cookies that fit the deployment, and the demo agent only where it is harmless."""

from aiohttp import WSMsgType, web
import pytest

from bot.app import create_app, warn_about_agents
from bot.settings import DEMO_LOGIN, Settings, redact
from contract import keys
from tests.hub.helpers import login, rest_sender, without_intro


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


def test_the_demo_agent_only_when_asked_and_never_with_a_public_origin():
    # Loopback says nothing: a reverse proxy in front makes a loopback hub public.
    assert Settings.from_env({}).agents == {}
    assert Settings.from_env({"HUB_HOST": "127.0.0.1"}).agents == {}
    assert DEMO_LOGIN[0] in Settings.from_env({"HUB_DEMO": "1"}).agents
    assert DEMO_LOGIN[0] in Settings.from_env({"HUB_HOST": "0.0.0.0", "HUB_DEMO": "1"}).agents
    public = Settings.from_env({"HUB_DEMO": "1", "HUB_PUBLIC_ORIGIN": "https://shop.example"})
    assert public.agents == {} and not public.demo
    real = "ana:scrypt$16384$8$1$00$00"
    assert list(Settings.from_env({"HUB_HOST": "0.0.0.0", "HUB_AGENTS": real}).agents) == ["ana"]
    with pytest.raises(ValueError, match="HUB_PUBLIC_ORIGIN: must be an origin"):
        Settings.from_env({"HUB_PUBLIC_ORIGIN": "shop.example"})


async def test_a_hub_with_a_public_origin_and_nothing_else_is_closed(
    aiohttp_client, redis_url, fake_rasa, redis, caplog
):
    settings = Settings.from_env(
        {
            "HUB_PUBLIC_ORIGIN": "https://shop.example",
            # where this test's Redis and stand-in Rasa are: nothing else
            "REDIS_URL": redis_url,
            "RASA_URL": fake_rasa.url,
        }
    )
    warn_about_agents(settings)
    assert any("REST channel closed" in r.getMessage() for r in caplog.records)
    hub = await aiohttp_client(create_app(settings))
    # No demo agent, no demo sign-in.
    response = await hub.post("/api/agent/login", json={"name": DEMO_LOGIN[0], "password": DEMO_LOGIN[1]})
    assert response.status == 401
    assert (await hub.get("/demo/identity")).status == 404
    # REST is not open: 401, and nothing is stored.
    sender = rest_sender()
    response = await hub.post("/webhooks/rest/webhook", json={"sender": sender, "message": "hi"})
    assert response.status == 401 and "HUB_REST_TOKEN" in (await response.json())["error"]
    assert (await hub.get(f"/webhooks/rest/messages?sender={sender}")).status == 401
    assert not await redis.exists(keys.conversation(f"rest-{sender}")) and fake_rasa.received == []
    # Only its own host names: a DNS-rebinding page's is refused.
    for path in ("/", "/agent/login", "/api/agent/login/words", "/socket.io/?EIO=4&transport=polling"):
        refused = await hub.get(path, headers={"Host": "evil.test"})
        assert refused.status == 421, path
    assert (await hub.get("/", headers={"Host": "shop.example"})).status == 200
    assert (await hub.get("/", headers={"Host": "SHOP.example:443"})).status == 200
    assert (await hub.get("/health", headers={"Host": "10.0.0.7:8080"})).status == 200  # probes
    # With a token, REST is open to whoever has it.
    hub = await aiohttp_client(
        create_app(
            Settings.from_env(
                {
                    "HUB_PUBLIC_ORIGIN": "https://shop.example",
                    "HUB_REST_TOKEN": "t0ken",
                    "REDIS_URL": redis_url,
                    "RASA_URL": fake_rasa.url,
                }
            )
        )
    )
    response = await hub.post(
        "/webhooks/rest/webhook",
        json={"sender": sender, "message": "hi"},
        headers={"Authorization": "Bearer t0ken"},
    )
    assert response.status == 200 and without_intro(await response.json())[0]["text"] == "heard: hi"


async def test_a_local_hub_answers_only_to_local_host_names(make_hub_fake):
    hub = await make_hub_fake()
    port = hub.port
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", "LOCALHOST."):
        assert (await hub.get("/", headers={"Host": host})).status == 200, host
    for host in ("evil.test", f"evil.test:{port}", "127.0.0.1.evil.test", "192.168.1.5"):
        response = await hub.get("/", headers={"Host": host})
        assert response.status == 421 and "error" in await response.json(), host
    hub = await make_hub_fake(allowed_hosts="hub.internal, Other.Example")
    assert (await hub.get("/", headers={"Host": "hub.internal:8080"})).status == 200
    assert (await hub.get("/", headers={"Host": "other.example"})).status == 200


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


async def test_the_redis_password_is_never_logged_when_redis_is_unreachable(fake_rasa, caplog):
    from scripts.stack import free_port

    url = f"redis://:n0t-for-the-log@127.0.0.1:{free_port()}/0"  # nothing listens there
    settings = Settings.from_env({"REDIS_URL": url, "RASA_URL": fake_rasa.url})
    runner = web.AppRunner(create_app(settings))  # the hub's start-up, as python -m bot runs it
    try:
        with pytest.raises(RuntimeError) as refused:
            await runner.setup()
    finally:
        await runner.cleanup()
    assert "cannot reach Redis at 127.0.0.1:" in str(refused.value)  # where, never who
    said = [
        str(refused.value),
        *(r.getMessage() for r in caplog.records),
        *(r.exc_text or "" for r in caplog.records),
    ]
    assert not any("n0t-for-the-log" in line for line in said)


def test_secrets_in_urls_and_errors_are_redacted():
    assert redact("redis://:pw@10.0.0.5:6379/0") == "redis://:***@10.0.0.5:6379/0"
    assert redact("smtp://help%40shop:pa55@mail:587") == "smtp://help%40shop:***@mail:587"
    assert redact("POST https://graph/me/messages?access_token=EAAB&x=1 failed") == (
        "POST https://graph/me/messages?access_token=***&x=1 failed"
    )
    assert redact("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


async def test_the_page_token_is_never_logged_when_the_send_api_fails(aiohttp_server, caplog):
    import aiohttp
    from aiohttp import web

    from bot.channels.graph import GraphClient

    async def gateway_error(request):  # a gateway whose error page echoes the URL it was asked
        return web.Response(status=502, text=f"bad gateway for {request.path_qs}")

    app = web.Application()
    app.router.add_post("/me/messages", gateway_error)
    server = await aiohttp_server(app)
    async with aiohttp.ClientSession() as session:
        graph = GraphClient(session, str(server.make_url("")), "EAAB-page-token-secret", attempts=1)
        assert not await graph.send({"recipient": {"id": "1"}, "message": {"text": "hi"}})
    [line] = [r.getMessage() for r in caplog.records if "Send API" in r.getMessage()]
    assert "access_token=***" in line and "page-token-secret" not in line
