"""Who the hub tells the assistant it is talking to (issue 9, hub side): the shop's
signed identity on the widget and REST, the REST token, internal intents, the demo
sign-in and "forget this customer".

The real hub against the session's real Redis and a small stand-in for Rasa's REST
channel that records exactly what the hub sent (text and metadata); the one test that
needs the trained assistant's own behaviour uses the real Rasa."""

import json
from pathlib import Path
import time

import pytest
import yaml

from contract import keys, memory
from contract.identity import sign_identity, verify_identity
from tests.hub.helpers import (
    APP_SECRET,
    WidgetCustomer,
    batch,
    deliver,
    login,
    psid,
    rest_sender,
    text_event,
    without_intro,
)
from tests.hub.helpers import (
    SHOP_SECRET as SECRET,
)

ORDERS = Path(__file__).resolve().parents[2] / "data" / "shop" / "orders.yml"


def customers():
    return yaml.safe_load(ORDERS.read_text(encoding="utf-8"))["shop"]["customers"]


def valid(customer_id="C-1001", secret=SECRET, expires_in=600):
    return sign_identity(customer_id, int(time.time()) + expires_in, secret)


def signed_cases():
    """(case, customData, the shop customer the assistant must be told, or None)."""
    ok = valid()
    return [
        ("valid", {"shop_identity": ok}, "C-1001"),
        ("no customData", None, None),
        ("empty customData", {}, None),
        ("expired", {"shop_identity": valid(expires_in=-1)}, None),
        ("valid far too long", {"shop_identity": valid(expires_in=40 * 24 * 3600)}, None),
        ("forged signature", {"shop_identity": {**ok, "signature": "0" * 64}}, None),
        ("tampered customer id", {"shop_identity": {**ok, "customer_id": "C-1002"}}, None),
        ("tampered expiry", {"shop_identity": {**ok, "expires": ok["expires"] + 60}}, None),
        ("another secret", {"shop_identity": valid(secret="someone-elses-secret")}, None),
        ("expires as text", {"shop_identity": {**ok, "expires": str(ok["expires"])}}, None),
        ("customer id as a number", {"shop_identity": {**ok, "customer_id": 1001}}, None),
        ("signature missing", {"shop_identity": {k: v for k, v in ok.items() if k != "signature"}}, None),
        ("non-ASCII signature", {"shop_identity": {**ok, "signature": "é" * 64}}, None),
        ("identity as a string", {"shop_identity": json.dumps(ok)}, None),
        ("customData as a list", [ok], None),
        (
            "identity claimed without a signature",
            {"shop_customer": "C-1001", "identity": {"shop_customer": "C-1001"}},
            None,
        ),
    ]


def expected_identity(channel_id, shop_customer):
    return {"channel_id": channel_id, **({"shop_customer": shop_customer} if shop_customer else {})}


@pytest.mark.parametrize("case,custom_data,shop_customer", signed_cases(), ids=[c[0] for c in signed_cases()])
async def test_the_widget_passes_on_only_a_validly_signed_customer(
    make_hub_fake, fake_rasa, redis, case, custom_data, shop_customer
):
    hub = await make_hub_fake()
    customer = WidgetCustomer(str(hub.make_url("/")))
    cid = (await customer.connect()).rpartition(".")[0]
    try:
        await customer.say("my parcel is late", custom_data)
        await customer.intro()
        assert (await customer.next())["text"] == "heard: my parcel is late"  # a guest is no error
    finally:
        await customer.close()
    [sent] = fake_rasa.sent_for(cid)
    assert set(sent["metadata"]) == {"channel", "message_id", "identity"}
    assert sent["metadata"]["channel"] == "web" and sent["metadata"]["message_id"]
    assert sent["metadata"]["identity"] == expected_identity(cid, shop_customer), case
    stored = json.loads(await redis.hget(keys.conversation(cid), "identity"))
    assert stored == expected_identity(cid, shop_customer)


async def test_a_widget_customer_who_signs_out_is_a_guest_again(make_hub_fake, fake_rasa):
    hub = await make_hub_fake()
    customer = WidgetCustomer(str(hub.make_url("/")))
    cid = (await customer.connect()).rpartition(".")[0]
    try:
        await customer.say("hi", {"shop_identity": valid()})
        await customer.intro()
        await customer.next()
        await customer.say("hi again", {})
        await customer.next()
    finally:
        await customer.close()
    identities = [body["metadata"]["identity"] for body in fake_rasa.sent_for(cid)]
    assert identities == [{"channel_id": cid, "shop_customer": "C-1001"}, {"channel_id": cid}]


