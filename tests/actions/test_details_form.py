import pytest

from actions.details_form import ValidateComplaintDetailsForm
from tests.actions.helpers import entity, tracker, user_event
from tests.shop import new_customer

FORM = ValidateComplaintDetailsForm()


async def required(sender, domain, **slots):
    from rasa_sdk.executor import CollectingDispatcher
    return await FORM.required_slots(["order_id", "email"], CollectingDispatcher(),
                                     tracker(sender, slots=slots), domain)


async def test_the_playbook_decides_which_details_are_needed(redis_url, domain, sender):
    assert await required(sender, domain, complaint_type="complain_delivery") == ["order_id"]
    assert await required(sender, domain, complaint_type="complain_account") == ["email"]
    assert await required(sender, domain, complaint_type="complain_staff") == []
    assert await required(sender, domain, complaint_type="complain_damaged", severity="critical") == []


async def validate(sender, domain, value, text=None, entities=(), attempts=0, language="en"):
    from rasa_sdk.executor import CollectingDispatcher
    dispatcher = CollectingDispatcher()
    trk = tracker(sender, text if text is not None else value, "inform", list(entities),
                  slots={"detail_attempts": attempts}, language=language)
    result = await FORM.validate_order_id(value, dispatcher, trk, domain)
    return dispatcher.messages, result


async def test_a_known_order_number_is_accepted(redis_url, domain, sender):
    order_id = new_customer(redis_url).order.order_id
    messages, result = await validate(sender, domain, f"it's #{order_id}", entities=[entity("order_id", order_id)])
    assert result == {"order_id": order_id, "detail_attempts": 0, "order_contact": None} and messages == []


async def test_a_too_short_number_is_explained_then_the_form_carries_on(redis_url, domain, sender):
    messages, result = await validate(sender, domain, "12345")
    assert messages[0]["response"] == "utter_order_id_bad_format" and messages[0]["digits"] == 5
    assert result == {"order_id": None, "detail_attempts": 1}
    messages, result = await validate(sender, domain, "99999999", attempts=1)
    # One coherent message: not "send it again" and "let's carry on" in the same turn.
    assert [m["response"] for m in messages] == ["utter_order_id_given_up"]
    assert result == {"order_id": "none", "detail_attempts": 0}  # never a third ask


@pytest.mark.parametrize("reply", ["I don't know it", "ko biet ma don", "where do I find that?"])
async def test_a_reply_with_no_number_says_what_is_needed_not_how_many_digits(redis_url, domain, sender, reply):
    messages, result = await validate(sender, domain, reply)
    # Not '"where do I find that?" has 0 digits': what an order number is and where it is.
    assert [m["response"] for m in messages] == ["utter_order_id_not_seen"]
    assert result == {"order_id": None, "detail_attempts": 1}
    messages, result = await validate(sender, domain, reply, attempts=1)
    assert [m["response"] for m in messages] == ["utter_detail_given_up"]
    assert result == {"order_id": "none", "detail_attempts": 0}


async def test_a_turn_that_explained_a_miss_does_not_ask_again(redis_url, domain, sender):
    from rasa_sdk.executor import CollectingDispatcher
    from actions.details_form import ActionAskOrderContact, ActionAskOrderId
    for action in (ActionAskOrderId(), ActionAskOrderContact()):
        first, again, later = CollectingDispatcher(), CollectingDispatcher(), CollectingDispatcher()
        slots = {"detail_attempts": 1, "order_id": "123456"}
        await action.run(first, tracker(sender, slots={**slots, "detail_attempts": 0}), domain)
        # This turn's validation explained a miss (its event follows the message): no second ask.
        explained = tracker(sender, "12345", "inform", slots=slots)
        explained.events.append({"event": "slot", "name": "detail_attempts", "value": 1})
        await action.run(again, explained, domain)
        # A miss explained in an earlier turn, then "what do you mean?": asked again.
        earlier = tracker(sender, "what do you mean?", "out_of_scope", slots=slots, history=[
            user_event("12345", "inform"), {"event": "slot", "name": "detail_attempts", "value": 1}])
        await action.run(later, earlier, domain)
        assert [m["response"] for m in first.messages] == [f"utter_ask_{action.slot}"]
        assert again.messages == []
        assert [m["response"] for m in later.messages] == [f"utter_ask_{action.slot}"]


