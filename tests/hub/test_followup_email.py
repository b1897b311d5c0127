"""Email follow-up against a real SMTP server (aiosmtpd) started by the test: an agent's
reply the widget has not shown is emailed once, in the customer's language, with the
case reference and a link that reopens the conversation; only to an address that is the
verified customer's or that the customer confirmed ("Email me"), and with smtp:// only
over STARTTLS."""

import json
from urllib.parse import parse_qs, urlparse
import uuid

import pytest

from bot.aftercare import followup
from bot.aftercare.mail import smtp_options
from contract import keys
from contract.handoff import Customer
from tests.helpers import eventually
from tests.hub.helpers import FROM, WidgetCustomer, a_packet, login, system_notes, until_emailed


async def confirm_email(customer, address):
    """ "Email me", and yes to the address typed earlier (shown whole, to check it)."""
    await customer.say("/followup_email")
    [ask] = (
        await customer.until(
            lambda m: any(q["payload"] == "/followup_email_yes" for q in m.get("quick_replies", []))
        )
    )[-1:]
    assert f"Shall we write to {address}?" in ask["text"] or f"tới {address}" in ask["text"], ask
    assert [q["payload"] for q in ask["quick_replies"]] == ["/followup_email_yes"]
    await customer.say("/followup_email_yes")
    await customer.until(
        lambda m: "will email you" in m.get("text", "") or "sẽ gửi email" in m.get("text", "")
    )


async def left_after_asking_for_a_person(client, words, address=None):
    """The customer complains, asks for a person, confirms `address` for email (when
    given) and leaves. Returns the session id, the conversation id and the off-hours
    message."""
    customer = WidgetCustomer(str(client.make_url("/")))
    session_id = await customer.connect()
    try:
        await customer.say(words)
        await customer.until(lambda m: "quick_replies" in m or "Which order" in m.get("text", ""))
        await customer.say("/request_human")
        [off_hours] = (
            await customer.until(
                lambda m: any(q["payload"] == "/followup_email" for q in m.get("quick_replies", []))
            )
        )[-1:]
        if address:
            await confirm_email(customer, address)
    finally:
        await customer.close()
    return session_id, session_id.rpartition(".")[0], off_hours


async def claim_and_reply(client, cid, *replies):
    await login(client)
    assert (await client.post(f"/api/agent/conversations/{cid}/claim")).status == 200
    for text in replies:
        response = await client.post(f"/api/agent/conversations/{cid}/messages", json={"text": text})
        assert response.status == 200


def email_hub(make_hub, smtp_url, **overrides):
    settings = dict(
        agent_online_seconds=0.001,
        smtp_url=smtp_url,
        mail_from=FROM,
        follow_up_after=0.5,
        background_interval=0.2,
        shop_url="http://shop.example/",
    )
    return make_hub(**{**settings, **overrides})


