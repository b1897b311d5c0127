"""Zalo Official Account against a local fake of Zalo's OpenAPI (the consultation message
endpoint and the OAuth token endpoint, which rotates refresh tokens and refuses a reused
one), with webhook events shaped as Zalo documents them: the real hub and Redis, the
trained Rasa for the whole conversation and the stand-in (tests/hub/conftest.py) for the
channel's own logic. Every value here is made up for the tests."""

import asyncio
import hashlib
import json
import re
import time
import uuid

from aiohttp import web
import pytest

from bot.channels.routes import ZALO
from bot.channels.zalo_api import TEXT_LIMIT, chosen, to_zalo
from bot.core import windows
from contract import keys
from tests.helpers import eventually
from tests.hub.helpers import PACKET, login, until_emailed
from tests.shop import new_customer

APP_ID = "4096123456789012345"
OA_ID = "2718281828459045235"
OA_SECRET = "oa-secret-for-tests"
APP_SECRET = "app-secret-for-tests"
FROM = "Mộc Home <help@mochome.example>"


class FakeZalo:
    """Zalo's OpenAPI as documented: POST /v3.0/oa/message/cs (header access_token) and
    POST /v4/oa/access_token (header secret_key, form app_id, grant_type, refresh_token)."""

    def __init__(self):
        self.refresh_token = f"rt0-{uuid.uuid4().hex}"  # what the OA's authorisation gave
        self.valid = set()  # access tokens Zalo accepts now
        self.sent = []  # every accepted consultation message
        self.token_requests = 0
        self.refused_refresh = 0  # requests with a refresh token already used (or unknown)
        self.token_gate = None  # when set by a test: token answers wait for it
        self.closed_for = set()  # user ids Zalo refuses with "not interacted" (-230)
        self.refuse_buttons = False  # answer -201 to messages with buttons

    async def token(self, request: web.Request) -> web.Response:
        form = await request.post()
        self.token_requests += 1
        if self.token_gate is not None:
            await self.token_gate.wait()
        if request.headers.get("secret_key") != APP_SECRET or form.get("app_id") != APP_ID:
            return web.json_response({"error": -14002, "error_name": "Invalid app"})
        if form.get("grant_type") != "refresh_token" or form.get("refresh_token") != self.refresh_token:
            self.refused_refresh += 1
            return web.json_response({"error": -14014, "error_name": "Invalid refresh token"})
        access = f"at-{uuid.uuid4().hex}"
        self.refresh_token = f"rt-{uuid.uuid4().hex}"  # the old one never works again
        self.valid.add(access)
        return web.json_response(
            {"access_token": access, "refresh_token": self.refresh_token, "expires_in": "90000"}
        )

    async def message(self, request: web.Request) -> web.Response:
        body = await request.json()
        if request.headers.get("access_token") not in self.valid:
            return web.json_response({"error": -216, "message": "Access token is invalid"})
        user = body["recipient"]["user_id"]
        if user in self.closed_for:
            return web.json_response(
                {"error": -230, "message": "User has not interacted with the OA in the past 7 days"}
            )
        if self.refuse_buttons and "attachment" in body["message"] and "text" in body["message"]:
            return web.json_response({"error": -201, "message": "attachment is invalid"})
        self.sent.append(
            {"user": user, "reply_to": body["recipient"].get("message_id"), "message": body["message"]}
        )
        return web.json_response(
            {"error": 0, "message": "Success", "data": {"message_id": uuid.uuid4().hex, "user_id": user}}
        )

    def to(self, user):
        return [s["message"] for s in self.sent if s["user"] == user]

    def texts(self, user):
        return [m["text"] for m in self.to(user) if "text" in m]


@pytest.fixture
async def zalo_api(aiohttp_server):
    fake = FakeZalo()
    app = web.Application()
    app.router.add_post("/v3.0/oa/message/cs", fake.message)
    app.router.add_post("/v4/oa/access_token", fake.token)
    server = await aiohttp_server(app)
    fake.url = str(server.make_url("")).rstrip("/")
    return fake


