"""The proof lock beside the conversation (bot/console/proof_lock.py): after too many wrong emails
or phones for an order, the agent sees it in the customer panel and may lift it. Real
Redis and hub; the handoff packet is the contract's type, as the assistant sends it."""

from contract import keys
from contract.identity import MAX_PROOF_FAILURES
from tests.hub.helpers import a_packet, login, rest_sender
from tests.shop import new_customer


async def handed_off_about(client, fake_rasa, order_id):
    sender = rest_sender()
    fake_rasa.more["it's not mine?"] = [
        {
            "custom": {
                "handoff": a_packet(
                    reason="order_not_proved",
                    claimed_order={"order_id": order_id},
                    details={"order_id": order_id},
                )
            }
        }
    ]
    assert (
        await client.post("/webhooks/rest/webhook", json={"sender": sender, "message": "it's not mine?"})
    ).status == 200
    return f"rest-{sender}"


async def panel(client, cid):
    response = await client.get(f"/api/agent/conversations/{cid}/customer")
    assert response.status == 200, await response.text()
    return await response.json()


async def test_an_agent_sees_the_lock_on_the_conversations_order_and_lifts_it(
    make_hub_fake, fake_rasa, redis, redis_url
):
    client = await make_hub_fake()
    order_id = new_customer(redis_url).order.order_id
    cid = await handed_off_about(client, fake_rasa, order_id)
    lift = f"/api/agent/conversations/{cid}/proof-lock/lift"
    assert (await client.post(lift)).status == 401  # agents only
    await login(client)
    failures = keys.order_proof_failures(order_id)
    await redis.set(failures, MAX_PROOF_FAILURES - 1, ex=keys.ORDER_PROOF_WINDOW)
    assert (await panel(client, cid))["proof_lock"] is None  # not locked yet
    assert (await client.post(lift)).status == 404

    await redis.incr(failures)
    lock = (await panel(client, cid))["proof_lock"]
    assert lock["order_id"] == order_id and lock["failures"] == MAX_PROOF_FAILURES
    assert 0 < lock["expires_in"] <= keys.ORDER_PROOF_WINDOW

    await redis.set(keys.sender_proof_failures(cid), 3, ex=keys.ORDER_PROOF_WINDOW)
    response = await client.post(lift)
    assert response.status == 200, await response.text()
    assert await redis.get(failures) is None  # the assistant checks the order again
    assert await redis.get(keys.sender_proof_failures(cid)) is None  # and this chat starts afresh
    assert (await panel(client, cid))["proof_lock"] is None
    transcript = (await (await client.get(f"/api/agent/conversations/{cid}")).json())["transcript"]
    assert any(
        e["from"] == "system" and "lifted by agent" in e["text"] and order_id in e["text"] for e in transcript
    )
    assert (await client.post(lift)).status == 404  # nothing left to lift


async def test_a_conversation_about_no_order_has_no_lock_to_lift(make_hub_fake, redis):
    client = await make_hub_fake()
    sender = rest_sender()
    await client.post("/webhooks/rest/webhook", json={"sender": sender, "message": "/request_human"})
    await login(client)
    assert (await panel(client, f"rest-{sender}"))["proof_lock"] is None
    assert (await client.post(f"/api/agent/conversations/rest-{sender}/proof-lock/lift")).status == 404
    assert (await client.post("/api/agent/conversations/rest-nobody/proof-lock/lift")).status == 404