async def test_an_unread_agent_reply_is_emailed_once_with_a_link_back(make_hub, inbox, redis):
    box, smtp_url = inbox
    # Two hub processes share Redis, and both run the follow-up loop.
    first = await email_hub(make_hub, smtp_url)
    second = await email_hub(make_hub, smtp_url)
    address = f"lan.{uuid.uuid4().hex[:6]}@example.com"
    session_id, cid, off_hours = await left_after_asking_for_a_person(
        first, f"my parcel is late, order 1048213, my email is {address}", address
    )
    # The address was only typed: the off-hours message offers email, it promises none.
    assert "choose Email me" in off_hours["text"] and "@" not in off_hours["text"]
    assert any(
        n == "email follow-up to l…@example.com, confirmed by the customer"
        for n in await system_notes(redis, cid)
    )
    await claim_and_reply(second, cid, "Hi Lan, your parcel is with the courier; it arrives tomorrow.")

    [(recipients, message)] = await box.wait_for(1)
    packet = json.loads(await redis.hget(keys.conversation(cid), "packet"))
    assert recipients == [address] and message["To"] == address
    assert message["From"] == FROM
    assert packet["case_ref"] in message["Subject"] and message["Content-Language"] == "en"
    assert message["Message-ID"].endswith("@mochome.example>")
    body = message.get_content()
    assert "Hi Lan, your parcel is with the courier; it arrives tomorrow." in body
    assert packet["case_ref"] in body and "You left the chat" in body
    # The link reopens this very conversation, and only through the hub.
    link = next(word for word in body.split() if word.startswith("http://shop.example/"))
    token = parse_qs(urlparse(link).query)["resume"][0]
    assert session_id not in link
    reopened = await first.post("/api/widget/resume", json={"token": token})
    resumed = (await reopened.json())["session_id"]  # the same conversation, under a new id
    assert resumed.rpartition(".")[0] == cid and resumed != session_id
    assert (await first.post("/api/widget/resume", json={"token": token})).status == 400  # once only
    assert (await first.post("/api/widget/resume", json={"token": session_id})).status == 400
    assert (await first.post("/api/widget/resume", json={"token": 7})).status == 400
    await until_emailed(redis, cid)

    # A later reply gets its own email; the first one is never sent again.
    await login(first)
    response = await first.post(f"/api/agent/conversations/{cid}/messages", json={"text": "Tracking: VN123."})
    assert response.status == 200
    messages = await box.wait_for(2)
    second_body = messages[1][1].get_content()
    assert "Tracking: VN123." in second_body and "arrives tomorrow" not in second_body
    notes = await until_emailed(redis, cid, 2)
    assert sum(n.startswith("emailed at ") for n in notes) == 2
    assert len(box.messages) == 2


async def test_the_email_is_in_the_customers_language(make_hub, inbox, redis):
    box, smtp_url = inbox
    client = await email_hub(make_hub, smtp_url)
    address = f"minh.{uuid.uuid4().hex[:6]}@example.com"
    _, cid, _ = await left_after_asking_for_a_person(
        client, f"đơn hàng 1048213 của tôi giao trễ quá, email của tôi là {address}", address
    )
    await claim_and_reply(client, cid, "Chào anh, đơn hàng sẽ đến vào ngày mai.")
    [(_, message)] = await box.wait_for(1)
    assert message["Content-Language"] == "vi"
    assert "phản hồi về hồ sơ" in message["Subject"]
    assert "Chào anh, đơn hàng sẽ đến vào ngày mai." in message.get_content()
    assert "Anh/chị đã rời khung chat" in message.get_content()


async def test_a_refused_email_is_recorded_and_retried_until_it_goes(make_hub, inbox, redis, monkeypatch):
    box, smtp_url = inbox
    monkeypatch.setattr(followup, "RETRY_SECONDS", 0.2)
    box.refuse = 2
    client = await email_hub(make_hub, smtp_url)
    address = f"hoa.{uuid.uuid4().hex[:6]}@example.com"
    _, cid, _ = await left_after_asking_for_a_person(
        client, f"my parcel is late, order 1048213, my email is {address}", address
    )
    await claim_and_reply(client, cid, "Your refund is on its way.")
    await box.wait_for(1)
    notes = await until_emailed(redis, cid)
    failures = [n for n in notes if "failed" in n]
    assert len(failures) == 2 and all("will retry" in n and "h…@example.com" in n for n in failures)
    assert notes[-1].startswith("emailed at ")
    assert len(box.messages) == 1


async def test_email_me_without_an_address_asks_for_one_and_writes_there(make_hub, inbox, redis):
    box, smtp_url = inbox
    client = await email_hub(make_hub, smtp_url)
    address = f"tuan.{uuid.uuid4().hex[:6]}@example.com"
    customer = WidgetCustomer(str(client.make_url("/")))
    session_id = await customer.connect()
    cid = session_id.rpartition(".")[0]
    try:
        await customer.say("I was charged twice for my last purchase")
        await customer.until(lambda m: "Which order" in m.get("text", "") or "quick_replies" in m)
        await customer.say("/request_human")
        [off_hours] = (await customer.until(lambda m: "quick_replies" in m))[-1:]
        assert "choose Email me and we'll write to you there" in off_hours["text"]
        await customer.say("/followup_email")
        assert "Which address should we write to?" in (await customer.next())["text"]
        await customer.say(f"it's {address}")
        assert "email you" in (await customer.next())["text"]
    finally:
        await customer.close()
    await claim_and_reply(client, cid, "The second charge is refunded.")
    [(recipients, message)] = await box.wait_for(1)
    assert recipients == [address] and "The second charge is refunded." in message.get_content()


