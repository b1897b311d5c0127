"""Fulfilment tasks in the console (bot/console/tasks.py, bot/aftercare/promises.py): the
task the action server makes (contract/tasks.py) is listed for agents, claimed once, and
closed by who claimed it, done or failed with a note; the customer is then told, in
their language, on their channel while its window allows it, by email once it is shut
(never a send bound to fail), or a task for the team without an address; a failure
also books a colleague to reach them. On the stand-in Rasa (tests/hub/conftest.py): the
whole conversation with the trained model is tests/hub/test_promises.py."""

import json
import time
import uuid

from bot.channels.routes import MESSENGER
from contract import keys, tasks
from tests.hub.helpers import APP_SECRET as SECRET
from tests.hub.helpers import (
    VERIFY,
    WidgetCustomer,
    batch,
    deliver,
    login,
    psid,
    rest_sender,
    text_event,
    until_emailed,
)

FROM = "Mộc Home <help@mochome.example>"


def a_task(cid: str, remedy: str = "replacement", due_in: float = 8 * 3600, **fields) -> tasks.Task:
    """A task as the action server makes it (actions/fulfilment.py)."""
    now = time.time()
    ref = f"SR-{uuid.uuid4().hex[:6].upper()}"
    values = dict(
        id=tasks.task_id(ref, remedy),
        remedy=remedy,
        case_ref=ref,
        conversation_id=cid,
        channel="rest",
        language="en",
        order_id="2207718",
        amount=480_000,
        currency="VND",
        customer=tasks.TaskCustomer(
            name="Lan", email=f"lan.{uuid.uuid4().hex[:6]}@example.com", phone="0912345678", verified=True
        ),
        created_at=now,
        due_at=now + due_in,
        done_text={
            "en": "A replacement is on its way with free shipping",
            "vi": "Sản phẩm thay thế đang được gửi đi, miễn phí vận chuyển",
        },
        offer_text={
            "en": "send a replacement today with free shipping",
            "vi": "gửi ngay một sản phẩm thay thế trong hôm nay, miễn phí vận chuyển",
        },
    )
    values.update(fields)
    return tasks.Task(**values)


async def rest_conversation(client, text="hello"):
    sender = rest_sender()
    response = await client.post("/webhooks/rest/webhook", json={"sender": sender, "message": text})
    assert response.status == 200
    return f"rest-{sender}"


async def listed(client):
    response = await client.get("/api/agent/tasks")
    assert response.status == 200
    return await response.json()


async def transcript(client, cid):
    return (await (await client.get(f"/api/agent/conversations/{cid}")).json())["transcript"]


async def test_a_task_is_listed_claimed_and_done_and_the_customer_told_in_the_chat(hub_fake, redis):
    cid = await rest_conversation(hub_fake)
    task = a_task(cid)
    assert await tasks.make(redis, task)
    assert (await hub_fake.get("/api/agent/tasks")).status == 401
    await login(hub_fake)
    [shown] = [t for t in (await listed(hub_fake))["tasks"] if t["id"] == task.id]
    assert shown["status"] == "open" and shown["overdue"] is False
    assert (shown["remedy"], shown["order_id"], shown["amount"], shown["case_ref"]) == (
        "replacement",
        "2207718",
        480_000,
        task.case_ref,
    )
    assert shown["customer"]["name"] == "Lan" and shown["customer"]["verified"] is True

    closing = await hub_fake.post(f"/api/agent/tasks/{task.id}/close", json={"outcome": "done"})
    assert closing.status == 409 and "claim the task first" in (await closing.json())["error"]
    assert (await hub_fake.post(f"/api/agent/tasks/{task.id}/claim")).status == 200
    again = await hub_fake.post(f"/api/agent/tasks/{task.id}/claim")
    assert again.status == 409 and "claimed by agent" in (await again.json())["error"]

    response = await hub_fake.post(
        f"/api/agent/tasks/{task.id}/close", json={"outcome": "done", "note": "sent with GHN 8812"}
    )
    assert response.status == 200, await response.text()
    body = await response.json()
    assert body["told"] == "channel" and body["task"]["status"] == "done"
    entries = await transcript(hub_fake, cid)
    told = [e for e in entries if e["from"] == "bot" and e["text"].startswith("Update on your case")]
    assert [e["text"] for e in told] == [
        f"Update on your case {task.case_ref}: A replacement is on its way with free shipping."
    ]
    assert any(
        e["from"] == "system" and "done by agent" in e["text"] and e["text"].endswith("sent with GHN 8812")
        for e in entries
    )
    now_listed = await listed(hub_fake)
    assert task.id not in [t["id"] for t in now_listed["tasks"]]
    [closed] = [t for t in now_listed["closed"] if t["id"] == task.id]
    assert closed["told"] == "channel" and closed["note"] == "sent with GHN 8812"


