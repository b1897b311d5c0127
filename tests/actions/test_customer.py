"""Who the customer is (actions/customer.py). Who may be recalled (contract/identity.py), row by row of the trust table, against a
real Redis: what the bot says (nothing stored is shown to someone who has not proved who
they are) and what is linked in Redis (only verified evidence links anything).
(Proving an order with its email or phone: tests/actions/test_details_form.py.)"""

import time
import uuid

from rasa_sdk.executor import CollectingDispatcher

from actions.cases import ActionRecogniseCustomer
from actions.complaint import ActionAcknowledgeComplaint
from actions.customer import load_customer
from actions.details_form import ValidateComplaintDetailsForm
from actions.store import get_redis
from contract import keys, memory
from contract.identity import mask_email, mask_phone
from tests.actions.helpers import (
    earlier_case,
    entity,
    prove,
    proved_as,
    render,
    responses,
    run,
    said,
    signed,
    slots_set,
    tracker,
    user_event,
)
from tests.shop import new_customer

FORM = ValidateComplaintDetailsForm()


async def test_a_stranger_citing_an_order_is_told_nothing_stored_and_linked_to_nobody(
    redis_url, domain, sender
):
    lan = new_customer(redis_url, tier="gold", orders=(("in_transit", 1_250_000),))
    await earlier_case(redis_url, domain, lan.customer, lan.order)
    redis = get_redis()
    before = await redis.get(keys.identity("shop", lan.customer.id))

    trk = tracker(
        sender,
        f"parcel {lan.order.order_id} never arrived",
        "complain_delivery",
        [entity("order_id", lan.order.order_id)],
        slots={"order_id": lan.order.order_id},
    )
    dispatcher, events = await run(ActionAcknowledgeComplaint(), trk, domain)
    slots = {**slots_set(events), "order_id": lan.order.order_id}
    text = said(domain, dispatcher, slots)
    # No recall, no "again", no gold-customer treatment: the stranger is nobody we know.
    assert responses(dispatcher) == ["utter_apology_low"]
    assert lan.customer.phone not in text and lan.customer.email not in text and "again" not in text
    assert "gold_customer" not in slots["severity_reasons"]
    assert "repeat_contact" not in slots["severity_reasons"]
    # Linked to a guest record of its own, never to the order's customer.
    guest = await redis.get(keys.identity("sender", sender))
    assert guest and guest != before
    assert not await memory.is_verified(redis, guest)
    assert await redis.get(keys.identity("shop", lan.customer.id)) == before
    assert await redis.get(keys.identity("order", lan.order.order_id)) is None

    # The details form asks for proof before anything about the order is used.
    needed = await FORM.required_slots(
        [],
        CollectingDispatcher(),
        tracker(sender, slots={**slots, "complaint_type": "complain_delivery"}),
        domain,
    )
    assert needed == ["order_id", "order_contact"]
    ask = render(domain, {"response": "utter_ask_order_contact"}, slots)
    assert lan.order.order_id in ask and "privacy" in ask and lan.order.items["en"] not in ask


async def test_a_stranger_with_another_customers_email_is_not_taken_for_them(redis_url, domain, sender):
    minh = new_customer(redis_url, name="Minh")
    await earlier_case(redis_url, domain, minh.customer, minh.order)
    redis = get_redis()
    email = minh.customer.email
    trk = tracker(
        sender,
        f"I can't log in, my email is {email}",
        "complain_account",
        [entity("email", email)],
        slots={"email": email},
    )
    dispatcher, events = await run(ActionAcknowledgeComplaint(), trk, domain)
    text = said(domain, dispatcher, slots_set(events))
    assert "utter_known_details" not in responses(dispatcher)
    assert minh.customer.phone not in text and mask_phone(minh.customer.phone) not in text
    assert not await memory.is_verified(redis, await redis.get(keys.identity("sender", sender)))

    # Asked for the order number, the stranger gives only the email: no order is looked up.
    out = CollectingDispatcher()
    result = await FORM.validate_order_id(
        email, out, tracker(sender, email, "inform", [entity("email", email)], slots={"email": email}), domain
    )
    assert responses(out) == ["utter_order_id_number_needed"] and result["order_id"] is None
    assert minh.order.order_id not in said(domain, out, {})


