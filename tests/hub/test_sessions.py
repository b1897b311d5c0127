"""Widget sessions with a lifetime (bot/core/sessions.py): ids are records on the hub, so
they rotate when the conversation proves who the customer is and when a resume link is
used, and "End chat" revokes them; a revoked id starts a new conversation. Resume links
work once, end the conversation's other sockets, and never replace another conversation
in the browser without asking. Against the real hub and Redis (and, for the proof, the
really trained assistant)."""

import asyncio
import time

from bot.aftercare.resume import resume_token
from bot.channels.identity import client_tag
from bot.core.sessions import conversation_named, session_hash
from bot.web.appkeys import SESSIONS
from contract import keys, memory
from tests.helpers import eventually
from tests.hub.helpers import WidgetCustomer
from tests.shop import new_customer

SECRET = "test-secret"  # tests/hub/conftest.py hub_settings


def conversation(session_id: str) -> str:
    named = conversation_named(session_id)  # what our benchmarks read (benchmarks/customers.py)
    assert named == session_id.rpartition(".")[0]
    return named


class Socket(WidgetCustomer):
    """A widget socket that notices when the hub closes it."""

    def __init__(self, url: str):
        super().__init__(url)
        self.closed = asyncio.Event()
        self.sio.on("disconnect", self._closed)

    async def _closed(self, *_):
        self.closed.set()

    async def until_closed(self, timeout=20):
        await asyncio.wait_for(self.closed.wait(), timeout)


async def opened(client, session_id=None) -> Socket:
    socket = Socket(str(client.make_url("/")))
    await socket.connect(session_id=session_id)
    return socket


async def test_end_chat_revokes_the_id_and_an_old_id_starts_a_new_conversation(hub_fake, redis):
    first = await opened(hub_fake)
    try:
        session_id = first.session_id
        await first.say("hi")
        await first.next()
        response = await hub_fake.post("/api/widget/end", json={"session_id": session_id})
        assert response.status == 200 and (await response.json()) == {"ended": True}
        await first.until_closed()  # its socket is closed too
        assert await redis.exists(keys.widget_session(session_hash(session_id))) == 0
    finally:
        await first.close()
    again = await opened(hub_fake, session_id)
    try:
        assert conversation(again.session_id) != conversation(session_id)
        assert (await (await hub_fake.post("/api/widget/end", json={"session_id": session_id})).json()) == {
            "ended": False
        }
    finally:
        await again.close()


async def test_a_reload_keeps_its_id_and_forgetting_the_conversation_revokes_it(hub_fake, redis):
    first = await opened(hub_fake)
    await first.close()
    kept = await opened(hub_fake, first.session_id)
    await kept.close()
    assert kept.session_id == first.session_id  # a reload is not a new session
    await memory.forget_conversations(redis, [conversation(first.session_id)])
    after = await opened(hub_fake, first.session_id)
    await after.close()
    assert conversation(after.session_id) != conversation(first.session_id)


async def test_a_resume_link_works_once_rotates_the_id_and_ends_the_other_sockets(hub_fake):
    left = await opened(hub_fake)  # the customer's laptop, still open
    cid = conversation(left.session_id)
    token = resume_token(cid, SECRET)
    try:
        response = await hub_fake.post("/api/widget/resume", json={"token": token})
        assert response.status == 200
        new_id = (await response.json())["session_id"]
        assert conversation(new_id) == cid and new_id != left.session_id
        await left.until_closed()
        # Once only.
        again = await hub_fake.post("/api/widget/resume", json={"token": token})
        assert again.status == 400 and "used" in (await again.json())["error"]
    finally:
        await left.close()
    # The old id is revoked; the new one opens the conversation.
    old = await opened(hub_fake, left.session_id)
    new = await opened(hub_fake, new_id)
    try:
        assert conversation(old.session_id) != cid
        assert new.session_id == new_id
    finally:
        await old.close()
        await new.close()