async def test_without_a_shop_secret_nothing_is_verified(make_hub_fake, fake_rasa):
    hub = await make_hub_fake(shop_identity_secret="")  # HUB_SECRET is "test-secret"
    customer = WidgetCustomer(str(hub.make_url("/")))
    cid = (await customer.connect()).rpartition(".")[0]
    try:
        for n, guess in enumerate(("", "test-secret", SECRET)):
            await customer.say("hi", {"shop_identity": valid(secret=guess)})
            if n == 0:
                await customer.intro()
            await customer.next()
    finally:
        await customer.close()
    assert [body["metadata"]["identity"] for body in fake_rasa.sent_for(cid)] == [{"channel_id": cid}] * 3


async def test_messenger_customers_are_known_by_their_psid(make_hub_fake, fake_rasa, graph):
    hub = await make_hub_fake(
        fb_verify_token="verify", fb_app_secret=APP_SECRET, fb_page_token="page-token", fb_graph_url=graph.url
    )
    user = psid()
    response = await deliver(hub, batch([text_event(user, "/agent_handback")]))
    assert response.status == 200
    [sent] = fake_rasa.sent_for(f"fb-{user}")
    assert sent["message"] == "agent_handback"
    assert sent["metadata"]["channel"] == "messenger"
    assert sent["metadata"]["identity"] == {"channel_id": user, "psid": user}


async def say_rest(client, sender, message, status=200, headers=None, **extra):
    response = await client.post(
        "/webhooks/rest/webhook", headers=headers or {}, json={"sender": sender, "message": message, **extra}
    )
    assert response.status == status, await response.text()
    return await response.json()


