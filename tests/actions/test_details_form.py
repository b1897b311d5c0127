"""The details form (actions/details_form.py): only what is missing is asked for, what
looks wrong is explained, and an order is used only once proved the customer's (its
email or phone), with wrong answers counted across conversations; against a real Redis."""

import json
import uuid

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.complaint_resolve import ActionResolveComplaint
from actions.detail_questions import ActionAskOrderContact
from actions.details_form import ValidateComplaintDetailsForm
from actions.orders import order_store
from actions.store import get_redis
from contract import keys, memory
from contract.identity import mask_email
from tests.actions.helpers import (
    earlier_case,
    entity,
    payloads,
    prove,
    proved_as,
    render,
    responses,
    run,
    tracker,
    user_event,
)
from tests.shop import new_customer

FORM = ValidateComplaintDetailsForm()


async def required(sender, domain, **slots):
    return await FORM.required_slots(
        ["order_id", "email"], CollectingDispatcher(), tracker(sender, slots=slots), domain
    )


async def test_the_playbook_decides_which_details_are_needed(redis_url, domain, sender):
    assert await required(sender, domain, complaint_type="complain_delivery") == ["order_id"]
    assert await required(sender, domain, complaint_type="complain_account") == ["email"]
    assert await required(sender, domain, complaint_type="complain_staff") == []
    assert await required(sender, domain, complaint_type="complain_damaged", severity="critical") == []


async def validate(sender, domain, value, text=None, entities=(), attempts=0, language="en"):
    dispatcher = CollectingDispatcher()
    trk = tracker(
        sender,
        text if text is not None else value,
        "inform",
        list(entities),
        slots={"detail_attempts": attempts},
        language=language,
    )
    result = await FORM.validate_order_id(value, dispatcher, trk, domain)
    return dispatcher.messages, result


async def test_a_known_order_number_is_accepted(redis_url, domain, sender):
    order_id = new_customer(redis_url).order.order_id
    messages, result = await validate(
        sender, domain, f"it's #{order_id}", entities=[entity("order_id", order_id)]
    )
    assert result == {"order_id": order_id, "detail_attempts": 0, "order_contact": None} and messages == []


async def test_a_too_short_number_is_explained_then_the_form_carries_on(redis_url, domain, sender):
    messages, result = await validate(sender, domain, "12345")
    assert messages[0]["response"] == "utter_order_id_bad_format" and messages[0]["digits"] == 5
    assert result == {"order_id": None, "detail_attempts": 1}
    messages, result = await validate(sender, domain, "1234", attempts=1)
    # One coherent message: not "send it again" and "let's carry on" in the same turn.
    assert [m["response"] for m in messages] == ["utter_order_id_given_up"]
    assert result == {"order_id": "none", "detail_attempts": 0}  # never a third ask


@pytest.mark.parametrize("reply", ["I don't know it", "ko biet ma don", "where do I find that?"])
async def test_a_reply_with_no_number_says_what_is_needed_not_how_many_digits(
    redis_url, domain, sender, reply
):
    messages, result = await validate(sender, domain, reply)
    # Not '"where do I find that?" has 0 digits': what an order number is and where it is.
    assert [m["response"] for m in messages] == ["utter_order_id_not_seen"]
    assert result == {"order_id": None, "detail_attempts": 1}
    messages, result = await validate(sender, domain, reply, attempts=1)
    assert [m["response"] for m in messages] == ["utter_detail_given_up"]
    assert result == {"order_id": "none", "detail_attempts": 0}


