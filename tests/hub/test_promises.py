"""A promise kept, end to end with the really trained model and the live action server
(issue 25): a customer proves their order and takes a replacement; the bot promises
what is true ("I've asked our team to send a replacement today..."), never "Done:";
the task is in the agents' console (its API), an agent claims it and marks it done, and
the customer gets "Update on your case ..." on the channel they used, in their language;
on Messenger after its window has closed, by email (a real SMTP server, aiosmtpd)."""

import time

import pytest

from bot.channels.routes import MESSENGER
from contract import keys
from tests.hub.helpers import APP_SECRET as SECRET
from tests.hub.helpers import VERIFY, WidgetCustomer, batch, deliver, login, psid, text_event, until_emailed
from tests.shop import new_customer

REPLACEMENT = '/choose_remedy{"remedy": "replacement"}'  # the offer's button

WORDS = {
    "en": {
        "complaint": "the glass set I ordered arrived completely smashed, order {order}",
        "proof": "it's {email}",
        "promise": "I've asked our team to send a replacement today; I'll message you here when it's on its way. "
        "Your case reference is {ref}.",
        "kept": "Update on your case {ref}: A replacement is on its way with free shipping; you don't need to "
        "send anything back first.",
    },
    "vi": {
        "complaint": "shop oi binh hoa giao toi bi vo het roi, don {order}",
        "proof": "email cua minh la {email}",
        "promise": "Em đã báo đội ngũ gửi sản phẩm thay thế ngay trong hôm nay; khi hàng được gửi đi em sẽ nhắn "
        "anh/chị tại đây ạ. Mã hồ sơ của anh/chị là {ref}.",
        "kept": "Cập nhật hồ sơ {ref}: Sản phẩm thay thế đang được gửi đi, miễn phí vận chuyển; anh/chị không "
        "cần gửi trả hàng trước.",
    },
}


def offers_a_replacement(message):
    return any(q["payload"] == REPLACEMENT for q in message.get("quick_replies", []))


async def the_task(client, cid):
    response = await client.get("/api/agent/tasks")
    assert response.status == 200
    found = [t for t in (await response.json())["tasks"] if t["conversation_id"] == cid]
    assert len(found) == 1, found
    return found[0]


async def done_by_an_agent(client, task):
    assert (await client.post(f"/api/agent/tasks/{task['id']}/claim")).status == 200
    response = await client.post(
        f"/api/agent/tasks/{task['id']}/close", json={"outcome": "done", "note": "sent with GHN 88120"}
    )
    assert response.status == 200, await response.text()
    return await response.json()


@pytest.mark.parametrize("language", ["en", "vi"])
async def test_a_replacement_promised_done_by_the_team_and_the_customer_told_in_the_chat(
    make_hub, redis_url, language
):
    words = WORDS[language]
    hub = await make_hub(agent_online_seconds=0.001)
    thu = new_customer(redis_url, orders=(("delivered", 480_000),))
    customer = WidgetCustomer(str(hub.make_url("/")))
    session_id = await customer.connect()
    cid = session_id.rpartition(".")[0]
    try:
        await customer.say(words["complaint"].format(order=thu.order.order_id))
        await customer.until(lambda m: "quick_replies" in m)  # the proof question
        await customer.say(words["proof"].format(email=thu.customer.email))
        await customer.until(offers_a_replacement)
        await customer.say(REPLACEMENT)
        said = await customer.until(lambda m: "SR-" in m.get("text", ""))
        promise = said[-1]["text"]
        ref = promise[promise.index("SR-") :][:9]
        assert promise == words["promise"].format(ref=ref)
        assert not any(m.get("text", "").startswith(("Done:", "Xong rồi")) for m in said)

        await login(hub)
        task = await the_task(hub, cid)
        assert (task["remedy"], task["case_ref"], task["order_id"], task["amount"]) == (
            "replacement",
            ref,
            thu.order.order_id,
            480_000,
        )
        assert task["customer"]["email"] == thu.customer.email and task["customer"]["verified"] is True
        assert task["language"] == language and task["status"] == "open"
        assert (await done_by_an_agent(hub, task))["told"] == "channel"

        kept = await customer.until(lambda m: m.get("text", "").startswith(("Update on", "Cập nhật")))
        assert kept[-1]["text"] == words["kept"].format(ref=ref)
    finally:
        await customer.close()


async def test_after_the_messenger_window_the_customer_is_told_by_email(
    make_hub, graph, inbox, redis_url, redis
):
    box, smtp_url = inbox
    hub = await make_hub(
        fb_verify_token=VERIFY,
        fb_app_secret=SECRET,
        fb_page_token="page-token",
        fb_graph_url=graph.url,
        agent_online_seconds=0.001,
        smtp_url=smtp_url,
        mail_from="Mộc Home <help@mochome.example>",
        background_interval=0.2,
    )
    thu = new_customer(redis_url, orders=(("delivered", 480_000),))
    user = psid()
    cid = f"fb-{user}"
    await deliver(hub, batch([text_event(user, WORDS["en"]["complaint"].format(order=thu.order.order_id))]))
    await deliver(hub, batch([text_event(user, f"it's {thu.customer.email}")]))
    assert any(
        q.get("payload") == REPLACEMENT
        for c in graph.to(user)
        for q in c.get("message", {}).get("quick_replies", [])
    ), graph.texts(user)
    await deliver(hub, batch([text_event(user, "Send a replacement", quick_reply=REPLACEMENT)]))
    assert any(t.startswith("I've asked our team to send a replacement today") for t in graph.texts(user))

    await login(hub)
    task = await the_task(hub, cid)
    later = time.time() + 25 * 3600
    hub.server.app[MESSENGER].clock = lambda: later  # a day on: the bot may not write on Messenger
    before = len(graph.to(user))
    assert (await done_by_an_agent(hub, task))["told"] == "email"
    assert len(graph.to(user)) == before  # never tried on Messenger
    [(recipients, message)] = await box.wait_for(1)
    assert recipients == [thu.customer.email] and task["case_ref"] in message["Subject"]
    assert (
        f"Update on your case {task['case_ref']}: A replacement is on its way with free shipping"
        in message.get_content()
    )
    notes = await until_emailed(redis, cid)
    assert any(n.startswith(f"task {task['id']} (replacement) done by agent") for n in notes)
    assert await redis.exists(keys.task(task["id"]))