async def test_the_customer_is_told_in_their_language(hub_fake, redis):
    cid = await rest_conversation(hub_fake, "chào shop, hàng của tôi bị vỡ rồi")
    assert (await redis.hget(keys.conversation(cid), "language")) == "vi"
    task = a_task(cid, language="vi")
    await tasks.make(redis, task)
    await login(hub_fake)
    await hub_fake.post(f"/api/agent/tasks/{task.id}/claim")
    await hub_fake.post(f"/api/agent/tasks/{task.id}/close", json={"outcome": "done"})
    texts = [e["text"] for e in await transcript(hub_fake, cid) if e["from"] == "bot"]
    assert (
        f"Cập nhật hồ sơ {task.case_ref}: Sản phẩm thay thế đang được gửi đi, miễn phí vận chuyển." in texts
    )


async def test_a_failure_needs_a_note_is_said_to_the_customer_and_books_a_colleague(hub_fake, redis):
    cid = await rest_conversation(hub_fake)
    task = a_task(cid)
    await tasks.make(redis, task)
    await login(hub_fake)
    await hub_fake.post(f"/api/agent/tasks/{task.id}/claim")
    for body in (
        {"outcome": "failed"},
        {"outcome": "failed", "note": "  "},
        {"outcome": "lost"},
        {"outcome": "done", "note": 5},
    ):
        response = await hub_fake.post(f"/api/agent/tasks/{task.id}/close", json=body)
        assert response.status == 400 and "error" in await response.json()
    response = await hub_fake.post(
        f"/api/agent/tasks/{task.id}/close", json={"outcome": "failed", "note": "out of stock until May"}
    )
    assert response.status == 200 and (await response.json())["task"]["status"] == "failed"
    texts = [e["text"] for e in await transcript(hub_fake, cid) if e["from"] == "bot"]
    assert (
        f"Update on your case {task.case_ref}: I'm sorry, we couldn't send a replacement today with free "
        "shipping as promised. A colleague will contact you to put it right."
    ) in texts
    # "A colleague will contact you": a task for the team makes it true.
    callbacks = (await (await hub_fake.get("/api/agent/callbacks")).json())["callbacks"]
    [reach] = [c for c in callbacks if c["conversation_id"] == cid]
    assert "could not be done: out of stock until May" in reach["reason"]
    assert (await hub_fake.post("/api/agent/tasks/nothing-here/claim")).status == 404


async def test_a_trace_with_the_carrier_tells_the_customer_nothing_more(hub_fake, redis):
    cid = await rest_conversation(hub_fake)
    task = a_task(cid, remedy=tasks.TRACE, carrier="FastShip", done_text={}, offer_text={})
    await tasks.make(redis, task)
    await login(hub_fake)
    await hub_fake.post(f"/api/agent/tasks/{task.id}/claim")
    response = await hub_fake.post(f"/api/agent/tasks/{task.id}/close", json={"outcome": "done"})
    assert (await response.json())["told"] == ""
    assert not [e for e in await transcript(hub_fake, cid) if e["from"] == "bot" and "Update" in e["text"]]


async def test_an_overdue_task_is_listed_as_such_and_counted_late(hub_fake, redis):
    cid = await rest_conversation(hub_fake)
    task = a_task(cid, due_in=-90)
    await tasks.make(redis, task)
    await login(hub_fake)
    [shown] = [t for t in (await listed(hub_fake))["tasks"] if t["id"] == task.id]
    assert shown["overdue"] is True
    before = (await (await hub_fake.get("/api/agent/reports", params={"days": "1"})).json())["promises"]
    await hub_fake.post(f"/api/agent/tasks/{task.id}/claim")
    await hub_fake.post(f"/api/agent/tasks/{task.id}/close", json={"outcome": "done"})
    after = (await (await hub_fake.get("/api/agent/reports", params={"days": "1"})).json())["promises"]
    late = after["by_remedy"]["replacement"]["done_late"] - before["by_remedy"].get("replacement", {}).get(
        "done_late", 0
    )
    assert late == 1


async def test_a_forgotten_conversation_is_not_told(hub_fake, redis):
    cid = await rest_conversation(hub_fake)
    task = a_task(cid)
    await tasks.make(redis, task)
    await login(hub_fake)
    await hub_fake.post(f"/api/agent/tasks/{task.id}/claim")
    await redis.delete(keys.conversation(cid))  # expired since
    response = await hub_fake.post(f"/api/agent/tasks/{task.id}/close", json={"outcome": "done"})
    assert (await response.json())["told"] == "gone"


# --- a channel with a reply window: Messenger ---------------------------------------------