async def test_a_shop_signed_customer_is_recalled_masked_and_never_asked_again(redis_url, domain, sender):
    lan = new_customer(redis_url, tier="gold", orders=(("in_transit", 1_250_000),))
    trk = tracker(sender, "I was charged twice", "complain_billing", metadata=signed(lan.customer.id))
    dispatcher, events = await run(ActionAcknowledgeComplaint(), trk, domain)
    slots = slots_set(events)
    assert "utter_known_details" in responses(dispatcher)
    text = said(domain, dispatcher, slots)
    assert mask_email(lan.customer.email) in text and mask_phone(lan.customer.phone) in text
    assert lan.customer.email not in text and lan.customer.phone not in text
    assert slots["email"] == lan.customer.email and "gold_customer" in slots["severity_reasons"]
    # Their own order needs no proof.
    needed = await FORM.required_slots(
        [],
        CollectingDispatcher(),
        tracker(
            sender,
            slots={"order_id": lan.order.order_id, "complaint_type": "complain_delivery"},
            metadata=signed(lan.customer.id),
        ),
        domain,
    )
    assert needed == ["order_id"]
    # Linked by the shop id; the widget session itself is not (a signed-out visitor is a guest).
    customer_id = await get_redis().get(keys.identity("shop", lan.customer.id))
    assert await memory.is_verified(get_redis(), customer_id)
    assert await get_redis().get(keys.identity("sender", sender)) != customer_id


async def test_a_forged_or_missing_signature_is_a_guest(redis_url, domain, sender):
    lan = new_customer(redis_url)
    await earlier_case(redis_url, domain, lan.customer, lan.order)
    # The hub passes shop_customer only when the signature checked out; without it:
    trk = tracker(sender, "hello", "greet", metadata={"channel": "web", "identity": {"channel_id": "x"}})
    dispatcher, events = await run(ActionRecogniseCustomer(), trk, domain)
    assert responses(dispatcher) == ["utter_greet"] and events == []


async def test_a_messenger_psid_keeps_its_own_history_and_shows_nothing_stored(redis_url, domain):
    psid = f"fb-{uuid.uuid4().hex[:10]}"
    meta = {"channel": "messenger", "identity": {"channel_id": psid[3:], "psid": psid[3:]}}
    first = tracker(psid, "my parcel is late", "complain_delivery", metadata=meta)
    await run(ActionAcknowledgeComplaint(), first, domain)
    # The same PSID writes again another day: a repeat contact, yet nothing is recalled.
    again = tracker(
        psid,
        "where is my parcel",
        "complain_delivery",
        metadata=meta,
        history=[
            user_event("my parcel is late", "complain_delivery"),
            {"event": "session_started", "timestamp": time.time()},
        ],
    )
    dispatcher, events = await run(ActionAcknowledgeComplaint(), again, domain)
    assert "repeat_contact" in slots_set(events)["severity_reasons"]
    assert "utter_known_details" not in responses(dispatcher)
    # Another PSID is somebody else.
    other = tracker(f"fb-{uuid.uuid4().hex[:10]}", "my parcel is late", "complain_delivery", metadata=meta)
    _, events = await run(ActionAcknowledgeComplaint(), other, domain)
    assert "repeat_contact" not in slots_set(events)["severity_reasons"]


async def test_two_strangers_citing_the_same_order_share_nothing(redis_url, domain):
    thu = new_customer(redis_url)
    first, second = (f"s-{uuid.uuid4().hex[:10]}" for _ in range(2))
    wrong = f"{uuid.uuid4().hex[:6]}@example.test"
    trk = tracker(
        first,
        f"order {thu.order.order_id} arrived broken, {wrong}",
        "complain_damaged",
        [entity("order_id", thu.order.order_id), entity("email", wrong)],
        slots={"order_id": thu.order.order_id, "email": wrong},
    )
    await run(ActionAcknowledgeComplaint(), trk, domain)
    trk = tracker(
        second,
        f"order {thu.order.order_id} arrived broken",
        "complain_damaged",
        [entity("order_id", thu.order.order_id)],
        slots={"order_id": thu.order.order_id},
    )
    dispatcher, events = await run(ActionAcknowledgeComplaint(), trk, domain)
    slots = slots_set(events)
    text = said(domain, dispatcher, slots)
    assert wrong not in text and "again" not in text and "email" not in slots
    assert "repeat_contact" not in slots["severity_reasons"]
    redis = get_redis()
    assert await redis.get(keys.identity("email", wrong)) is None
    assert await redis.get(keys.identity("sender", first)) != await redis.get(keys.identity("sender", second))


# --- one conversation, two customers ------------------------------------------------------------