async def test_a_turn_that_explained_a_miss_does_not_ask_again(redis_url, domain, sender):
    from actions.detail_questions import ActionAskOrderContact, ActionAskOrderId

    for action in (ActionAskOrderId(), ActionAskOrderContact()):
        first, again, later = CollectingDispatcher(), CollectingDispatcher(), CollectingDispatcher()
        slots = {"detail_attempts": 1, "order_id": "123456"}
        await action.run(first, tracker(sender, slots={**slots, "detail_attempts": 0}), domain)
        # This turn's validation explained a miss (its event follows the message): no second ask.
        explained = tracker(sender, "12345", "inform", slots=slots)
        explained.events.append({"event": "slot", "name": "detail_attempts", "value": 1})
        await action.run(again, explained, domain)
        # A miss explained in an earlier turn, then "what do you mean?": asked again.
        earlier = tracker(
            sender,
            "what do you mean?",
            "out_of_scope",
            slots=slots,
            history=[user_event("12345", "inform"), {"event": "slot", "name": "detail_attempts", "value": 1}],
        )
        await action.run(later, earlier, domain)
        assert [m["response"] for m in first.messages] == [f"utter_ask_{action.slot}"]
        assert again.messages == []
        assert [m["response"] for m in later.messages] == [f"utter_ask_{action.slot}"]


async def test_before_any_proof_a_number_that_is_no_order_gets_the_same_answers_as_an_order(
    redis_url, domain, sender
):
    """No order-number oracle: found or not, "what's the email or phone on it?", then
    "that doesn't match" (counted against the number either way), in both languages."""
    lan = new_customer(redis_url)
    nobody = "9" + uuid.uuid4().int.__str__()[:8]  # 9 digits, the tests' orders' shape
    assert await order_store().get_order(nobody) is None

    def answers(order_id, language):
        return [
            (m["response"], render(domain, m, {"order_id": order_id, "language": language}))
            for m in out.messages
        ]

    for language in ("en", "vi"):
        said = {}
        for order_id in (lan.order.order_id, nobody):
            who = f"{sender}-{language}-{order_id}"
            out = CollectingDispatcher()
            result = await FORM.validate_order_id(
                order_id,
                out,
                tracker(who, order_id, "inform", [entity("order_id", order_id)], language=language),
                domain,
            )
            assert result == {"order_id": order_id, "detail_attempts": 0, "order_contact": None}
            needed = await FORM.required_slots(
                [],
                CollectingDispatcher(),
                tracker(who, slots={"order_id": order_id, "complaint_type": "complain_delivery"}),
                domain,
            )
            assert needed == ["order_id", "order_contact"]
            out = CollectingDispatcher()
            await ActionAskOrderContact().run(
                out, tracker(who, slots={"order_id": order_id}, language=language), domain
            )
            asked = answers(order_id, language)
            out = CollectingDispatcher()
            wrong = "nobody@example.test"
            result = await FORM.validate_order_contact(
                wrong,
                out,
                tracker(
                    who,
                    wrong,
                    "inform",
                    [entity("email", wrong)],
                    language=language,
                    slots={
                        "order_id": order_id,
                        "order_contact": wrong,
                        "complaint_type": "complain_delivery",
                    },
                ),
                domain,
            )
            said[order_id] = (asked, answers(order_id, language), result)
            assert int(await get_redis().get(keys.order_proof_failures(order_id))) >= 1
        (asked_a, missed_a, result_a), (asked_b, missed_b, result_b) = said.values()
        # The same replies, word for word but the number.
        assert [(r, t.replace(lan.order.order_id, "N")) for r, t in asked_a] == [
            (r, t.replace(nobody, "N")) for r, t in asked_b
        ]
        assert [(r, t.replace(lan.order.order_id, "N")) for r, t in missed_a] == [
            (r, t.replace(nobody, "N")) for r, t in missed_b
        ]
        assert [r for r, _ in missed_a] == ["utter_order_contact_mismatch"] and result_a == result_b
        assert "found" not in " ".join(t for _, t in asked_a + missed_a)


async def test_a_signed_in_customer_without_the_number_gets_their_latest_order(redis_url, domain, sender):
    minh = new_customer(redis_url, orders=(("shipped", 5_400_000), ("delivered", 480_000)))
    dispatcher = CollectingDispatcher()
    trk = tracker(
        sender,
        "I don't know it",
        "inform",
        metadata={"channel": "web", "identity": {"channel_id": "w", "shop_customer": minh.customer.id}},
    )
    result = await FORM.validate_order_id("I don't know it", dispatcher, trk, domain)
    assert dispatcher.messages[0]["response"] == "utter_found_order_by_contact"
    assert result["order_id"] == minh.orders[0].order_id  # the most recent


