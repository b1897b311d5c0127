"""Issue 26 in the hub: the first message of every conversation says it is the shop's
automated assistant (one mechanism, every channel); a customer still in the queue takes
back their request for a person (the store's withdraw: out of the queue, the consoles
told, the assistant carries on); the console searches the shop's help pages and links
to them; the owner's report counts the questions answered and lists the others."""

import asyncio
import json
import time

import pytest

from bot.console import report_figures, report_page, reports
from bot.core.handoffs import courtesy, takes_back
from contract import events, keys
from tests.hub.helpers import WidgetCustomer, login, rest_sender

INTRO_EN = "You're chatting with the shop's automated assistant"
INTRO_VI = "Anh/chị đang trò chuyện với trợ lý tự động của shop"


async def say(client, sender, message, **extra):
    response = await client.post(
        "/webhooks/rest/webhook", json={"sender": sender, "message": message, **extra}
    )
    assert response.status == 200, await response.text()
    return await response.json()


def texts(replies):
    return [r.get("text", "") for r in replies]


async def test_rest_and_widget_say_first_and_once_that_this_is_an_automated_assistant(hub_fake, fake_rasa):
    sender = rest_sender()
    first = await say(hub_fake, sender, "hello")
    assert texts(first)[0].startswith(INTRO_EN) and texts(first)[1] == "heard: hello"
    second = await say(hub_fake, sender, "my parcel is late")
    assert not any(INTRO_EN in t for t in texts(second))  # once, at the start
    vi = await say(hub_fake, rest_sender(), "xin chào shop")
    assert texts(vi)[0].startswith(INTRO_VI)
    # The widget: the same line first, before the greeting the page asks for.
    customer = WidgetCustomer(str(hub_fake.make_url("")))
    try:
        await customer.connect()
        await customer.say("/greet")
        said = [m["text"] for m in await customer.until(lambda m: m.get("text") == "heard: /greet")]
        assert said[0].startswith(INTRO_EN) and said.count(said[0]) == 1
    finally:
        await customer.close()


def test_what_takes_a_request_for_a_person_back():
    for text in (
        "actually never mind, you can help me",
        "nevermind, I'll stay here",
        "forget it, you can help",
        "thôi không cần gặp nhân viên nữa, bạn giúp mình cũng được",
        "thoi khong can nua",
        "ko can gap nv nua",
        "em giúp mình luôn nhé",
    ):
        assert takes_back(text), text
    for text in (
        "can you help me?",
        "hello? is anyone there",
        "I still want a person",
        "không cần gọi lại, email nhé",
        "my refund never came",
    ):
        assert not takes_back(text), text


async def test_a_request_for_a_person_taken_back_leaves_the_queue_and_the_bot_carries_on(
    hub_fake, fake_rasa, redis
):
    sender = rest_sender()
    cid = f"rest-{sender}"
    await say(hub_fake, sender, "/request_human")
    pubsub = redis.pubsub()
    try:
        assert await redis.hget(keys.conversation(cid), "state") == "queued"
        assert await redis.zscore(keys.QUEUE, cid) is not None
        await pubsub.subscribe(keys.EVENTS)
        await pubsub.get_message(timeout=1)  # the subscription itself
        since = time.time() - 1
        replies = await say(hub_fake, sender, "actually never mind, you can help me")
        # The assistant got the hub's /cancel_handoff, not the words, and answered.
        assert fake_rasa.sent_for(cid)[-1]["message"] == "/cancel_handoff"
        assert texts(replies) == ["heard: /cancel_handoff"]
        assert await redis.hget(keys.conversation(cid), "state") == "bot"
        assert await redis.zscore(keys.QUEUE, cid) is None
        # The consoles are told (the same event as every change of the queue).
        told = []
        deadline = asyncio.get_running_loop().time() + 5
        while asyncio.get_running_loop().time() < deadline:
            message = await pubsub.get_message(timeout=0.5)
            if message and message["type"] == "message":
                told.append(json.loads(message["data"]))
            if any(e.get("type") == "queue" and e.get("conversation_id") == cid for e in told):
                break
        assert any(e.get("type") == "queue" and e.get("conversation_id") == cid for e in told)
        withdrawn = [
            e
            for e in await events.read(redis, since, time.time() + 1)
            if e["kind"] == "handoff_withdrawn" and e["cid"] == await events.ref(redis, cid)
        ]
        assert len(withdrawn) == 1
        # The customer's words stay in the transcript for whoever reads it later.
        log = await redis.xrange(keys.transcript(cid))
        assert "actually never mind, you can help me" in [e["text"] for _, e in log]
        # With the bot again, messages go to Rasa as usual.
        await say(hub_fake, sender, "my refund is late")
        assert fake_rasa.sent_for(cid)[-1]["message"] == "my refund is late"
    finally:
        await pubsub.close()


