"""The owner's way past a proof lock (bot/aftercare/owner_link.py), against a real SMTP
server (aiosmtpd), the real hub and the really trained assistant: once an order may be
checked no more, the email on it gets a one-time link that proves the order in the
browser holding that conversation, and nowhere else; the customer is told the same for
any order number, and a number that is no order sends nothing."""

import time
from urllib.parse import parse_qs, urlparse
import uuid

from contract import keys, memory
from contract.identity import MAX_PROOF_FAILURES
from tests.hub.helpers import FROM, WidgetCustomer
from tests.shop import new_customer

LINK_SENT = "one-time link to the email address on it"


def link_hub(make_hub, smtp_url, **overrides):
    settings = dict(
        agent_online_seconds=0.001, smtp_url=smtp_url, mail_from=FROM, shop_url="http://shop.example/"
    )
    return make_hub(**{**settings, **overrides})


async def locked(redis, order_id):
    """Strangers' wrong guesses have locked the order number for the day."""
    await redis.set(keys.order_proof_failures(order_id), MAX_PROOF_FAILURES, ex=keys.ORDER_PROOF_WINDOW)


async def asked_about(customer, order_id, email):
    """A complaint naming the locked order and the right email: the turn's messages up to
    the lock's (and the hub's line after it, if any: the turn's next message)."""
    await customer.say(f"my parcel is late, order {order_id}, my email is {email}")
    said = await customer.until(lambda m: "can't check any more details" in m.get("text", ""), timeout=60)
    return said + [await customer.next()]


def words(messages, order_id):
    return [m.get("text", "").replace(order_id, "N") for m in messages]


async def test_the_owner_gets_a_one_time_link_that_proves_the_order_in_their_chat_only(
    make_hub, inbox, redis, redis_url
):
    box, smtp_url = inbox
    client = await link_hub(make_hub, smtp_url)
    lan = new_customer(redis_url, orders=(("in_transit", 700_000),))
    nobody = "8" + str(uuid.uuid4().int)[:8]
    await locked(redis, lan.order.order_id)
    await locked(redis, nobody)

    # A number that is no order: the same words, and nothing is sent.
    stranger = WidgetCustomer(str(client.make_url("/")))
    await stranger.connect()
    try:
        for_nobody = words(await asked_about(stranger, nobody, lan.customer.email), nobody)
    finally:
        await stranger.close()

    owner = WidgetCustomer(str(client.make_url("/")))
    session_id = await owner.connect()
    cid = session_id.rpartition(".")[0]
    try:
        for_order = words(
            await asked_about(owner, lan.order.order_id, lan.customer.email), lan.order.order_id
        )
    finally:
        await owner.close()
    assert for_order == for_nobody  # which number is an order: not told
    line = for_order[-1]
    assert LINK_SENT in line and "in this browser within 30 minutes" in line
    assert lan.customer.email not in " ".join(for_order)

    [(recipients, message)] = await box.wait_for(1)
    assert recipients == [lan.customer.email]
    body = message.get_content()
    assert lan.order.order_id in body and "wasn't you" in body and "works once" in body
    link = next(word for word in body.split() if word.startswith("http://shop.example/?prove="))
    token = parse_qs(urlparse(link).query)["prove"][0]
    assert await memory.session_proof(redis, cid, time.time()) is None  # not proved by the lock

    # Opened in another browser (another conversation, or none): refused, and not used up.
    elsewhere = WidgetCustomer(str(client.make_url("/")))
    other_session = await elsewhere.connect()
    await elsewhere.close()
    for other in (other_session, None):
        refused = await client.post("/api/widget/prove", json={"token": token, "session_id": other})
        assert refused.status == 409
    assert await memory.session_proof(redis, other_session.rpartition(".")[0], time.time()) is None

    # In the owner's browser: the order is proved for this conversation, and the id rotates.
    proved = await client.post("/api/widget/prove", json={"token": token, "session_id": session_id})
    assert proved.status == 200
    new_id = (await proved.json())["session_id"]
    assert new_id.rpartition(".")[0] == cid and new_id != session_id
    proof = await memory.session_proof(redis, cid, time.time())
    assert proof.customer_id == await redis.get(keys.identity("shop", lan.customer.id))
    assert proof.order_id == lan.order.order_id and proof.by == "email_link"
    again = await client.post("/api/widget/prove", json={"token": token, "session_id": new_id})
    assert again.status == 400  # once only

    back = WidgetCustomer(str(client.make_url("/")))
    await back.connect(session_id=new_id, after="0-0")
    try:
        await back.until(lambda m: f"confirms that order {lan.order.order_id} is yours" in m.get("text", ""))
    finally:
        await back.close()
    assert len(box.messages) == 1  # the number that is no order sent nothing


async def test_without_mail_no_link_is_promised(make_hub, redis, redis_url):
    client = await make_hub(agent_online_seconds=0.001)
    lan = new_customer(redis_url)
    await locked(redis, lan.order.order_id)
    customer = WidgetCustomer(str(client.make_url("/")))
    await customer.connect()
    try:
        said = await asked_about(customer, lan.order.order_id, lan.customer.email)
        assert not any("link" in m.get("text", "") for m in said)
    finally:
        await customer.close()