async def test_saying_no_means_carry_on_without_it(redis_url, domain, sender):
    messages, result = await validate(sender, domain, "none", text="I don't have it")
    assert result == {"order_id": "none", "detail_attempts": 0}
    assert messages[0]["response"] == "utter_detail_given_up"


async def test_an_invalid_email_is_explained(redis_url, domain, sender):
    dispatcher = CollectingDispatcher()
    result = await FORM.validate_email(
        "lan at example", dispatcher, tracker(sender, "lan at example", "inform"), domain
    )
    assert dispatcher.messages[0]["response"] == "utter_email_invalid"
    assert result == {"email": None, "detail_attempts": 1}


async def test_a_signed_in_customer_picks_the_order_from_their_latest_ones(redis_url, domain, sender):
    from actions.detail_questions import ORDER_BUTTONS, ActionAskOrderId

    hoa = new_customer(redis_url, orders=tuple(("delivered", 480_000 + n) for n in range(ORDER_BUTTONS + 1)))
    signed = {"channel": "web", "identity": {"channel_id": "w", "shop_customer": hoa.customer.id}}
    dispatcher = CollectingDispatcher()
    await ActionAskOrderId().run(
        dispatcher,
        tracker(sender, "my order is late", "complain_delivery", metadata=signed, language="vi"),
        domain,
    )
    [asked] = dispatcher.messages
    assert asked["response"] == "utter_ask_order_id_yours"
    # The newest first, each sent back as its number, in the customer's language.
    newest = hoa.orders[:ORDER_BUTTONS]
    assert [b["payload"] for b in asked["buttons"]] == [
        f'/inform{{"order_id": "{o.order_id}"}}' for o in newest
    ]
    assert asked["buttons"][0]["title"] == f"{newest[0].order_id}: {newest[0].items['vi']}"


async def test_anyone_not_verified_is_shown_no_orders_even_with_the_owners_email(redis_url, domain, sender):
    from actions.detail_questions import ActionAskOrderId

    hoa = new_customer(redis_url)
    dispatcher = CollectingDispatcher()
    await ActionAskOrderId().run(
        dispatcher,
        tracker(
            sender,
            f"I'm {hoa.customer.email}, my order is late",
            "complain_delivery",
            [entity("email", hoa.customer.email)],
        ),
        domain,
    )
    assert [m["response"] for m in dispatcher.messages] == ["utter_ask_order_id"]
    assert hoa.order.order_id not in str(dispatcher.messages)


async def test_the_order_and_its_email_verify_the_customer_and_unlock_the_order(redis_url, domain, sender):
    lan = new_customer(redis_url, tier="gold", orders=(("in_transit", 1_250_000),))
    await earlier_case(redis_url, domain, lan.customer, lan.order)
    redis = get_redis()
    out, result = await prove(
        sender,
        domain,
        lan.order,
        lan.customer.email.upper(),
        entities=[entity("email", lan.customer.email.upper())],
    )
    assert responses(out) == ["utter_order_contact_verified"]
    assert result["order_contact"] == "verified" and result["verified_order"] == lan.order.order_id
    # This conversation is now the verified customer's, with their earlier case.
    linked = await proved_as(sender)
    assert linked == await redis.get(keys.identity("shop", lan.customer.id))
    assert await memory.is_verified(redis, linked)
    assert len(await memory.cases_of(redis, linked)) == 1
    assert 0 < await redis.ttl(keys.customer_cases(linked)) <= memory.retention()

    slots = {
        "order_id": lan.order.order_id,
        "complaint_type": "complain_delivery",
        "severity": "medium",
        "verified_order": lan.order.order_id,
    }
    dispatcher, events = await run(
        ActionResolveComplaint(), tracker(sender, "", "inform", slots=slots), domain
    )
    assert responses(dispatcher)[0] == "utter_order_found"
    assert lan.order.items["en"] in render(domain, dispatcher.messages[0], slots)


async def test_a_phone_in_another_format_also_proves_it(redis_url, domain, sender):
    thu = new_customer(redis_url, phone="0912" + uuid.uuid4().int.__str__()[:6])
    international = "+84 " + thu.customer.phone[1:4] + " " + thu.customer.phone[4:]
    out, result = await prove(
        sender, domain, thu.order, international, entities=[entity("phone", international)]
    )
    assert result["order_contact"] == "verified"