async def complaint_with_proof(sender, domain, text, intent, order, email, history=(), slots=None):
    """One message that names the order and its email ("order N ..., my email is X"), as
    the assistant handles it: acknowledged, then the details form checks the email at once.
    Returns what was said, the slots set and the tracker's history after the turn."""
    message = user_event(text, intent, [entity("order_id", order.order_id), entity("email", email)])
    slots = {**(slots or {}), "order_id": order.order_id, "email": email}
    trk = tracker(
        sender,
        text,
        intent,
        [entity("order_id", order.order_id), entity("email", email)],
        slots=slots,
        history=list(history),
    )
    dispatcher, events = await run(ActionAcknowledgeComplaint(), trk, domain)
    slots = {**slots, **slots_set(events)}
    form = CollectingDispatcher()
    trk = tracker(
        sender,
        text,
        intent,
        [entity("order_id", order.order_id), entity("email", email)],
        slots={**slots, "complaint_type": intent},
        history=list(history),
    )
    result = await FORM.validate_order_id(order.order_id, form, trk, domain)
    slots = {**slots, **result}
    said_now = said(domain, dispatcher, slots) + " " + said(domain, form, slots)
    return said_now, responses(dispatcher) + responses(form), slots, [*history, message]


async def test_one_conversation_proving_two_customers_orders_keeps_their_records_apart(
    redis_url, domain, sender
):
    """The issue's case: one REST sender proves Minh's order with Minh's email, then Lan's
    order with Lan's email. The conversation moves to Lan; Minh and Lan stay two records."""
    minh = new_customer(redis_url, name="Minh", orders=(("in_transit", 900_000),))
    lan = new_customer(redis_url, name="Lan", orders=(("delivered", 480_000),))
    await earlier_case(redis_url, domain, minh.customer, minh.order)
    redis = get_redis()

    _, said1, slots, history = await complaint_with_proof(
        sender,
        domain,
        f"order {minh.order.order_id} never arrived, my email is {minh.customer.email}",
        "complain_delivery",
        minh.order,
        minh.customer.email,
    )
    assert "utter_order_contact_verified" in said1
    text, said2, slots, history = await complaint_with_proof(
        sender,
        domain,
        f"also order {lan.order.order_id} arrived broken, my email is {lan.customer.email}",
        "complain_damaged",
        lan.order,
        lan.customer.email,
        history,
        slots,
    )
    assert "utter_order_contact_verified" in said2
    # The second reply is about Lan's order: nothing of Minh's, and no "again".
    assert "utter_repeat_contact" not in said2 and "utter_known_details" not in said2
    assert minh.customer.phone not in text and mask_phone(minh.customer.phone) not in text
    assert mask_email(minh.customer.email) not in text

    minh_id = await redis.get(keys.identity("shop", minh.customer.id))
    lan_id = await redis.get(keys.identity("shop", lan.customer.id))
    assert minh_id and lan_id and minh_id != lan_id
    # Each customer's identities point at their own record, never at the other's.
    assert await redis.get(keys.identity("email", minh.customer.email)) == minh_id
    assert await redis.get(keys.identity("phone", minh.customer.phone)) == minh_id
    assert await redis.get(keys.identity("email", lan.customer.email)) == lan_id
    assert (
        await memory.recall(redis, minh_id)
        and (await memory.recall(redis, minh_id))["email"] == minh.customer.email
    )
    assert (await memory.recall(redis, lan_id))["email"] == lan.customer.email
    # Minh keeps his cases (the earlier one, and this conversation's first); Lan has hers only.
    minh_orders = {c.order_id for c in await memory.cases_of(redis, minh_id)}
    lan_cases = await memory.cases_of(redis, lan_id)
    assert lan.order.order_id not in minh_orders
    assert [c.complaint_type for c in lan_cases] == ["complain_damaged"]
    assert minh.order.order_id not in {c.order_id for c in lan_cases}
    # The conversation is now Lan's.
    assert (await load_customer(tracker(sender, "hi"))).customer_id == lan_id


WIDGET = {"channel": "web", "identity": {"channel_id": "w-tablet"}}


