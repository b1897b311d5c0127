"""Bad input gets a clear 4xx with a JSON error, never a 5xx, and loses nothing that was
fine (issue: hardening). The hub runs against a stand-in Rasa (tests/hub/conftest.py):
these are tests of the hub's own handling."""

import json

from contract import keys
from tests.hub.helpers import login, rest_sender


async def post_raw(client, path, body: bytes, content_type="application/json", **headers):
    return await client.post(path, data=body, headers={"Content-Type": content_type, **headers})


async def expect_error(response, status):
    assert response.status == status, await response.text()
    assert "error" in await response.json()


async def test_a_non_ascii_agent_cookie_is_a_401_not_a_crash(make_hub_fake):
    hub = await make_hub_fake()
    response = await hub.get("/api/agent/queue", headers={"Cookie": 'sr_agent="é.x"'})
    await expect_error(response, 401)


async def test_a_lone_surrogate_in_a_rest_message_is_refused(make_hub_fake, redis):
    hub = await make_hub_fake()
    sender = rest_sender()
    body = ('{"sender": "%s", "message": "hello \\ud800 there"}' % sender).encode()
    await expect_error(await post_raw(hub, "/webhooks/rest/webhook", body), 400)
    assert not await redis.exists(keys.conversation(f"rest-{sender}"))


async def test_an_unknown_charset_or_content_type_is_a_415(make_hub_fake):
    hub = await make_hub_fake()
    body = json.dumps({"sender": rest_sender(), "message": "hi"}).encode()
    await expect_error(
        await post_raw(hub, "/webhooks/rest/webhook", body, "application/json; charset=foo"), 415
    )
    await expect_error(await post_raw(hub, "/webhooks/rest/webhook", body, "text/plain"), 415)
    await expect_error(await post_raw(hub, "/api/agent/login", b'{"name": "a"}', "text/plain"), 415)
    ok = await post_raw(hub, "/webhooks/rest/webhook", body, "application/json; charset=UTF-8")
    assert ok.status == 200


async def test_deeply_nested_or_broken_json_is_a_400(make_hub_fake):
    hub = await make_hub_fake()
    for body in (
        b"[" * 50_000,
        b'{"sender": ' + b"[" * 40 + b"]" * 40 + b"}",
        b'{"sender": "a",',
        b"\xff\xfe{}",
        b'["a list"]',
        b"",
    ):
        await expect_error(await post_raw(hub, "/webhooks/rest/webhook", body), 400)


async def test_a_body_too_big_is_a_413(make_hub_fake):
    hub = await make_hub_fake()
    body = json.dumps({"sender": rest_sender(), "message": "x" * 300_000}).encode()
    response = await post_raw(hub, "/webhooks/rest/webhook", body)
    assert response.status == 413


async def test_a_sender_cannot_name_another_senders_keys(make_hub_fake):
    hub = await make_hub_fake()
    sender = rest_sender()
    ok = await post_raw(
        hub, "/webhooks/rest/webhook", json.dumps({"sender": sender, "message": "hi"}).encode()
    )
    assert ok.status == 200
    # "X:log" would be X's transcript key: refused, and X goes on as before.
    clash = json.dumps({"sender": f"{sender}:log", "message": "hi"}).encode()
    await expect_error(await post_raw(hub, "/webhooks/rest/webhook", clash), 400)
    again = await post_raw(
        hub, "/webhooks/rest/webhook", json.dumps({"sender": sender, "message": "still me"}).encode()
    )
    assert again.status == 200 and "heard: still me" in await again.text()


async def test_a_huge_or_odd_message_id_is_refused(make_hub_fake, redis):
    hub = await make_hub_fake()
    sender = rest_sender()
    for message_id in ("m" * 200_000 and "m" * 129, "a:b", "a b", 42):
        body = json.dumps({"sender": sender, "message": "hi", "metadata": {"message_id": message_id}})
        await expect_error(await post_raw(hub, "/webhooks/rest/webhook", body.encode()), 400)
    assert not await redis.exists(keys.conversation(f"rest-{sender}"))
    fine = json.dumps({"sender": sender, "message": "hi", "metadata": {"message_id": "m-1.a_b"}})
    assert (await post_raw(hub, "/webhooks/rest/webhook", fine.encode())).status == 200


async def test_the_agent_api_refuses_bad_bodies_with_4xx(make_hub_fake):
    hub = await make_hub_fake()
    await login(hub)
    await expect_error(await post_raw(hub, "/api/agent/login", b"[" * 50_000), 400)
    await expect_error(await post_raw(hub, "/api/agent/login", '{"name": "\\udfff"}'.encode()), 400)


async def test_a_post_to_a_socket_closed_a_moment_before_is_a_400(hub_fake):
    """Found by the fault run's fuzz phase: engine.io raised a bare KeyError (a 500)."""
    opened = await hub_fake.get("/socket.io/?EIO=4&transport=polling")
    sid = json.loads((await opened.text())[1:])["sid"]
    socket = f"/socket.io/?EIO=4&transport=polling&sid={sid}"
    plain = {"Content-Type": "text/plain"}
    assert (await hub_fake.post(socket, data=b"40", headers=plain)).status == 200
    assert (await hub_fake.post(socket, data=b"1", headers=plain)).status == 200  # close
    again = await hub_fake.post(socket, data=b'42["user_uttered",{}]', headers=plain)
    assert again.status == 400