async def test_two_wrong_answers_and_the_bot_carries_on_without_the_order(redis_url, domain, sender):
    lan = new_customer(redis_url)
    out, result = await prove(
        sender, domain, lan.order, "someone@example.com", entities=[entity("email", "someone@example.com")]
    )
    assert responses(out) == ["utter_order_contact_mismatch"]
    assert result == {"order_contact": None, "detail_attempts": 1}
    mismatch = render(domain, out.messages[0], {})
    assert lan.customer.email not in mismatch and mask_email(lan.customer.email) not in mismatch
    out, result = await prove(
        sender, domain, lan.order, "0900000000", attempts=1, entities=[entity("phone", "0900000000")]
    )
    assert responses(out) == ["utter_order_contact_given_up"]
    assert result == {"order_contact": "none", "detail_attempts": 0}
    assert await proved_as(sender) is None

    # Carrying on: nothing about the order is shown or used; the agent gets it, marked claimed.
    slots = {
        "order_id": lan.order.order_id,
        "complaint_type": "complain_damaged",
        "severity": "medium",
        "order_contact": "none",
    }
    dispatcher, _ = await run(ActionResolveComplaint(), tracker(sender, "", "inform", slots=slots), domain)
    assert "utter_order_found" not in responses(dispatcher)
    packet = payloads(dispatcher)[0]["handoff"]  # no remedy fits a damaged item without its order
    assert packet["order"] is None and packet["claimed_order"]["order_id"] == lan.order.order_id
    assert packet["details_trust"] == {"order_id": "claimed"}
    assert packet["customer"]["verified"] is False and packet["customer"]["email"] == ""


@pytest.mark.parametrize(
    "reply", ["any update?", "why do you need that", "co gi moi chua", "the order number is {order}"]
)
async def test_a_reply_with_no_contact_in_it_is_asked_for_again_and_counts_against_nothing(
    redis_url, domain, sender, reply
):
    lan = new_customer(redis_url)
    reply = reply.format(order=lan.order.order_id)
    out, result = await prove(sender, domain, lan.order, reply)
    # Never "the email or phone you gave doesn't match": none was given.
    assert responses(out) == ["utter_order_contact_not_seen"]
    assert result == {"order_contact": None, "detail_attempts": 1}
    assert await get_redis().get(keys.order_proof_failures(lan.order.order_id)) is None
    assert lan.customer.email not in render(domain, out.messages[0], {})
    # The second such reply carries on without the order, as "I don't have it" does, but
    # says why (not "no problem", which answered nothing the customer said).
    out, result = await prove(sender, domain, lan.order, reply, attempts=1)
    assert responses(out) == ["utter_order_contact_not_given"]
    assert result == {"order_contact": "none", "detail_attempts": 0}
    assert await get_redis().get(keys.order_proof_failures(lan.order.order_id)) is None


async def test_after_a_contact_that_did_not_match_another_reply_is_not_called_no_contact(
    redis_url, domain, sender
):
    """A wrong email, then "I want a refund": the bot carries on without the order, and
    never says it "still can't see an email": the customer gave one."""
    lan = new_customer(redis_url)
    out, _ = await prove(
        sender, domain, lan.order, "a@example.com", entities=[entity("email", "a@example.com")]
    )
    assert responses(out) == ["utter_order_contact_mismatch"]
    said = {"event": "bot", "text": "...", "metadata": {"utter_action": "utter_order_contact_mismatch"}}
    out, result = await prove(sender, domain, lan.order, "I want a refund", attempts=1, history=[said])
    assert responses(out) == ["utter_order_contact_set_aside"]
    assert result == {"order_contact": "none", "detail_attempts": 0}
    assert "can't see" not in render(domain, out.messages[0], {})


async def test_a_contact_without_entities_is_still_checked(redis_url, domain, sender):
    lan = new_customer(redis_url)
    out, result = await prove(sender, domain, lan.order, "it's 0999 111 222")
    assert responses(out) == ["utter_order_contact_mismatch"]
    assert await get_redis().get(keys.order_proof_failures(lan.order.order_id)) == "1"


