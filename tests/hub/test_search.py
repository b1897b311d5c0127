"""Search and the customer panel: earlier cases found by case reference, order number,
email or phone through the assistant's memory (written here with its own functions, as
the action server writes it), identities masked unless verified. Real Redis and hub."""

import time
import uuid

from contract import memory
from contract.case import Case
from tests.hub.helpers import login, rest_sender
from tests.shop import new_customer


async def verified_with_a_case(redis, redis_url, conversation_id):
    shopper = new_customer(redis_url, name="Thu")
    c = shopper.customer
    customer_id = await memory.link_verified(
        redis,
        [("shop", c.id), ("email", c.email), ("phone", c.phone)],
        {"email": c.email, "phone": c.phone, "name": c.name},
    )
    await memory.attach_conversation(
        redis, conversation_id, customer_id, shopper.order.order_id, "order_and_contact", time.time()
    )
    case = await memory.save_case(
        redis,
        customer_id,
        Case(
            conversation_id=conversation_id,
            complaint_type="complain_damaged",
            status="closed",
            order_id=shopper.order.order_id,
            applied_remedy="refund",
            csat=4,
        ),
    )
    return shopper, case


async def search(client, q):
    response = await client.get("/api/agent/search", params={"q": q})
    assert response.status == 200, await response.text()
    return await response.json()


async def test_a_verified_customers_case_is_found_every_way(make_hub_fake, redis, redis_url):
    client = await make_hub_fake()
    assert (await client.get("/api/agent/search", params={"q": "x"})).status == 401
    await login(client)
    shopper, case = await verified_with_a_case(redis, redis_url, f"rest-{rest_sender()}")
    c = shopper.customer
    phone = f"+84 {c.phone[1:4]} {c.phone[4:7]} {c.phone[7:]}"  # written another way
    for query, matched in (
        (case.ref.lower(), "case_ref"),
        (shopper.order.order_id, "order_id"),
        (c.email.upper(), "email"),
        (phone, "phone"),
    ):
        found = (await search(client, query))["cases"]
        assert [f["case_ref"] for f in found] == [case.ref], query
        assert found[0]["matched"] == matched
        assert found[0]["csat"] == 4 and found[0]["remedy"] == "refund" and found[0]["status"] == "closed"
        assert found[0]["customer"] == {
            "known": True,
            "verified": True,
            "name": "Thu",
            "email": c.email,
            "phone": c.phone,
        }
    assert (await search(client, f"nobody-{uuid.uuid4().hex[:6]}@example.test"))["cases"] == []


async def test_a_guests_case_shows_their_details_masked_and_their_claims_find_nothing(make_hub_fake, redis):
    client = await make_hub_fake()
    await login(client)
    cid = f"rest-{rest_sender()}"
    guest = await memory.guest(redis, cid)
    claimed = f"claims.{uuid.uuid4().hex[:8]}@example.test"
    await memory.remember(redis, guest, {"email": claimed, "phone": "0912000111", "name": "Someone"})
    case = await memory.save_case(
        redis, guest, Case(conversation_id=cid, complaint_type="complain_wait", status="handed_off")
    )
    found = (await search(client, case.ref))["cases"]
    assert found[0]["customer"] == {
        "known": True,
        "verified": False,
        "name": "",
        "email": "c…@example.test",
        "phone": "…111",
    }
    assert (await search(client, claimed))["cases"] == []  # never linked to anyone


async def test_the_panel_lists_the_customers_cases_and_marks_this_one(make_hub_fake, redis, redis_url):
    client = await make_hub_fake()
    sender = rest_sender()
    cid = f"rest-{sender}"
    assert (
        await client.post("/webhooks/rest/webhook", json={"sender": sender, "message": "/request_human"})
    ).status == 200
    assert (await client.get(f"/api/agent/conversations/{cid}/customer")).status == 401
    await login(client)
    shopper, earlier = await verified_with_a_case(redis, redis_url, f"rest-{rest_sender()}")
    c = shopper.customer
    # This conversation proves it is the same customer (order and email): linked.
    customer_id = await memory.link_verified(redis, [("email", c.email)], {"email": c.email})
    await memory.attach_conversation(
        redis, cid, customer_id, shopper.order.order_id, "order_and_contact", time.time()
    )
    now = await memory.save_case(
        redis, customer_id, Case(conversation_id=cid, complaint_type="complain_delivery", status="handed_off")
    )
    body = await (await client.get(f"/api/agent/conversations/{cid}/customer")).json()
    assert body["customer"]["verified"] and body["customer"]["email"] == c.email
    assert [(k["case_ref"], k["current"]) for k in body["cases"]] == [(now.ref, True), (earlier.ref, False)]
    assert body["cases"][1]["csat"] == 4
    assert (await client.get("/api/agent/conversations/rest-nobody/customer")).status == 404
    for q in ("", " ", "x" * 201):
        assert (await client.get("/api/agent/search", params={"q": q})).status == 400
    # A conversation id finds the conversation itself.
    assert (await search(client, cid))["conversation"]["id"] == cid
    await client.post(f"/api/agent/conversations/{cid}/claim")
    await client.post(f"/api/agent/conversations/{cid}/resolve", json={})