async def test_two_people_on_one_device_keep_their_records_apart(redis_url, domain, monkeypatch):
    """Minh proves his order on the family tablet's widget and leaves; Lan, minutes later on
    the same widget session, writes about her own order. Nothing of Minh's reaches her
    (no "again", not his phone), her proof moves the conversation to her, and each keeps
    their own record."""
    sender = f"w{uuid.uuid4().hex[:12]}"
    minh = new_customer(redis_url, name="Minh", orders=(("in_transit", 900_000),))
    lan = new_customer(redis_url, name="Lan", orders=(("in_transit", 700_000),))
    await earlier_case(redis_url, domain, minh.customer, minh.order)  # a late parcel last month
    start = time.time()
    monkeypatch.setattr("actions.customer.clock", lambda: start)
    out, _ = await prove(
        sender, domain, minh.order, minh.customer.email, entities=[entity("email", minh.customer.email)]
    )
    assert responses(out) == ["utter_order_contact_verified"]
    minh_id = await proved_as(sender)

    monkeypatch.setattr("actions.customer.clock", lambda: start + 300)  # five minutes on
    text = f"my parcel is late too, order {lan.order.order_id}"
    trk = tracker(
        sender,
        text,
        "complain_delivery",
        [entity("order_id", lan.order.order_id)],
        slots={"order_id": lan.order.order_id, "verified_order": minh.order.order_id},
        metadata=WIDGET,
    )
    dispatcher, events = await run(ActionAcknowledgeComplaint(), trk, domain)
    slots = {**slots_set(events), "order_id": lan.order.order_id}
    reply = said(domain, dispatcher, slots)
    assert responses(dispatcher) == ["utter_apology_low"]  # no "again", no known details
    assert "again" not in reply and mask_phone(minh.customer.phone) not in reply
    assert mask_email(minh.customer.email) not in reply and "repeat_contact" not in slots["severity_reasons"]
    assert "email" not in slots and "phone" not in slots
    # Her order is not usable until she proves it: the form asks, then checks her email.
    needed = await FORM.required_slots(
        [],
        CollectingDispatcher(),
        tracker(sender, slots={**slots, "complaint_type": "complain_delivery"}, metadata=WIDGET),
        domain,
    )
    assert needed == ["order_id", "order_contact"]
    out, result = await prove(
        sender, domain, lan.order, lan.customer.email, entities=[entity("email", lan.customer.email)]
    )
    assert result["order_contact"] == "verified"

    redis = get_redis()
    lan_id = await proved_as(sender)
    assert lan_id == await redis.get(keys.identity("shop", lan.customer.id)) != minh_id
    assert minh_id == await redis.get(keys.identity("shop", minh.customer.id))
    assert await redis.get(keys.identity("phone", minh.customer.phone)) == minh_id
    assert (await memory.recall(redis, lan_id))["phone"] == lan.customer.phone
    assert [c.ref for c in await memory.cases_of(redis, lan_id)] == [slots["case_ref"]]
    assert slots["case_ref"] not in [c.ref for c in await memory.cases_of(redis, minh_id)]


async def test_verification_lapses_after_the_idle_time_and_the_order_is_asked_for_again(
    redis_url, domain, monkeypatch
):
    from actions.detail_questions import ActionAskOrderId

    sender = f"w{uuid.uuid4().hex[:12]}"
    minh = new_customer(redis_url, name="Minh", orders=(("in_transit", 900_000),))
    start = time.time()
    idle = memory.idle_seconds()
    monkeypatch.setattr("actions.customer.clock", lambda: start)
    await prove(
        sender, domain, minh.order, minh.customer.email, entities=[entity("email", minh.customer.email)]
    )
    slots = {"order_id": minh.order.order_id, "complaint_type": "complain_delivery"}

    async def asked(at):
        monkeypatch.setattr("actions.customer.clock", lambda: at)
        return await FORM.required_slots([], CollectingDispatcher(), tracker(sender, slots=slots), domain)

    # Each message within the idle time keeps the proof: his order needs nothing more.
    assert await asked(start + idle - 60) == ["order_id"]
    assert await asked(start + 2 * idle - 120) == ["order_id"]
    # Then the tablet lies idle: whoever writes next is a guest, asked to prove the order.
    later = start + 3 * idle
    assert await asked(later) == ["order_id", "order_contact"]
    dispatcher = CollectingDispatcher()
    await ActionAskOrderId().run(
        dispatcher, tracker(sender, "my parcel is late", "complain_delivery"), domain
    )
    assert responses(dispatcher) == ["utter_ask_order_id"]  # not his latest orders as buttons
    dispatcher, events = await run(ActionRecogniseCustomer(), tracker(sender, "hello", "greet"), domain)
    assert responses(dispatcher) == ["utter_greet"]
    assert await proved_as(sender) is None