async def opening(sender, domain, order_id, text, contact_entity):
    """The form's first look at a complaint that named the order and a contact at once."""
    out = CollectingDispatcher()
    trk = tracker(
        sender,
        text,
        "complain_delivery",
        [entity("order_id", order_id), contact_entity],
        slots={"order_id": order_id, "complaint_type": "complain_delivery"},
    )
    return out, await FORM.validate_order_id(order_id, out, trk, domain)


async def test_wrong_answers_for_one_order_across_conversations_lock_it_for_the_day(
    redis_url, domain, sender
):
    from contract.identity import MAX_PROOF_FAILURES

    lan = new_customer(redis_url)
    # Each new chat gets its two tries, but they all count against the order.
    for n in range(MAX_PROOF_FAILURES):
        out, _ = await prove(
            f"guess-{n}-{uuid.uuid4().hex[:6]}",
            domain,
            lan.order,
            f"09000000{n:02d}",
            attempts=n % 2,
            entities=[entity("phone", f"09000000{n:02d}")],
        )
        assert "utter_order_contact_verified" not in responses(out)
    # Now even the right answer is not checked, so the lock tells nothing about it.
    out, result = await prove(
        sender, domain, lan.order, lan.customer.phone, entities=[entity("phone", lan.customer.phone)]
    )
    assert responses(out) == ["utter_order_contact_locked"]
    assert result == {"order_contact": "none", "detail_attempts": 0}
    assert await proved_as(sender) is None
    assert lan.customer.phone not in render(domain, out.messages[0], {})
    ttl = await get_redis().ttl(keys.order_proof_failures(lan.order.order_id))
    assert 0 < ttl <= keys.ORDER_PROOF_WINDOW
    # Another order is not locked by it.
    other = new_customer(redis_url)
    out, result = await prove(
        sender, domain, other.order, other.customer.email, entities=[entity("email", other.customer.email)]
    )
    assert result["order_contact"] == "verified"


async def test_a_contact_given_with_the_order_number_is_checked_at_once(redis_url, domain, sender):
    lan = new_customer(redis_url)
    order_id = lan.order.order_id
    out, result = await opening(
        sender,
        domain,
        order_id,
        f"order {order_id} is late, I'm {lan.customer.email}",
        entity("email", lan.customer.email),
    )
    assert responses(out) == ["utter_order_contact_verified"]  # never asked for what was just given
    assert result["order_id"] == order_id and result["verified_order"] == order_id
    assert await proved_as(sender)

    stranger = f"stranger-{uuid.uuid4().hex[:8]}"
    out, result = await opening(
        stranger, domain, order_id, f"don {order_id} chua toi, sdt 0900000001", entity("phone", "0900000001")
    )
    # Said to be wrong, once; that explanation asks again, so the form's own question is skipped.
    assert responses(out) == ["utter_order_contact_mismatch"]
    assert result == {"order_id": order_id, "order_contact": None, "detail_attempts": 1}
    assert "verified_order" not in result
    assert await proved_as(stranger) is None


async def test_a_contact_given_earlier_in_this_complaint_is_checked_when_the_form_starts(
    redis_url, domain, sender
):
    minh = new_customer(redis_url)
    order_id, phone = minh.order.order_id, minh.customer.phone

    def started(who, history):
        # "hang cua don N bi vo" -> which of these? -> "sdt ..." -> the button: the form starts.
        return tracker(
            who,
            "/complain_damaged",
            "complain_damaged",
            history=history,
            slots={"order_id": order_id, "complaint_type": "complain_damaged"},
            language="vi",
        )

    complaint = user_event(
        f"hang cua don {order_id} bi vo", "complain_damaged", [entity("order_id", order_id)]
    )
    detail = user_event(f"sdt {phone}", "inform", [entity("phone", phone)])
    out = CollectingDispatcher()
    result = await FORM.validate_order_id(order_id, out, started(sender, [complaint, detail]), domain)
    assert responses(out) == ["utter_order_contact_verified"] and result["verified_order"] == order_id

    # A contact from an earlier complaint, already resolved, is not this one's: asked as usual.
    other = f"other-{uuid.uuid4().hex[:8]}"
    resolved = {"event": "action", "name": "action_resolve_complaint"}
    out = CollectingDispatcher()
    result = await FORM.validate_order_id(
        order_id, out, started(other, [detail, resolved, complaint]), domain
    )
    assert out.messages == [] and result == {
        "order_id": order_id,
        "detail_attempts": 0,
        "order_contact": None,
    }