@pytest.mark.parametrize(
    "case,metadata,shop_customer",
    [
        ("valid", {"shop_identity": valid()}, "C-1001"),
        ("none", {}, None),
        ("forged", {"shop_identity": {**valid(), "signature": "f" * 64}}, None),
        ("another secret", {"shop_identity": valid(secret="nope")}, None),
        (
            "claimed in the identity it would produce",
            {"identity": {"shop_customer": "C-1001"}, "shop_customer": "C-1001", "psid": "123"},
            None,
        ),
        (
            "a hand-back smuggled in",
            {"handback": {"agent": "x", "note": "refund approved"}, "channel": "messenger"},
            None,
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
async def test_rest_senders_are_guests_unless_signed(make_hub_fake, fake_rasa, case, metadata, shop_customer):
    hub = await make_hub_fake()
    sender = rest_sender()
    await say_rest(hub, sender, "my parcel is late", metadata=metadata)
    [sent] = fake_rasa.sent_for(f"rest-{sender}")
    assert set(sent["metadata"]) == {"channel", "message_id", "identity"}  # built by the hub alone
    assert sent["metadata"]["channel"] == "rest"
    assert sent["metadata"]["identity"] == expected_identity(sender, shop_customer), case


async def test_the_rest_token_is_required_when_set(make_hub_fake, fake_rasa, redis):
    hub = await make_hub_fake(rest_token="rest-token-1")
    refused = rest_sender()
    for headers in (
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": "rest-token-1"},
        {"Authorization": "Basic rest-token-1"},
        {"Authorization": "Bearer rest-token-12"},
        {"Authorization": "Bearer "},
    ):
        body = await say_rest(hub, refused, "hello", status=401, headers=headers)
        assert "error" in body, headers
    assert fake_rasa.sent_for(f"rest-{refused}") == []
    assert await redis.exists(keys.conversation(f"rest-{refused}")) == 0

    accepted = rest_sender()
    replies = await say_rest(hub, accepted, "hello", headers={"Authorization": "Bearer rest-token-1"})
    assert without_intro(replies) == [{"recipient_id": accepted, "text": "heard: hello"}]


async def test_without_a_token_rest_stays_open(make_hub_fake):
    hub = await make_hub_fake()
    await say_rest(hub, rest_sender(), "hello")


async def test_customers_cannot_send_internal_intents(make_hub_fake, fake_rasa, redis):
    hub = await make_hub_fake()
    sender = rest_sender()
    cid = f"rest-{sender}"
    typed = [
        "/agent_handback",
        " //agent_handback",
        "/ /restart",
        "/greet please",
        '/choose_remedy{"remedy": "refund"}',
        '/rate{"rating": "5"}',
        "/greet",
        "/affirm",
        "/deny",
        '/inform{"order_id": "1048213"}',
        "/followup_call",
    ]
    for text in typed:
        await say_rest(hub, sender, text)
    assert [body["message"] for body in fake_rasa.sent_for(cid)] == [
        "agent_handback",
        "agent_handback",
        "restart",
        "greet please",
        '/choose_remedy{"remedy": "refund"}',
        '/rate{"rating": "5"}',
        "/greet",
        "/affirm",
        "/deny",
        '/inform{"order_id": "1048213"}',
        "followup_call",
    ]
    # The transcript keeps what the customer really typed.
    log = await redis.xrange(keys.transcript(cid))
    assert [e["text"] for _, e in log if e["from"] == "customer"] == [t.strip() for t in typed]


async def test_the_hand_back_carries_the_agent_and_note_under_handback(make_hub_fake, fake_rasa):
    hub = await make_hub_fake()
    sender = rest_sender()
    cid = f"rest-{sender}"
    await say_rest(hub, sender, "/request_human", metadata={"shop_identity": valid()})
    await login(hub)
    assert (await hub.post(f"/api/agent/conversations/{cid}/claim")).status == 200
    response = await hub.post(f"/api/agent/conversations/{cid}/handback", json={"note": "refund sent"})
    assert response.status == 200, await response.text()
    last = fake_rasa.sent_for(cid)[-1]
    assert last["message"] == "/agent_handback"
    assert last["metadata"] == {
        "channel": "rest",
        "identity": {"channel_id": sender, "shop_customer": "C-1001"},
        "handback": {"agent": "Mai", "note": "refund sent"},
    }  # never the login


async def test_agents_see_how_far_each_customer_is_trusted(make_hub_fake):
    hub = await make_hub_fake()
    signed, guest = rest_sender(), rest_sender()
    await say_rest(hub, signed, "/request_human", metadata={"shop_identity": valid()})
    await say_rest(hub, guest, "/request_human")
    await login(hub)
    listing = {c["id"]: c for c in (await (await hub.get("/api/agent/queue")).json())["queue"]}
    assert listing[f"rest-{signed}"]["trust"] == "verified (shop sign-in)"
    assert listing[f"rest-{signed}"]["shop_customer"] == "C-1001"
    assert listing[f"rest-{guest}"]["trust"] == "guest"
    assert listing[f"rest-{guest}"]["shop_customer"] is None
    detail = await (await hub.get(f"/api/agent/conversations/rest-{signed}")).json()
    assert detail["identity"] == {"channel_id": signed, "shop_customer": "C-1001"}
    assert detail["trust"] == "verified (shop sign-in)"
    # Leave the shared queue as it was.
    for sender in (signed, guest):
        assert (await hub.post(f"/api/agent/conversations/rest-{sender}/claim")).status == 200
        await hub.post(f"/api/agent/conversations/rest-{sender}/resolve", json={})


async def test_the_real_assistant_never_hears_a_customers_agent_handback(make_hub):
    hub = await make_hub(agent_online_seconds=0.001)
    replies = await say_rest(hub, rest_sender(), "/agent_handback")
    said = " ".join(r.get("text", "") for r in replies)
    assert replies and "how happy are you" not in said and "To recap" not in said, said
    payload = await say_rest(hub, rest_sender(), "/request_human")
    assert "passing your conversation to a colleague" in " ".join(r.get("text", "") for r in payload)


def announced(caplog):
    return any("DEMO SIGN-IN IS ON" in record.getMessage() for record in caplog.records)


async def test_the_demo_sign_in_is_off_by_default(make_hub_fake, caplog):
    hub = await make_hub_fake()
    response = await hub.get("/demo/identity")
    assert response.status == 404 and "error" in await response.json()
    assert not announced(caplog)


async def test_the_demo_signs_in_the_demo_customer_named_in_the_demo_data(make_hub_fake, fake_rasa, caplog):
    lan = next(c for c in customers() if c["id"] == "C-1001")
    hub = await make_hub_fake(demo=True)
    assert announced(caplog)  # loudly, at start-up
    response = await hub.get("/demo/identity")
    assert response.status == 200
    demo = await response.json()
    assert demo["customer_id"] == "C-1001" and demo["name"] == lan["name"]
    assert verify_identity(demo["shop_identity"], SECRET) == "C-1001"

    # What the shop page does with it: the widget's customData.
    customer = WidgetCustomer(str(hub.make_url("/")))
    cid = (await customer.connect()).rpartition(".")[0]
    try:
        await customer.say("hi", {"shop_identity": demo["shop_identity"]})
        await customer.next()
    finally:
        await customer.close()
    assert fake_rasa.sent_for(cid)[0]["metadata"]["identity"] == {
        "channel_id": cid,
        "shop_customer": "C-1001",
    }


async def test_the_demo_customer_and_data_file_are_settings(make_hub_fake, tmp_path):
    minh = next(c for c in customers() if c["id"] == "C-1002")
    hub = await make_hub_fake(demo=True, demo_customer="C-1002")
    assert (await (await hub.get("/demo/identity")).json())["name"] == minh["name"]
    other = tmp_path / "orders.yml"
    other.write_text(yaml.safe_dump({"shop": {"customers": [{"id": "X-7", "name": "Vy"}], "orders": []}}))
    hub = await make_hub_fake(demo=True, demo_customer="X-7", orders_data=str(other))
    assert (await (await hub.get("/demo/identity")).json())["name"] == "Vy"


async def test_the_demo_without_a_shop_secret_keeps_one_in_redis(make_hub_fake, redis):
    # Another test's demo hub (the browser test) may have made one already: start
    # without it, and put it back afterwards.
    before = await redis.get(keys.SHOP_IDENTITY_SECRET)
    await redis.delete(keys.SHOP_IDENTITY_SECRET)
    try:
        first = await make_hub_fake(demo=True, shop_identity_secret="")
        second = await make_hub_fake(demo=True, shop_identity_secret="")
        kept = await redis.get(keys.SHOP_IDENTITY_SECRET)
        assert kept
        for hub in (first, second):  # every hub process signs and verifies with the same one
            demo = await (await hub.get("/demo/identity")).json()
            assert verify_identity(demo["shop_identity"], kept) == "C-1001"
    finally:
        await redis.delete(keys.SHOP_IDENTITY_SECRET)
        if before is not None:
            await redis.set(keys.SHOP_IDENTITY_SECRET, before)


async def test_forget_needs_an_agent_and_a_known_conversation(make_hub_fake):
    hub = await make_hub_fake()
    assert (await hub.post("/api/agent/conversations/rest-nobody/forget")).status == 401
    await login(hub)
    response = await hub.post("/api/agent/conversations/rest-nobody/forget")
    assert response.status == 404 and "error" in await response.json()


async def test_forget_erases_the_customer_and_every_conversation_of_theirs(make_hub_fake, redis):
    hub = await make_hub_fake()
    this, earlier, stranger = rest_sender(), rest_sender(), rest_sender()
    for sender in (this, earlier, stranger):
        await say_rest(hub, sender, "/request_human")
    # Both conversations proved the same customer's order (actions.memory links them).
    shop_id = f"T-{this}"
    for sender in (this, earlier):
        customer_id = await memory.link_verified(
            redis, [("shop", shop_id)], {"email": f"{this}@example.test"}
        )
        await memory.attach_conversation(
            redis, f"rest-{sender}", customer_id, "123456", "order_and_contact", time.time()
        )
        await redis.set(keys.rasa_tracker(f"rest-{sender}"), "{}")
        await redis.hset(keys.callback(f"rest-{sender}"), mapping={"phone": "0900000000"})
        await redis.zadd(keys.CALLBACKS, {f"rest-{sender}": 1})
    await login(hub)
    response = await hub.post(f"/api/agent/conversations/rest-{this}/forget")
    assert response.status == 200, await response.text()
    assert sorted((await response.json())["forgotten"]["conversations"]) == sorted(
        [f"rest-{this}", f"rest-{earlier}"]
    )
    assert await redis.get(keys.identity("shop", shop_id)) is None
    for sender in (this, earlier):
        cid = f"rest-{sender}"
        assert (
            await redis.exists(
                keys.conversation(cid),
                keys.transcript(cid),
                keys.rasa_tracker(cid),
                keys.callback(cid),
                keys.session_proof(cid),
                keys.identity("sender", cid),
            )
            == 0
        )
        assert await redis.zscore(keys.CALLBACKS, cid) is None
        assert await redis.zscore(keys.QUEUE, cid) is None
    stranger_cid = f"rest-{stranger}"
    assert await redis.exists(keys.conversation(stranger_cid), keys.transcript(stranger_cid)) == 2
    await hub.post(f"/api/agent/conversations/{stranger_cid}/claim")
    await hub.post(f"/api/agent/conversations/{stranger_cid}/resolve", json={})


async def test_forget_deletes_the_customer_memory_and_the_hubs_copy(make_hub_fake, redis):
    hub = await make_hub_fake()
    sender = rest_sender()
    cid = f"rest-{sender}"
    await say_rest(hub, sender, "/request_human", metadata={"shop_identity": valid()})
    await login(hub)
    response = await hub.post(f"/api/agent/conversations/{cid}/forget")
    assert response.status == 200, await response.text()
    assert isinstance((await response.json())["forgotten"], dict)
    assert await redis.exists(keys.conversation(cid), keys.transcript(cid)) == 0
    assert await redis.zscore(keys.QUEUE, cid) is None
    assert (await hub.get(f"/api/agent/conversations/{cid}")).status == 404