async def test_a_resume_link_never_silently_replaces_another_conversation_in_the_browser(hub_fake):
    mine = await opened(hub_fake)  # this browser's own conversation
    theirs = await opened(hub_fake)  # the conversation a link (perhaps someone else's) opens
    await theirs.close()
    token = resume_token(conversation(theirs.session_id), SECRET)
    try:
        asked = await hub_fake.post(
            "/api/widget/resume", json={"token": token, "session_id": mine.session_id}
        )
        assert asked.status == 409 and (await asked.json())["ask"] is True
        # Not used by asking: the customer keeps their chat, untouched.
        assert not mine.closed.is_set()
        await mine.say("still mine")
        await mine.intro()
        assert (await mine.next())["text"] == "heard: still mine"
        # Only when the customer chooses to open it: then this browser's conversation ends here.
        chosen = await hub_fake.post(
            "/api/widget/resume", json={"token": token, "session_id": mine.session_id, "replace": True}
        )
        assert chosen.status == 200
        assert conversation((await chosen.json())["session_id"]) == conversation(theirs.session_id)
        await mine.until_closed()
    finally:
        await mine.close()
    # The same browser's own conversation, resumed: no question, just a new id.
    own = await opened(hub_fake)
    try:
        token = resume_token(conversation(own.session_id), SECRET)
        answer = await hub_fake.post(
            "/api/widget/resume", json={"token": token, "session_id": own.session_id}
        )
        assert answer.status == 200
        assert conversation((await answer.json())["session_id"]) == conversation(own.session_id)
    finally:
        await own.close()


async def test_proving_the_order_rotates_the_id_and_ends_the_other_sockets(make_hub, redis_url, redis):
    lan = new_customer(redis_url, orders=(("in_transit", 700_000),))
    client = await make_hub(agent_online_seconds=0.001)
    tab = await opened(client)
    cid, before = conversation(tab.session_id), tab.session_id
    other = await opened(client, before)  # the same id in another tab (or someone else's hands)
    try:
        await tab.say(f"my parcel is late, order {lan.order.order_id}, my email is {lan.customer.email}")
        await tab.until(lambda m: "that matches" in m.get("text", ""))
        await eventually(lambda: tab.session_id != before, 20, "a new session id")
        assert conversation(tab.session_id) == cid  # the same conversation, a new id
        await other.until_closed()
        assert await redis.exists(keys.widget_session(session_hash(before))) == 0
        proof = await memory.session_proof(redis, cid, time.time())
        assert proof.customer_id == await redis.get(keys.identity("shop", lan.customer.id))
    finally:
        await tab.close()
        await other.close()
    old = await opened(client, before)
    again = await opened(client, tab.session_id)
    try:
        assert conversation(old.session_id) != cid  # whoever kept the old id: a new conversation
        assert again.session_id == tab.session_id
    finally:
        await old.close()
        await again.close()


async def test_a_message_racing_the_rotation_of_its_own_id_is_taken(hub_fake, fake_rasa, redis):
    """The customer writes again while their id rotates (their order just proved): the
    message's check of the old id lands after the rotation revoked it. It is this
    socket's own rotation: the message is taken under the new id, the socket stays."""
    tab = await opened(hub_fake)
    cid, before = conversation(tab.session_id), tab.session_id
    customer_id = await memory.link_verified(redis, [("shop", f"T-{cid}")], {"email": f"{cid}@example.test"})
    await memory.attach_conversation(redis, cid, customer_id, "123456", "order_and_contact", time.time())
    sessions = hub_fake.server.app[SESSIONS]
    real_alive, calls = sessions.alive, []

    async def alive_after_the_rotation(digest):
        calls.append(digest)
        if len(calls) == 2:  # the second message's check: held until the id has rotated
            await eventually(lambda: tab.session_id != before, 20, "the id rotated")
        return await real_alive(digest)

    sessions.alive = alive_after_the_rotation
    try:
        await tab.say("first")
        await tab.say("second")  # in flight before the first turn's rotation
        heard = await tab.until(lambda m: m.get("text") == "heard: second")
        assert heard and not tab.closed.is_set()
        assert calls[1] == session_hash(before)  # it was checked against the revoked id
        assert [body["message"] for body in fake_rasa.sent_for(cid)] == ["first", "second"]
    finally:
        sessions.alive = real_alive
        await tab.close()


def test_the_assistant_is_given_a_keyed_hash_of_a_client_address_never_loopback():
    tag = client_tag("203.0.113.7", SECRET)
    assert len(tag) == 32 and "203" not in tag and tag == client_tag("203.0.113.7", SECRET)
    assert tag != client_tag("203.0.113.8", SECRET) and tag != client_tag("203.0.113.7", "another")
    assert client_tag("127.0.0.1", SECRET) == client_tag("::1", SECRET) == client_tag("", SECRET) == ""