def zalo_settings(fake, **more):
    return {
        **dict(
            zalo_app_id=APP_ID,
            zalo_oa_secret=OA_SECRET,
            zalo_app_secret=APP_SECRET,
            zalo_refresh_token=fake.refresh_token,
            zalo_api_url=fake.url,
            zalo_oauth_url=fake.url,
            zalo_per_ip_minute=0,
        ),
        **more,
    }


@pytest.fixture
async def zl(make_hub, zalo_api):
    """The hub with the trained assistant and Zalo on."""
    return await make_hub(agent_online_seconds=0.001, **zalo_settings(zalo_api))


@pytest.fixture
async def zl_fake(make_hub_fake, zalo_api):
    """The same, on the stand-in Rasa: for the channel's own logic."""
    return await make_hub_fake(**zalo_settings(zalo_api))


def user_id():
    return str(uuid.uuid4().int)[:18]


def now_ms():
    return int(time.time() * 1000)


def text_event(user, text, msg_id=None, timestamp=None):
    return {
        "app_id": APP_ID,
        "user_id_by_app": "55" + user[:10],
        "event_name": "user_send_text",
        "sender": {"id": user},
        "recipient": {"id": OA_ID},
        "message": {"msg_id": msg_id or uuid.uuid4().hex, "text": text},
        "timestamp": str(timestamp or now_ms()),
    }


def mac(raw: bytes, timestamp: str) -> str:
    """Zalo's formula, written out here: sha256 of app id + body + timestamp + OA secret."""
    return hashlib.sha256(APP_ID.encode() + raw + timestamp.encode() + OA_SECRET.encode()).hexdigest()