def no_order() -> str:
    return "8" + uuid.uuid4().int.__str__()[:8]  # well formed, an order of nobody's


async def answer(sender, domain, order_id, given, client=None):
    """A reply to "what's the email or phone on order N?" from a widget client."""
    metadata = {"channel": "web", "identity": {"channel_id": sender}}
    if client:
        metadata["client"] = client
    out = CollectingDispatcher()
    entities = [entity("email" if "@" in given else "phone", given)]
    result = await FORM.validate_order_contact(
        given,
        out,
        tracker(
            sender,
            given,
            "inform",
            entities,
            metadata=metadata,
            slots={"order_id": order_id, "order_contact": given, "complaint_type": "complain_delivery"},
        ),
        domain,
    )
    return out, result


async def test_wrong_answers_are_counted_per_conversation_too_whatever_the_order(redis_url, domain, sender):
    from contract.identity import MAX_PROOF_FAILURES_PER_SENDER

    for n in range(MAX_PROOF_FAILURES_PER_SENDER):  # a new number each time: no order's own lock
        out, _ = await answer(sender, domain, no_order(), f"guess{n}@example.test")
        assert responses(out) == ["utter_order_contact_mismatch"]
    assert 0 < await get_redis().ttl(keys.sender_proof_failures(sender)) <= keys.ORDER_PROOF_WINDOW
    # This conversation may check nothing more today, not even a right answer...
    lan = new_customer(redis_url)
    out, result = await answer(sender, domain, lan.order.order_id, lan.customer.email)
    assert responses(out) == ["utter_order_contact_locked"] and result["order_contact"] == "none"
    assert await proved_as(sender) is None
    # ... while another conversation may.
    out, result = await answer(sender + "-b", domain, lan.order.order_id, lan.customer.email)
    assert result["order_contact"] == "verified"


async def test_wrong_answers_are_counted_per_client_address_too(redis_url, domain, sender):
    from contract.identity import MAX_PROOF_FAILURES_PER_ADDRESS

    client, other = uuid.uuid4().hex, uuid.uuid4().hex  # the hub's keyed hashes of two addresses
    for n in range(MAX_PROOF_FAILURES_PER_ADDRESS):  # a new chat and a new number each time
        await answer(f"{sender}-{n}", domain, no_order(), f"09{n:08d}", client=client)
    ttl = await get_redis().ttl(keys.address_proof_failures(client))
    assert 0 < ttl <= keys.ADDRESS_PROOF_WINDOW
    lan = new_customer(redis_url)
    out, result = await answer(f"{sender}-new", domain, lan.order.order_id, lan.customer.email, client=client)
    assert responses(out) == ["utter_order_contact_locked"]
    out, result = await answer(
        f"{sender}-elsewhere", domain, lan.order.order_id, lan.customer.email, client=other
    )
    assert result["order_contact"] == "verified"


async def test_a_lock_asks_the_hub_to_email_the_owner_a_link_the_same_for_any_number(
    redis_url, domain, sender
):
    from contract.identity import MAX_PROOF_FAILURES

    lan = new_customer(redis_url)
    nobody = no_order()
    for order_id in (lan.order.order_id, nobody):
        for n in range(MAX_PROOF_FAILURES):
            await answer(f"{sender}-{order_id}-{n}", domain, order_id, f"09{n:08d}")
    requests = {}
    for order_id in (lan.order.order_id, nobody):
        out, result = await answer(f"{sender}-{order_id}", domain, order_id, lan.customer.email)
        assert responses(out) == ["utter_order_contact_locked"] and result["order_contact"] == "none"
        [link] = payloads(out)
        requests[order_id] = await get_redis().hgetall(keys.proof_link_request(link["proof_link"]))
        assert (
            0
            < await get_redis().ttl(keys.proof_link_request(link["proof_link"]))
            <= keys.PROOF_LINK_REQUEST_TTL
        )
    # For the order, its owner: the hub may write to the email on it (never shown to anyone).
    mine = requests[lan.order.order_id]
    assert mine["conversation"] == f"{sender}-{lan.order.order_id}" and mine["email"] == lan.customer.email
    assert ["shop", lan.customer.id] in json.loads(mine["identities"])
    # For a number that is no order, the same request with nobody to write to.
    assert requests[nobody]["email"] == "" and requests[nobody]["order"] == nobody