async def messenger_hub(make_hub_fake, graph, **more):
    return await make_hub_fake(
        fb_verify_token=VERIFY,
        fb_app_secret=SECRET,
        fb_page_token="page-token",
        fb_graph_url=graph.url,
        **more,
    )


async def test_on_messenger_inside_the_window_it_goes_on_messenger(make_hub_fake, graph, redis):
    client = await messenger_hub(make_hub_fake, graph)
    user = psid()
    await deliver(client, batch([text_event(user, "hello")]))
    task = a_task(f"fb-{user}", channel="messenger")
    await tasks.make(redis, task)
    await login(client)
    await client.post(f"/api/agent/tasks/{task.id}/claim")
    response = await client.post(f"/api/agent/tasks/{task.id}/close", json={"outcome": "done"})
    assert (await response.json())["told"] == "channel"
    sent = [
        c for c in graph.to(user) if c.get("message", {}).get("text", "").startswith("Update on your case")
    ]
    assert sent and sent[-1]["messaging_type"] == "RESPONSE"


async def test_on_messenger_after_the_window_it_is_emailed_never_tried(make_hub_fake, graph, inbox, redis):
    box, smtp_url = inbox
    client = await messenger_hub(
        make_hub_fake, graph, smtp_url=smtp_url, mail_from=FROM, background_interval=0.2
    )
    user = psid()
    cid = f"fb-{user}"
    await deliver(client, batch([text_event(user, "hello")]))
    task = a_task(cid, channel="messenger")
    await tasks.make(redis, task)
    channel = client.server.app[MESSENGER]
    later = time.time() + 25 * 3600
    channel.clock = lambda: later  # a day later: the bot may no longer write on Messenger
    before = len(graph.to(user))
    await login(client)
    await client.post(f"/api/agent/tasks/{task.id}/claim")
    response = await client.post(f"/api/agent/tasks/{task.id}/close", json={"outcome": "done"})
    assert (await response.json())["told"] == "email"
    assert len(graph.to(user)) == before  # nothing tried on Messenger
    [(recipients, message)] = await box.wait_for(1)
    # The bot handled it alone (no handoff packet): the address is the verified customer's.
    assert recipients == [task.customer.email]
    assert task.case_ref in message["Subject"]
    assert "A replacement is on its way with free shipping" in message.get_content()
    await until_emailed(redis, cid)
    held = [e for _, e in await redis.xrange(keys.transcript(cid)) if e["from"] == "bot"][-1]
    assert json.loads(held["data"])["held_by"] == "email"


async def test_on_messenger_after_the_window_without_email_it_is_a_task_for_the_team(
    make_hub_fake, graph, redis
):
    client = await messenger_hub(make_hub_fake, graph)  # no SMTP settings: no email
    user = psid()
    cid = f"fb-{user}"
    await deliver(client, batch([text_event(user, "hello")]))
    task = a_task(cid, channel="messenger")
    await tasks.make(redis, task)
    channel = client.server.app[MESSENGER]
    later = time.time() + 25 * 3600
    channel.clock = lambda: later
    await login(client)
    await client.post(f"/api/agent/tasks/{task.id}/claim")
    response = await client.post(f"/api/agent/tasks/{task.id}/close", json={"outcome": "done"})
    assert (await response.json())["told"] == "task"
    callbacks = (await (await client.get("/api/agent/callbacks")).json())["callbacks"]
    assert any(
        c["conversation_id"] == cid and "the messenger window is human agent only" in c["reason"]
        for c in callbacks
    )


async def test_in_the_widget_an_update_the_customer_has_not_seen_is_emailed(make_hub_fake, inbox, redis):
    box, smtp_url = inbox
    client = await make_hub_fake(
        smtp_url=smtp_url,
        mail_from=FROM,
        follow_up_after=0.5,
        background_interval=0.2,
        shop_url="http://shop.example/",
    )
    customer = WidgetCustomer(str(client.make_url("/")))
    session_id = await customer.connect()
    try:
        await customer.say("hello")
        await customer.next()
    finally:
        await customer.close()  # the customer has left the shop's page
    cid = session_id.rpartition(".")[0]
    task = a_task(cid, channel="web")
    await tasks.make(redis, task)
    await login(client)
    await client.post(f"/api/agent/tasks/{task.id}/claim")
    response = await client.post(f"/api/agent/tasks/{task.id}/close", json={"outcome": "done"})
    assert (await response.json())["told"] == "channel"  # kept for their return...
    [(recipients, message)] = await box.wait_for(1)  # ...and emailed, as it was not shown
    assert recipients == [task.customer.email] and task.case_ref in message["Subject"]
    body = message.get_content()
    assert f"Update on your case {task.case_ref}: A replacement is on its way with free shipping." in body
    assert "http://shop.example/" in body  # the link back to the conversation