def test_what_only_thanks_or_says_ok():
    for text in ("ok cảm ơn nhé", "ok cam on shop", "Thanks!", "thank you so much", "great, thanks"):
        assert courtesy(text) == "thanks", text
    for text in ("ok", "dạ vâng", "OK got it"):
        assert courtesy(text) == "ok", text
    for text in (
        "ok but where is my refund",
        "thanks for nothing",
        "no thanks",
        "cảm ơn, còn đơn kia thì sao?",
    ):
        assert courtesy(text) is None, text


async def test_a_waiting_customer_s_thanks_is_answered_not_added_to_the_case(hub_fake, fake_rasa, redis):
    sender = rest_sender()
    cid = f"rest-{sender}"
    await say(hub_fake, sender, "/request_human")
    [thanked] = texts_of(await say(hub_fake, sender, "ok cảm ơn nhé"))
    assert thanked.startswith("Dạ không có gì ạ.") and "hồ sơ" not in thanked
    [noted] = texts_of(await say(hub_fake, sender, "ok"))
    assert noted.startswith("Dạ vâng ạ.")
    [added] = texts_of(await say(hub_fake, sender, "đơn kia cũng bị trễ nữa"))
    assert "đã thêm nội dung này vào hồ sơ" in added
    # Every word is still in the transcript the agent reads, and nothing went to Rasa.
    said = [e["text"] for _, e in await redis.xrange(keys.transcript(cid)) if e["from"] == "customer"]
    assert said[-3:] == ["ok cảm ơn nhé", "ok", "đơn kia cũng bị trễ nữa"]
    assert [b["message"] for b in fake_rasa.sent_for(cid)] == ["/request_human"]


def texts_of(replies) -> list:
    return [r["text"] for r in replies if r.get("text")]


async def test_once_an_agent_has_it_never_mind_goes_to_the_agent(hub_fake, fake_rasa, redis):
    sender = rest_sender()
    cid = f"rest-{sender}"
    await say(hub_fake, sender, "/request_human")
    await login(hub_fake)
    assert (await hub_fake.post(f"/api/agent/conversations/{cid}/claim")).status == 200
    assert await say(hub_fake, sender, "never mind, you can help me") == []
    assert await redis.hget(keys.conversation(cid), "state") == "agent"
    assert "/cancel_handoff" not in [b["message"] for b in fake_rasa.sent_for(cid)]


async def test_the_console_searches_the_help_pages_and_links_to_them(hub_fake):
    assert (await hub_fake.get("/api/agent/help?q=delivery")).status == 401
    await login(hub_fake)
    found = await (await hub_fake.get("/api/agent/help", params={"q": "do you ship to Da Nang?"})).json()
    best = found["results"][0]
    assert best["title"] == "Delivery" and best["section"] == "Do you deliver to my city?"
    assert best["text"].startswith("We deliver to every province") and best["language"] == "en"
    assert best["link"] == "/help/en/delivery#do-you-deliver-to-my-city"
    vi = await (
        await hub_fake.get("/api/agent/help", params={"q": "giao hang mat bao lau", "lang": "vi"})
    ).json()
    assert {r["language"] for r in vi["results"]} == {"vi"}
    assert vi["results"][0]["section"] == "Giao hàng mất bao lâu?"
    assert (await hub_fake.get("/api/agent/help", params={"q": ""})).status == 400
    assert (await hub_fake.get("/api/agent/help", params={"q": "x", "lang": "fr"})).status == 400
    # The link is a public page with the section's anchor.
    page = await hub_fake.get("/help/en/delivery")
    html = await page.text()
    assert page.status == 200 and 'id="do-you-deliver-to-my-city"' in html and "<h1>Delivery</h1>" in html
    assert (await hub_fake.get("/help/en/nope")).status == 404 and (
        await hub_fake.get("/help/fr/delivery")
    ).status == 404