async def test_an_unknown_order_offers_to_continue_or_a_person(redis_url, domain, sender):
    messages, result = await validate(sender, domain, "99999999")
    assert messages[0]["response"] == "utter_order_not_found"
    variants = domain["responses"]["utter_order_not_found"]
    assert all({b["payload"] for b in v["buttons"]} == {"/deny", "/request_human"} for v in variants)
    assert result["order_id"] is None


async def test_a_signed_in_customer_without_the_number_gets_their_latest_order(redis_url, domain, sender):
    minh = new_customer(redis_url, orders=(("shipped", 5_400_000), ("delivered", 480_000)))
    from rasa_sdk.executor import CollectingDispatcher
    dispatcher = CollectingDispatcher()
    trk = tracker(sender, "I don't know it", "inform", metadata={
        "channel": "web", "identity": {"channel_id": "w", "shop_customer": minh.customer.id}})
    result = await FORM.validate_order_id("I don't know it", dispatcher, trk, domain)
    assert dispatcher.messages[0]["response"] == "utter_found_order_by_contact"
    assert result["order_id"] == minh.orders[0].order_id  # the most recent


async def test_saying_no_means_carry_on_without_it(redis_url, domain, sender):
    messages, result = await validate(sender, domain, "none", text="I don't have it")
    assert result == {"order_id": "none", "detail_attempts": 0}
    assert messages[0]["response"] == "utter_detail_given_up"


async def test_an_invalid_email_is_explained(redis_url, domain, sender):
    from rasa_sdk.executor import CollectingDispatcher
    dispatcher = CollectingDispatcher()
    result = await FORM.validate_email("lan at example", dispatcher, tracker(sender, "lan at example", "inform"), domain)
    assert dispatcher.messages[0]["response"] == "utter_email_invalid"
    assert result == {"email": None, "detail_attempts": 1}


async def test_a_signed_in_customer_picks_the_order_from_their_latest_ones(redis_url, domain, sender):
    from rasa_sdk.executor import CollectingDispatcher
    from actions.details_form import ORDER_BUTTONS, ActionAskOrderId
    hoa = new_customer(redis_url, orders=tuple(("delivered", 480_000 + n) for n in range(ORDER_BUTTONS + 1)))
    signed = {"channel": "web", "identity": {"channel_id": "w", "shop_customer": hoa.customer.id}}
    dispatcher = CollectingDispatcher()
    await ActionAskOrderId().run(dispatcher, tracker(sender, "my order is late", "complain_delivery",
                                                     metadata=signed, language="vi"), domain)
    [asked] = dispatcher.messages
    assert asked["response"] == "utter_ask_order_id_yours"
    # The newest first, each sent back as its number, in the customer's language.
    newest = hoa.orders[:ORDER_BUTTONS]
    assert [b["payload"] for b in asked["buttons"]] == [f'/inform{{"order_id": "{o.order_id}"}}' for o in newest]
    assert asked["buttons"][0]["title"] == f"{newest[0].order_id}: {newest[0].items['vi']}"


async def test_anyone_not_verified_is_shown_no_orders_even_with_the_owners_email(redis_url, domain, sender):
    from rasa_sdk.executor import CollectingDispatcher
    from actions.details_form import ActionAskOrderId
    hoa = new_customer(redis_url)
    dispatcher = CollectingDispatcher()
    await ActionAskOrderId().run(dispatcher, tracker(sender, f"I'm {hoa.customer.email}, my order is late",
                                                     "complain_delivery", [entity("email", hoa.customer.email)]), domain)
    assert [m["response"] for m in dispatcher.messages] == ["utter_ask_order_id"]
    assert hoa.order.order_id not in str(dispatcher.messages)