async def post(client, event, signature=None, raw=None):
    raw = raw if raw is not None else json.dumps(event, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json"}
    if signature is None:
        signature = "mac=" + mac(raw, event["timestamp"])
    if signature:
        headers["X-ZEvent-Signature"] = signature
    return await client.post("/webhooks/zalo/webhook", data=raw, headers=headers)


async def deliver(client, event, **signing):
    response = await post(client, event, **signing)
    channel = client.server.app[ZALO]
    if channel is not None:
        await channel.drain()
    return response


def cid_of(user):
    return f"zalo-{user}"


async def nothing_stored(redis, fake_rasa, zalo_api, user):
    assert await redis.exists(keys.conversation(cid_of(user)), keys.transcript(cid_of(user))) == 0
    assert fake_rasa.sent_for(cid_of(user)) == [] and zalo_api.to(user) == []


# --- the signature --------------------------------------------------------------------


async def test_golden_signature_vectors(zl_fake, fake_rasa, zalo_api, redis):
    user = user_id()
    event = text_event(user, "xin chao shop")
    raw = json.dumps(event).encode()
    # A vector checked by hand: the formula over fixed bytes gives this digest.
    fixed = b'{"timestamp":"1700000000000"}'
    assert (
        mac(fixed, "1700000000000")
        == hashlib.sha256(
            b'4096123456789012345{"timestamp":"1700000000000"}1700000000000oa-secret-for-tests'
        ).hexdigest()
    )

    assert (await post(zl_fake, event, signature="")).status == 401  # missing header
    assert (await post(zl_fake, event, signature="mac=" + "0" * 64)).status == 401  # wrong MAC
    assert (
        await post(
            zl_fake,
            event,
            signature="mac="
            + hashlib.sha256(  # the app secret, not the OA's
                APP_ID.encode() + raw + event["timestamp"].encode() + APP_SECRET.encode()
            ).hexdigest(),
        )
    ).status == 401
    tampered = raw.replace(b"xin chao shop", b"xin chao SHOP")
    assert (
        await post(zl_fake, event, signature="mac=" + mac(raw, event["timestamp"]), raw=tampered)
    ).status == 401
    stale = text_event(user, "xin chao shop", timestamp=now_ms() - 3 * 3600 * 1000)
    assert (await post(zl_fake, stale)).status == 401  # rightly signed, but too old: a replay
    await zl_fake.server.app[ZALO].drain()
    await nothing_stored(redis, fake_rasa, zalo_api, user)

    response = await deliver(zl_fake, event)  # the valid one
    assert response.status == 200
    assert [b["message"] for b in fake_rasa.sent_for(cid_of(user))] == ["xin chao shop"]
    assert any("heard: xin chao shop" in t for t in zalo_api.texts(user))


async def test_off_without_settings_and_says_so(make_hub_fake, caplog):
    off = await make_hub_fake()
    response = await off.post("/webhooks/zalo/webhook", data=b"{}")
    assert response.status == 404 and "ZALO_OA_SECRET" in (await response.json())["error"]
    assert any("Zalo channel off" in r.getMessage() for r in caplog.records)


async def test_signed_but_malformed_events_do_nothing(zl_fake, zalo_api, redis, caplog):
    """Shapes Zalo never sends, correctly signed (the fuzz phase found an event_name list)."""
    user = user_id()
    odd = [
        {"event_name": ["user_send_text"], "sender": {"id": user}, "message": {"msg_id": "m0", "text": "hi"}},
        {
            "event_name": "user_send_location",
            "sender": {"id": user},
            "message": {
                "msg_id": uuid.uuid4().hex,
                "attachments": [{"type": "location", "payload": [1, 2]}, 5],
            },
        },
        {"event_name": "user_send_text", "sender": {"id": "a:b"}, "message": {"msg_id": "m1", "text": "hi"}},
        {"event_name": "user_send_text", "sender": {"id": user}, "message": {"msg_id": 7, "text": "hi"}},
        {"event_name": "user_send_text", "sender": 5, "message": "hi"},
        {"event_name": "follow", "follower": {"id": user}},
        {"event_name": "user_seen_message", "sender": {"id": OA_ID}, "recipient": {"id": user}},
    ]
    for body in odd:
        body["timestamp"] = str(now_ms())
        assert (await deliver(zl_fake, body)).status == 200
    assert await redis.exists("sr:conv:zalo-a:b") == 0
    said = zalo_api.texts(user)  # only the odd location: the assistant says what it is, and thanks
    assert len(said) == 2 and "automated assistant" in said[0] and "I can only read text here" in said[1]
    assert not any("could not be processed" in r.getMessage() for r in caplog.records)
    stamp = str(now_ms())
    raw = b'{"timestamp": "' + stamp.encode() + b'", "event_name": '  # signed, but not JSON
    assert (await post(zl_fake, {"timestamp": stamp}, raw=raw)).status == 400


# --- acknowledgement, de-duplication ----------------------------------------------------


async def test_acknowledged_at_once_while_rasa_is_slow_and_the_reply_arrives(zl_fake, fake_rasa, zalo_api):
    user = user_id()
    fake_rasa.gate = asyncio.Event()  # Rasa answers only when the test says so
    started = time.monotonic()
    response = await asyncio.wait_for(post(zl_fake, text_event(user, "don hang cua toi bi tre")), 2)
    assert response.status == 200 and time.monotonic() - started < 2
    arrived = await asyncio.wait_for(fake_rasa.arrived.get(), 10)  # Rasa is working on it meanwhile
    assert arrived["sender"] == cid_of(user) and zalo_api.texts(user) == []
    fake_rasa.gate.set()
    await zl_fake.server.app[ZALO].drain()
    assert any("heard: don hang cua toi bi tre" in t for t in zalo_api.texts(user))


async def test_a_retried_event_is_processed_once(zl_fake, fake_rasa, zalo_api, redis):
    user = user_id()
    event = text_event(user, "toi bi tru tien hai lan", msg_id=f"a:b:{uuid.uuid4().hex}")
    assert (await deliver(zl_fake, event)).status == 200
    replies = len(zalo_api.to(user))
    assert replies >= 1
    assert (await deliver(zl_fake, event)).status == 200  # Zalo retries the same event
    assert len(zalo_api.to(user)) == replies and len(fake_rasa.sent_for(cid_of(user))) == 1
    log = await redis.xrange(keys.transcript(cid_of(user)))
    assert [e["text"] for _, e in log if e["from"] == "customer"] == ["toi bi tru tien hai lan"]
    assert not await redis.keys(f"sr:conv:{cid_of(user)}:seen:a:*")  # the id was made safe for keys


# --- identity, disclosure, messages -----------------------------------------------------


async def test_identity_and_the_automated_assistant_says_so_first(zl_fake, fake_rasa, zalo_api, redis):
    user = user_id()
    await deliver(zl_fake, text_event(user, "xin chao"))
    sent = fake_rasa.sent_for(cid_of(user))[0]
    assert sent["metadata"]["channel"] == "zalo"
    assert sent["metadata"]["identity"] == {"channel_id": user, "zalo_user": user}
    first = zalo_api.texts(user)
    assert "trợ lý tự động" in first[0] and "heard: xin chao" in first[1]
    assert all(s["reply_to"] for s in zalo_api.sent)  # replies cite the customer's message
    await deliver(zl_fake, text_event(user, "cam on"))
    assert not any("trợ lý tự động" in t for t in zalo_api.texts(user)[2:])  # once, at the start
    await login(zl_fake)
    detail = await (await zl_fake.get(f"/api/agent/conversations/{cid_of(user)}")).json()
    assert detail["trust"] == "Zalo user id" and detail["window"]["channel"] == "zalo"
    assert detail["window"]["state"] == "open" and detail["window"]["closes_at"] > time.time() + 47 * 3600


def test_long_text_is_split_and_buttons_become_numbered_choices():
    text = " ".join(f"chu{i}" for i in range(900))  # ~5500 characters
    buttons = [{"title": f"Lựa chọn {i}", "payload": f'/choose_remedy{{"remedy": "r{i}"}}'} for i in range(3)]
    parts, choices = to_zalo({"text": text, "buttons": buttons})
    assert all(len(p["text"]) <= TEXT_LIMIT for p in parts) and len(parts) >= 3
    assert " ".join(p["text"] for p in parts).startswith(text)
    assert parts[-1]["text"].endswith("1. Lựa chọn 0\n2. Lựa chọn 1\n3. Lựa chọn 2")
    query = parts[-1]["attachment"]["payload"]["buttons"]
    assert [b["payload"] for b in query] == choices and {b["type"] for b in query} == {"oa.query.hide"}
    assert chosen("2", choices) == choices[1] and chosen(" 3. ", choices) == choices[2]
    assert chosen("4", choices) is None and chosen("1048213", choices) is None
    many = [{"title": f"t{i}", "payload": f"/p{i}"} for i in range(7)]
    parts, choices = to_zalo({"text": "which?", "buttons": many})
    assert "attachment" not in parts[-1] and "7. t6" in parts[-1]["text"] and len(choices) == 7


async def test_a_number_answers_the_choices_and_refused_buttons_go_as_text(zl_fake, fake_rasa, zalo_api):
    user = user_id()
    fake_rasa.more["chon di"] = [
        {
            "text": "Anh/chị muốn:",
            "buttons": [
                {"title": "Hoàn tiền", "payload": '/choose_remedy{"remedy": "refund"}'},
                {"title": "Gặp nhân viên", "payload": "/request_human"},
            ],
        }
    ]
    zalo_api.refuse_buttons = True
    await deliver(zl_fake, text_event(user, "chon di"))
    offer = zalo_api.to(user)[-1]
    assert offer["text"].endswith("1. Hoàn tiền\n2. Gặp nhân viên") and "attachment" not in offer
    await deliver(zl_fake, text_event(user, "2"))
    assert fake_rasa.sent_for(cid_of(user))[-1]["message"] == "/request_human"


async def test_images_stickers_and_locations_are_acknowledged_and_kept(zl_fake, zalo_api, redis):
    user = user_id()
    base = {"app_id": APP_ID, "sender": {"id": user}, "recipient": {"id": OA_ID}}
    image = {
        **base,
        "event_name": "user_send_image",
        "timestamp": str(now_ms()),
        "message": {
            "msg_id": uuid.uuid4().hex,
            "text": "",
            "attachments": [
                {
                    "type": "image",
                    "payload": {
                        "url": "https://photo.example/vo.jpg",
                        "thumbnail": "https://photo.example/t.jpg",
                    },
                }
            ],
        },
    }
    sticker = {
        **base,
        "event_name": "user_send_sticker",
        "timestamp": str(now_ms()),
        "message": {
            "msg_id": uuid.uuid4().hex,
            "attachments": [{"type": "sticker", "payload": {"id": "abc", "url": "https://s.example/1"}}],
        },
    }
    location = {
        **base,
        "event_name": "user_send_location",
        "timestamp": str(now_ms()),
        "message": {
            "msg_id": uuid.uuid4().hex,
            "attachments": [
                {
                    "type": "location",
                    "payload": {"coordinates": {"latitude": "10.762622", "longitude": "106.660172"}},
                }
            ],
        },
    }
    for event in (image, sticker, location):
        assert (await deliver(zl_fake, event)).status == 200
    assert sum("I can only read text here" in t for t in zalo_api.texts(user)) == 3
    kept = [e for _, e in await redis.xrange(keys.transcript(cid_of(user))) if e["from"] == "customer"]
    assert [e["text"] for e in kept] == ["[image]", "[sticker]", "[location 10.762622, 106.660172]"]
    assert json.loads(kept[0]["data"])["attachments"][0]["payload"]["url"] == "https://photo.example/vo.jpg"


# --- tokens ---------------------------------------------------------------------------


async def test_the_token_is_refreshed_once_when_two_hub_processes_race(make_hub_fake, zalo_api, redis):
    seed = zalo_api.refresh_token  # ZALO_REFRESH_TOKEN: the OA's first authorisation
    first = await make_hub_fake(**zalo_settings(zalo_api))
    second = await make_hub_fake(**zalo_settings(zalo_api))
    tokens = [hub.server.app[ZALO].client.tokens for hub in (first, second)]
    zalo_api.token_gate = asyncio.Event()
    one, two = user_id(), user_id()
    # Both processes need a token at the same time (neither has one yet).
    assert (await post(first, text_event(one, "xin chao"))).status == 200
    assert (await post(second, text_event(two, "xin chao"))).status == 200

    def racing():  # one is asking Zalo; the other found it doing so (or asked too)
        return zalo_api.token_requests >= 2 or (
            zalo_api.token_requests == 1 and sum(t.waited for t in tokens) > 0
        )

    await eventually(racing, 20, "both processes wanting a token", interval=0.01)
    zalo_api.token_gate.set()
    for hub in (first, second):
        await hub.server.app[ZALO].drain()
    assert zalo_api.token_requests == 1 and zalo_api.refused_refresh == 0
    assert zalo_api.texts(one) and zalo_api.texts(two)
    assert await redis.hget(keys.ZALO_TOKENS, "refresh_token") == zalo_api.refresh_token  # the rotated one

    # Zalo invalidates the access token (-216): refreshed once more, with the rotated token.
    zalo_api.valid.clear()
    await deliver(second, text_event(one, "con do"))
    assert zalo_api.token_requests == 2 and zalo_api.refused_refresh == 0
    assert any("heard: con do" in t for t in zalo_api.texts(one))
    # A restart with the same ZALO_REFRESH_TOKEN keeps the rotated tokens (the first is spent).
    restarted = await make_hub_fake(**zalo_settings(zalo_api, zalo_refresh_token=seed))
    assert await restarted.server.app[ZALO].client.tokens.access_token() in zalo_api.valid


# --- windows and follow-up ----------------------------------------------------------------


async def queued_with_an_agent(client, user, first_words, confirm_email=False):
    await deliver(client, text_event(user, first_words))
    await deliver(client, text_event(user, "/request_human"))
    if confirm_email:  # "Email me", yes to the address typed: only then may email go there
        await deliver(client, text_event(user, "/followup_email"))
        await deliver(client, text_event(user, "/followup_email_yes"))
    await login(client)
    assert (await client.post(f"/api/agent/conversations/{cid_of(user)}/claim")).status == 200


async def test_a_reply_after_the_window_goes_by_email(make_hub_fake, zalo_api, inbox, redis):
    box, smtp_url = inbox
    hub = await make_hub_fake(
        **zalo_settings(
            zalo_api, smtp_url=smtp_url, mail_from=FROM, background_interval=0.2, agent_online_seconds=0.001
        )
    )
    user, address = user_id(), f"hoa.{uuid.uuid4().hex[:6]}@example.com"
    await queued_with_an_agent(
        hub, user, f"giao hang tre qua, email cua toi la {address}", confirm_email=True
    )
    cid = cid_of(user)
    notes = [e["text"] for _, e in await redis.xrange(keys.transcript(cid)) if e["from"] == "system"]
    assert "email follow-up to h…@example.com, confirmed by the customer" in notes
    response = await hub.post(
        f"/api/agent/conversations/{cid}/messages", json={"text": "Chào chị, em đang kiểm tra."}
    )
    assert (await response.json())["delivered"] == "channel"
    assert "Mai: Chào chị, em đang kiểm tra." in zalo_api.texts(user)  # the agent's display name

    channel = hub.server.app[ZALO]
    later = time.time() + 49 * 3600
    channel.clock = lambda: later  # two days later: Zalo's 48 hours are over
    window = (await (await hub.get(f"/api/agent/conversations/{cid}")).json())["window"]
    assert window["state"] == "closed" and window["reason"] == "time"
    before = len(zalo_api.sent)
    response = await hub.post(
        f"/api/agent/conversations/{cid}/messages", json={"text": "Đơn hàng sẽ đến vào thứ Sáu."}
    )
    assert response.status == 200 and (await response.json())["delivered"] == "email"
    assert len(zalo_api.sent) == before  # nothing was tried on Zalo
    [(recipients, message)] = await box.wait_for(1)
    assert recipients == [address]
    body = message.get_content()
    assert "Mai: Đơn hàng sẽ đến vào thứ Sáu." in body and "Zalo" in body and PACKET["case_ref"] in body
    await until_emailed(redis, cid)
    held = [e for _, e in await redis.xrange(keys.transcript(cid)) if e["from"] == "agent"][-1]
    assert json.loads(held["data"])["held_by"] == "email"


async def test_past_the_reply_quota_without_email_a_reply_becomes_a_task(zl_fake, zalo_api, redis):
    user = user_id()
    await queued_with_an_agent(zl_fake, user, "toi muon gap nguoi that")
    cid = cid_of(user)
    used = int(await redis.hget(keys.zalo_reply(cid), "sent"))
    for number in range(windows.ZALO_REPLY_QUOTA - used):
        response = await zl_fake.post(
            f"/api/agent/conversations/{cid}/messages", json={"text": f"tin {number}"}
        )
        assert (await response.json())["delivered"] == "channel"
    window = (await (await zl_fake.get(f"/api/agent/conversations/{cid}")).json())["window"]
    assert window["state"] == "closed" and window["reason"] == "quota" and window["replies_left"] == 0
    before = len(zalo_api.sent)
    response = await zl_fake.post(
        f"/api/agent/conversations/{cid}/messages", json={"text": "Còn một việc nữa."}
    )
    assert (await response.json())["delivered"] == "task" and len(zalo_api.sent) == before
    tasks = (await (await zl_fake.get("/api/agent/callbacks")).json())["callbacks"]
    assert any(t["conversation_id"] == cid and "quota" in t["reason"] for t in tasks)
    # The customer writes again: a new quota, and replies go on Zalo again.
    await deliver(zl_fake, text_event(user, "alo shop"))
    response = await zl_fake.post(f"/api/agent/conversations/{cid}/messages", json={"text": "Dạ em đây."})
    assert (await response.json())["delivered"] == "channel" and "Mai: Dạ em đây." in zalo_api.texts(user)
    await zl_fake.post(f"/api/agent/callbacks/{cid}", json={"outcome": "done"})


async def test_once_zalo_refuses_nothing_more_is_tried_there_until_the_customer_writes(zl_fake, zalo_api):
    user = user_id()
    cid = cid_of(user)
    await queued_with_an_agent(zl_fake, user, "toi muon gap nguoi that")
    zalo_api.closed_for.add(user)  # Zalo says the user has not written recently (-230)
    attempts = zalo_api.sent.copy()
    response = await zl_fake.post(f"/api/agent/conversations/{cid}/messages", json={"text": "Chào chị."})
    assert response.status == 200 and (await response.json())["delivered"] == "task"
    window = (await (await zl_fake.get(f"/api/agent/conversations/{cid}")).json())["window"]
    assert window["state"] == "closed" and window["reason"] == "refused_by_zalo"
    zalo_api.closed_for.discard(user)  # a second reply is not even tried on Zalo
    response = await zl_fake.post(f"/api/agent/conversations/{cid}/messages", json={"text": "Chị ơi?"})
    assert (await response.json())["delivered"] == "task" and zalo_api.sent == attempts
    await deliver(zl_fake, text_event(user, "alo"))  # the customer writes: Zalo's window again
    response = await zl_fake.post(f"/api/agent/conversations/{cid}/messages", json={"text": "Dạ em đây."})
    assert (await response.json())["delivered"] == "channel"
    await zl_fake.post(f"/api/agent/callbacks/{cid}", json={"outcome": "done"})


# --- a whole conversation with the trained assistant ---------------------------------------


async def test_a_whole_conversation_in_vietnamese_without_diacritics(zl, zalo_api, redis_url, redis):
    lan = new_customer(redis_url, name="Lan", orders=(("delivered", 480_000),))
    order_id = lan.order.order_id
    user = user_id()
    cid = cid_of(user)

    await deliver(zl, text_event(user, f"shop oi hang giao toi bi vo het roi, don {order_id}"))
    said = zalo_api.texts(user)
    assert "trợ lý tự động" in said[0]  # it says what it is, first
    await deliver(zl, text_event(user, f"sdt cua toi la {lan.customer.phone}"))  # the proof
    said = zalo_api.texts(user)
    assert any("khớp với đơn hàng" in t for t in said), said
    offer = [t for t in said if "\n1. " in t][-1]  # the remedies, as numbered choices
    payloads = json.loads(await redis.get(keys.zalo_choices(cid)))
    assert len(payloads) == len([line for line in offer.split("\n") if re.match(r"^\d+\. ", line)])
    await deliver(zl, text_event(user, "1"))  # the first choice, by its number
    typed = [e["text"] for _, e in await redis.xrange(keys.transcript(cid)) if e["from"] == "customer"]
    assert typed[-1] == payloads[0]

    await deliver(zl, text_event(user, "cho minh gap nhan vien di"))
    await login(zl)
    detail = await (await zl.get(f"/api/agent/conversations/{cid}")).json()
    assert detail["state"] == "queued" and detail["language"] == "vi"
    assert detail["packet"]["channel"] == "zalo" and detail["packet"]["customer"]["verified"]
    assert order_id in json.dumps(detail["packet"])

    assert (await zl.post(f"/api/agent/conversations/{cid}/claim")).status == 200
    response = await zl.post(
        f"/api/agent/conversations/{cid}/messages",
        json={"text": "Chào chị Lan, em gửi lại bộ ly mới ngay hôm nay."},
    )
    assert (await response.json())["delivered"] == "channel"
    assert "Mai: Chào chị Lan, em gửi lại bộ ly mới ngay hôm nay." in zalo_api.texts(user)
    before = len(zalo_api.texts(user))
    response = await zl.post(f"/api/agent/conversations/{cid}/handback", json={"note": "gửi lại bộ ly mới"})
    assert response.status == 200, await response.text()
    back = zalo_api.texts(user)[before:]
    assert "trợ lý tự động" in back[0]  # back with the assistant, and it says so
    assert any("Tóm tắt lại: gửi lại bộ ly mới" in t for t in back), back
    detail = await (await zl.get(f"/api/agent/conversations/{cid}")).json()
    assert detail["state"] == "bot"


# --- identity in the assistant: a Zalo user id keeps its own history, like a PSID ---------


async def test_a_zalo_user_keeps_their_own_history_and_nobody_else_shares_it(redis_url, domain):
    # The assistant's own action, as Rasa runs it with the hub's metadata (no hub needed).
    from actions.complaint import ActionAcknowledgeComplaint
    from tests.actions.helpers import responses, run, slots_set, tracker, user_event

    user = user_id()
    meta = {"channel": "zalo", "identity": {"channel_id": user, "zalo_user": user}}
    first = tracker(cid_of(user), "don hang cua toi bi tre", "complain_delivery", metadata=meta)
    await run(ActionAcknowledgeComplaint(), first, domain)
    # The same Zalo user writes again another day: a repeat contact, yet nothing is recalled.
    again = tracker(
        cid_of(user),
        "don hang van chua toi",
        "complain_delivery",
        metadata=meta,
        history=[
            user_event("don hang cua toi bi tre", "complain_delivery"),
            {"event": "session_started", "timestamp": time.time()},
        ],
    )
    dispatcher, events = await run(ActionAcknowledgeComplaint(), again, domain)
    assert "repeat_contact" in slots_set(events)["severity_reasons"]
    assert "utter_known_details" not in responses(dispatcher)
    # Another Zalo user is somebody else.
    other = user_id()
    meta_other = {"channel": "zalo", "identity": {"channel_id": other, "zalo_user": other}}
    _, events = await run(
        ActionAcknowledgeComplaint(),
        tracker(cid_of(other), "don hang cua toi bi tre", "complain_delivery", metadata=meta_other),
        domain,
    )
    assert "repeat_contact" not in slots_set(events)["severity_reasons"]


async def test_resolved_after_the_window_is_only_noted_without_email(zl_fake, zalo_api, redis):
    user = user_id()
    cid = cid_of(user)
    await queued_with_an_agent(zl_fake, user, "toi muon gap nguoi that")
    later = time.time() + 49 * 3600
    zl_fake.server.app[ZALO].clock = lambda: later
    before = len(zalo_api.sent)
    assert (
        await zl_fake.post(f"/api/agent/conversations/{cid}/resolve", json={"note": "xong"})
    ).status == 200
    assert len(zalo_api.sent) == before  # not tried on Zalo
    notice = [e for _, e in await redis.xrange(keys.transcript(cid)) if e["from"] == "bot"][-1]
    assert json.loads(notice["data"])["held_by"] == "note"  # nobody must act on it: no task
    tasks = (await (await zl_fake.get("/api/agent/callbacks")).json())["callbacks"]
    assert not any(t["conversation_id"] == cid for t in tasks)