async def test_a_signed_in_customer_is_never_locked_out_of_their_own_order(redis_url, domain, sender):
    from contract.identity import MAX_PROOF_FAILURES

    lan = new_customer(redis_url, orders=(("in_transit", 700_000),))
    order_id = lan.order.order_id
    await get_redis().set(
        keys.order_proof_failures(order_id), MAX_PROOF_FAILURES + 3, ex=keys.ORDER_PROOF_WINDOW
    )
    signed = {"channel": "web", "identity": {"channel_id": "w", "shop_customer": lan.customer.id}}
    # Strangers locked the order; the owner, signed in on the shop's site, is asked nothing.
    out = CollectingDispatcher()
    text = f"order {order_id} is late, my email is {lan.customer.email}"
    result = await FORM.validate_order_id(
        order_id,
        out,
        tracker(
            sender,
            text,
            "complain_delivery",
            [entity("order_id", order_id), entity("email", lan.customer.email)],
            slots={"complaint_type": "complain_delivery"},
            metadata=signed,
        ),
        domain,
    )
    assert out.messages == [] and result["order_id"] == order_id
    needed = await FORM.required_slots(
        [],
        CollectingDispatcher(),
        tracker(sender, slots={"order_id": order_id, "complaint_type": "complain_delivery"}, metadata=signed),
        domain,
    )
    assert needed == ["order_id"]
    dispatcher, _ = await run(
        ActionResolveComplaint(),
        tracker(
            sender,
            "",
            "inform",
            metadata=signed,
            slots={"order_id": order_id, "complaint_type": "complain_delivery", "severity": "low"},
        ),
        domain,
    )
    assert responses(dispatcher)[0] == "utter_order_found"
    assert "utter_order_contact_locked" not in responses(dispatcher)


async def test_the_proof_question_asked_again_is_not_a_thank_you_again(redis_url, domain, sender):
    """After an answer to a question asked instead ("do you deliver on Sundays?"), the
    proof question comes again without its opening "Thanks."."""
    slots = {"order_id": "2207718"}
    first = CollectingDispatcher()
    await ActionAskOrderContact().run(first, tracker(sender, slots=slots), domain)
    assert responses(first) == ["utter_ask_order_contact"]
    asked = {"event": "bot", "text": "...", "metadata": {"utter_action": "utter_ask_order_contact"}}
    again = CollectingDispatcher()
    trk = tracker(sender, "do you deliver on sundays?", "ask_question", slots=slots, history=[asked])
    await ActionAskOrderContact().run(again, trk, domain)
    assert responses(again) == ["utter_ask_order_contact_repeat"]
    said = render(domain, again.messages[0], slots)
    assert not said.startswith("Thanks") and "2207718" in said


async def test_why_the_detail_is_asked_is_answered_and_no_miss_is_counted(redis_url, domain, sender):
    """ "sao phải cho số điện thoại vậy" (why must I give my phone?) is read as a detail
    being given (it names one): not "I can't see an email or phone", but why, and the
    question again, with nothing counted against the customer."""
    lan = new_customer(redis_url)
    slots = {"order_id": lan.order.order_id, "requested_slot": "order_contact", "detail_attempts": 0}
    said = "sao phai cho so dien thoai vay"
    out = CollectingDispatcher()
    trk = tracker(sender, said, "inform", slots=slots, language="vi")
    result = await FORM.validate_order_contact(said, out, trk, domain)
    assert responses(out) == ["utter_why_we_ask"]
    assert result == {"order_contact": None}