async def test_a_reply_the_widget_showed_is_not_emailed(make_hub, inbox, redis):
    box, smtp_url = inbox
    client = await email_hub(make_hub, smtp_url, follow_up_after=1.5)
    address = f"an.{uuid.uuid4().hex[:6]}@example.com"
    customer = WidgetCustomer(str(client.make_url("/")))
    session_id = await customer.connect()
    cid = session_id.rpartition(".")[0]
    try:
        await customer.say(f"my parcel is late, order 1048213, my email is {address}")
        await customer.until(lambda m: "quick_replies" in m)
        await customer.say("/request_human")
        await customer.until(
            lambda m: any(q["payload"] == "/followup_email" for q in m.get("quick_replies", []))
        )
        await confirm_email(customer, address)  # an address email may go to: the check is the widget's
        await claim_and_reply(client, cid, "I'm here, let me check.")
        await customer.until(lambda m: m.get("text") == "I'm here, let me check.")

        # The check comes and goes: the conversation leaves the schedule without an email.
        async def scheduled():
            return await redis.zscore(keys.FOLLOW_UP_DUE, cid) is not None

        async def unscheduled():
            return await redis.zscore(keys.FOLLOW_UP_DUE, cid) is None

        await eventually(scheduled, 20, "the follow-up check scheduled")
        await eventually(unscheduled, 20, "the follow-up check done")
        assert box.messages == []
        assert not any(n.startswith("emailed") for n in await system_notes(redis, cid))
    finally:
        await customer.close()


async def test_without_smtp_settings_follow_up_is_off_and_says_so(make_hub, caplog):
    await make_hub(agent_online_seconds=0.001)
    assert any("email follow-up off" in r.getMessage() for r in caplog.records)


async def test_an_internal_note_is_never_emailed(make_hub, inbox, redis):
    box, smtp_url = inbox
    client = await email_hub(make_hub, smtp_url)
    address = f"lan.{uuid.uuid4().hex[:6]}@example.com"
    _, cid, _ = await left_after_asking_for_a_person(
        client, f"my parcel is late, order 1048213, my email is {address}", address
    )
    await claim_and_reply(client, cid)
    try:
        response = await client.post(
            f"/api/agent/conversations/{cid}/notes",
            json={"text": "NOTE-ONLY-FOR-AGENTS: courier says it is lost"},
        )
        assert response.status == 200, await response.text()
        await client.post(f"/api/agent/conversations/{cid}/messages", json={"text": "It arrives tomorrow."})
        [(_, message)] = await box.wait_for(1)
        body = message.get_content()
        assert "It arrives tomorrow." in body and "NOTE-ONLY" not in body
        await until_emailed(redis, cid)
        assert len(box.messages) == 1
    finally:
        await client.post(f"/api/agent/conversations/{cid}/resolve", json={})


# --- where email may go, with the stand-in Rasa handing over the packet it is given ------


async def queued_with(fake_rasa, client, packet):
    """A widget customer handed over with `packet` while nobody is online; returns the
    customer, the conversation id and the off-hours message."""
    fake_rasa.more["a person please"] = [{"custom": {"handoff": packet}}]
    customer = WidgetCustomer(str(client.make_url("/")))
    session_id = await customer.connect()
    await customer.say("a person please")
    [off_hours] = (await customer.until(lambda m: "quick_replies" in m))[-1:]
    return customer, session_id.rpartition(".")[0], off_hours