def test_the_report_counts_questions_and_lists_those_without_a_good_answer():
    day = time.mktime((2026, 11, 16, 12, 0, 0, 0, 0, 0))
    found = [
        {
            "kind": "question",
            "cid": "c1",
            "at": day,
            "question": "do you ship to Da Nang?",
            "answered": True,
            "page": "delivery",
            "language": "en",
        },
        {
            "kind": "question",
            "cid": "c2",
            "at": day,
            "question": "do you gift wrap?",
            "answered": False,
            "page": "returns",
            "language": "en",
        },
        {
            "kind": "question",
            "cid": "c3",
            "at": day,
            "question": "do you gift wrap?",
            "answered": False,
            "page": None,
            "language": "en",
        },
        {
            "kind": "question",
            "cid": "c4",
            "at": day,
            "question": "có gói quà không",
            "answered": False,
            "page": None,
            "language": "vi",
        },
    ]
    figures = report_figures.summarise(found, ["2026-11-16"], 7.0)
    q = figures["questions"]
    assert (q["total"], q["answered"], q["not_answered"], q["answered_percent"]) == (4, 1, 3, 25.0)
    assert q["by_page"] == {"delivery": 1}
    assert q["without_answer"] == [
        {"question": "do you gift wrap?", "language": "en", "count": 2},
        {"question": "có gói quà không", "language": "vi", "count": 1},
    ]
    rows = dict(reports.rows(figures))
    assert rows["questions.without_answer.1"] == "do you gift wrap? (en, 2x)"
    from bot.console.labels import ConsoleLabels

    page = report_page.render_page(
        {"days": 1, "from": "2026-11-16", "to": "2026-11-16", **figures}, ConsoleLabels().labels, "vi"
    )
    assert "Câu hỏi trang hỗ trợ chưa trả lời tốt" in page and "có gói quà không" in page


@pytest.mark.parametrize(
    "request_text, take_back, out_of_queue, sorry",
    [
        (
            "my refund is late, I want to talk to someone",
            "actually never mind, you can help me",
            "I've taken you out of the queue",
            "your refund is taking so long",
        ),
        (
            "hoàn tiền chậm quá, cho mình gặp nhân viên",
            "thôi không cần gặp nhân viên nữa, bạn giúp mình cũng được",
            "em đã rút yêu cầu gặp nhân viên",
            "việc hoàn tiền bị chậm trễ",
        ),
    ],
)
async def test_never_mind_in_the_queue_through_the_real_assistant(
    hub, redis, request_text, take_back, out_of_queue, sorry
):
    sender = rest_sender()
    cid = f"rest-{sender}"
    handed = " ".join(texts(await say(hub, sender, request_text)))
    assert await redis.hget(keys.conversation(cid), "state") == "queued"
    back = " ".join(texts(await say(hub, sender, take_back)))
    assert out_of_queue in back  # out of the queue, and the complaint goes on: its question
    assert "Which order" in back or "mã đơn hàng" in back
    # Sorry for the problem once, with the handoff or after it is taken back, never twice.
    assert f"{handed} {back}".count(sorry) == 1
    assert "added that to your case" not in back and "đã thêm nội dung này" not in back
    assert await redis.hget(keys.conversation(cid), "state") == "bot"
    assert await redis.zscore(keys.QUEUE, cid) is None
