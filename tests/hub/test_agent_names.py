"""Agents' display names: set with `python -m bot.console.passwords`, shown to customers ("Lan
from our team has joined", on an agent's reply, in the hand-back recap), never the login;
on Messenger an agent's reply goes out under a persona of that name, made through the
Personas API on first use and kept in Redis (a local fake Graph API)."""

import hashlib

from aiohttp import web
import pytest

from bot.console import passwords
from bot.console.passwords import agent_entry, hash_password
from bot.core.texts import Texts
from bot.settings import DEMO_AGENTS, parse_agents, parse_display_names
from contract import keys
from tests.hub.helpers import APP_SECRET as SECRET
from tests.hub.helpers import VERIFY, FakeGraph, batch, deliver, login, psid, rest_sender, text_event

PASSWORD = "named-agent-pass"
SPEC = ",".join(
    [
        DEMO_AGENTS,
        agent_entry("lan.ng", hash_password(PASSWORD), "Lan Nguyễn, CS"),
        agent_entry("minh", hash_password(PASSWORD)),
    ]
)


def test_passwords_prints_an_entry_with_the_display_name(monkeypatch, capsys):
    monkeypatch.setattr(passwords.getpass, "getpass", lambda prompt: PASSWORD)
    assert passwords.main(["lan.ng", "Lan Nguyễn, CS"]) == 0
    entry = capsys.readouterr().out.strip()
    assert parse_display_names(entry) == {"lan.ng": "Lan Nguyễn, CS"}
    assert passwords.check_password(PASSWORD, parse_agents(entry)["lan.ng"])
    assert passwords.main(["lan,ng"]) == 2 and passwords.main([]) == 2


async def claim_and_reply(client, name):
    sender = rest_sender()
    cid = f"rest-{sender}"
    assert (
        await client.post("/webhooks/rest/webhook", json={"sender": sender, "message": "/request_human"})
    ).status == 200
    await login(client, name, PASSWORD)
    assert (await client.post(f"/api/agent/conversations/{cid}/claim")).status == 200
    assert (
        await client.post(f"/api/agent/conversations/{cid}/messages", json={"text": "On it."})
    ).status == 200
    body = await (await client.get("/webhooks/rest/messages", params={"sender": sender})).json()
    await client.post(f"/api/agent/conversations/{cid}/resolve", json={})
    return body["messages"]


@pytest.mark.parametrize("login_name, shown", [("lan.ng", "Lan Nguyễn, CS"), ("minh", None)])
async def test_customers_see_the_display_name_never_the_login(make_hub_fake, login_name, shown):
    client = await make_hub_fake(agents=parse_agents(SPEC), display_names=parse_display_names(SPEC))
    messages = await claim_and_reply(client, login_name)
    shown = shown or Texts().text("agent_unnamed", "en")
    assert messages[-2]["text"] == Texts().text("agent_joined", "en", agent=shown)
    assert messages[-1] == {**messages[-1], "text": "On it.", "agent": shown}
    assert not any(login_name in str(m) for m in messages)


class PersonaGraph(FakeGraph):
    """The fake Graph API with the Personas API: a persona per name, or a refusal."""

    def __init__(self):
        super().__init__()
        self.personas = []
        self.refuse = False

    async def create_persona(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.personas.append(body)
        if self.refuse:
            return web.json_response({"error": {"message": "personas not enabled"}}, status=400)
        return web.json_response({"id": f"persona-{len(self.personas)}"})


@pytest.fixture
async def persona_graph(aiohttp_server):
    fake = PersonaGraph()
    app = web.Application()
    app.router.add_post("/me/messages", fake.messages)
    app.router.add_post("/me/personas", fake.create_persona)
    fake.url = str((await aiohttp_server(app)).make_url("")).rstrip("/")
    return fake


async def messenger_handoff(client, graph):
    user = psid()
    await deliver(client, batch([text_event(user, "I was charged twice for my last purchase")]))
    await deliver(client, batch([text_event(user, "just put me through to a real person please")]))
    return user, f"fb-{user}"


async def test_messenger_replies_go_out_under_a_persona_made_once(make_hub, persona_graph, redis):
    name = f"Thảo {rest_sender()}"  # a name of this test's own: no persona cached yet
    spec = ",".join([DEMO_AGENTS, agent_entry("thao", hash_password(PASSWORD), name)])
    settings = dict(
        fb_verify_token=VERIFY,
        fb_app_secret=SECRET,
        fb_page_token="page-token",
        fb_graph_url=persona_graph.url,
        agent_online_seconds=0.001,
        agents=parse_agents(spec),
        display_names=parse_display_names(spec),
    )
    first, second = await make_hub(**settings), await make_hub(**settings)  # two hub processes
    user, cid = await messenger_handoff(first, persona_graph)
    await login(first, "thao", PASSWORD)
    assert (await first.post(f"/api/agent/conversations/{cid}/claim")).status == 200
    for client in (first, first):
        assert (
            await client.post(f"/api/agent/conversations/{cid}/messages", json={"text": "Thảo here."})
        ).status == 200
    await login(second, "thao", PASSWORD)
    assert (
        await second.post(f"/api/agent/conversations/{cid}/messages", json={"text": "Still me."})
    ).status == 200
    assert persona_graph.personas == [{"name": name}]  # made once, for every process
    sent = [
        c for c in persona_graph.to(user) if c.get("message", {}).get("text") in ("Thảo here.", "Still me.")
    ]
    assert len(sent) == 3 and all(c["persona_id"] == "persona-1" for c in sent)
    joined = [
        c
        for c in persona_graph.to(user)
        if "from our team has joined" in c.get("message", {}).get("text", "")
    ]
    assert (
        joined and name in joined[-1]["message"]["text"] and "persona_id" not in joined[-1]
    )  # the Page speaks
    await first.post(f"/api/agent/conversations/{cid}/resolve", json={})
    await redis.delete(keys.messenger_persona(hashlib.sha256(name.encode()).hexdigest()[:24]))


async def test_a_page_that_refuses_personas_still_gets_the_reply(make_hub, persona_graph, redis):
    persona_graph.refuse = True
    name = f"Hà {rest_sender()}"
    spec = ",".join([DEMO_AGENTS, agent_entry("ha", hash_password(PASSWORD), name)])
    client = await make_hub(
        fb_verify_token=VERIFY,
        fb_app_secret=SECRET,
        fb_page_token="page-token",
        fb_graph_url=persona_graph.url,
        agent_online_seconds=0.001,
        agents=parse_agents(spec),
        display_names=parse_display_names(spec),
    )
    user, cid = await messenger_handoff(client, persona_graph)
    await login(client, "ha", PASSWORD)
    assert (await client.post(f"/api/agent/conversations/{cid}/claim")).status == 200
    for text in ("One", "Two"):
        assert (
            await client.post(f"/api/agent/conversations/{cid}/messages", json={"text": text})
        ).status == 200
    sent = [c for c in persona_graph.to(user) if c.get("message", {}).get("text") in ("One", "Two")]
    assert len(sent) == 2 and not any("persona_id" in c for c in sent)
    assert len(persona_graph.personas) == 1  # the refusal is remembered for a while
    await client.post(f"/api/agent/conversations/{cid}/resolve", json={})
    await redis.delete(keys.messenger_persona(hashlib.sha256(name.encode()).hexdigest()[:24]))