async def followed_up(redis, cid):
    """Waits for the follow-up check of cid to come and go (an email sent or not)."""

    async def scheduled():
        return await redis.zscore(keys.FOLLOW_UP_DUE, cid) is not None

    async def unscheduled():
        return await redis.zscore(keys.FOLLOW_UP_DUE, cid) is None

    await eventually(scheduled, 20, "the follow-up check scheduled")
    await eventually(unscheduled, 20, "the follow-up check done")


async def test_an_address_only_typed_is_never_written_to_until_the_customer_confirms(
    make_hub_fake, fake_rasa, inbox, redis
):
    box, smtp_url = inbox
    client = await make_hub_fake(
        smtp_url=smtp_url, mail_from=FROM, follow_up_after=0.3, background_interval=0.2
    )
    address = f"friend.{uuid.uuid4().hex[:6]}@example.com"
    packet = a_packet(details={"email": address}, details_trust={"email": "claimed"})
    customer, cid, off_hours = await queued_with(fake_rasa, client, packet)
    await customer.close()  # left without choosing anything
    assert "choose Email me" in off_hours["text"] and "@" not in off_hours["text"]
    await claim_and_reply(client, cid, "First reply.")
    await followed_up(redis, cid)
    assert box.messages == []  # a claimed address is not known to be the customer's
    assert not any(n.startswith("emailed") for n in await system_notes(redis, cid))
    # The same, but the customer chooses "Email me" and says yes to that address.
    customer, cid, _ = await queued_with(fake_rasa, client, packet)
    try:
        await confirm_email(customer, address)
    finally:
        await customer.close()
    await claim_and_reply(client, cid, "Second reply.")
    [(recipients, message)] = await box.wait_for(1)
    assert recipients == [address] and "Second reply." in message.get_content()


async def test_a_verified_customers_address_needs_no_confirmation(make_hub_fake, fake_rasa, inbox, redis):
    box, smtp_url = inbox
    client = await make_hub_fake(
        smtp_url=smtp_url, mail_from=FROM, follow_up_after=0.3, background_interval=0.2
    )
    address = f"lan.{uuid.uuid4().hex[:6]}@example.com"
    packet = a_packet(
        customer=Customer(id="C-1001", verified=True, verified_by="shop", name="Lan", email=address)
    )
    customer, cid, off_hours = await queued_with(fake_rasa, client, packet)
    await customer.close()
    assert "by email to l…@example.com if you've left" in off_hours["text"]
    await claim_and_reply(client, cid, "Your refund is on its way.")
    [(recipients, _)] = await box.wait_for(1)
    assert recipients == [address]


async def test_smtp_without_starttls_sends_nothing(make_hub_fake, fake_rasa, inbox, redis, monkeypatch):
    box, smtp_url = inbox  # a server that offers no STARTTLS, as if a middleman stripped it
    monkeypatch.setattr(followup, "RETRY_SECONDS", 0.2)
    client = await make_hub_fake(
        smtp_url=smtp_url.replace("smtp+insecure://", "smtp://"),
        mail_from=FROM,
        follow_up_after=0.3,
        background_interval=0.2,
    )
    address = f"lan.{uuid.uuid4().hex[:6]}@example.com"
    packet = a_packet(customer=Customer(id="C-1001", verified=True, verified_by="shop", email=address))
    customer, cid, _ = await queued_with(fake_rasa, client, packet)
    await customer.close()
    await claim_and_reply(client, cid, "Here is your resume link's conversation.")

    async def refused():
        return any("STARTTLS" in n and "failed" in n for n in await system_notes(redis, cid))

    await eventually(refused, 20, "the refusal noted")
    assert box.messages == []


def test_smtp_urls():
    assert smtp_options("smtp://u:p@mail.example:587")["start_tls"] is True
    assert smtp_options("smtps://mail.example")["use_tls"] is True
    assert smtp_options("smtps://mail.example")["start_tls"] is False
    insecure = smtp_options("smtp+insecure://127.0.0.1:2525")
    assert (insecure["use_tls"], insecure["start_tls"], insecure["port"]) == (False, False, 2525)
    with pytest.raises(ValueError):
        smtp_options("http://mail.example")
