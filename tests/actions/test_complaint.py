"""The recovery flow's actions against a real Redis and the real domain and playbook.

Each test has a customer and orders of its own (tests/shop.py), signed in on the shop's
site (the hub passes the verified shop id in the metadata), so the order is theirs."""

import json

import pytest

from contract import keys
from actions.complaint import ActionAcknowledgeComplaint, ActionAskWhatHappened, ActionResolveComplaint
from actions.csat import ActionRecordCsat
from actions.remedies import ActionApplyRemedy, ActionOfferAlternatives
from nlu.details import extract_details
from actions.orders import order_store
from actions.store import get_redis
from tests.actions.helpers import entity, payloads, render, responses, run, slots_set, tracker
from tests.shop import new_customer


def signed_in(customer):
    return {"channel": "web", "identity": {"channel_id": "w", "shop_customer": customer.customer.id}}


async def acknowledge(sender, domain, text, intent, entities=(), language="en", slots=None, metadata=None):
    trk = tracker(sender, text, intent, list(entities), slots=slots, language=language, metadata=metadata)
    return await run(ActionAcknowledgeComplaint(), trk, domain)


async def test_acknowledge_apologises_in_proportion_and_opens_a_case(redis_url, domain, sender):
    lan = new_customer(redis_url, tier="gold", orders=(("in_transit", 1_250_000),))
    order_id = lan.order.order_id
    dispatcher, events = await acknowledge(
        sender, domain, f"my order #{order_id} was meant to arrive on Monday, second time this happens",
        "complain_delivery", [entity("order_id", order_id)], slots={"order_id": order_id},
        metadata=signed_in(lan))
    slots = slots_set(events)
    # late delivery (1) + repeat contact (1) + gold customer (1) = medium
    assert slots["severity"] == "medium"
    assert "repeat_contact" in slots["severity_reasons"] and "gold_customer" in slots["severity_reasons"]
    assert responses(dispatcher) == ["utter_apology_medium", "utter_repeat_contact", "utter_known_details"]
    assert "I'm really sorry your order hasn't reached you." in render(domain, dispatcher.messages[0], slots)
    case = json.loads(await get_redis().get(keys.case(slots["case_ref"])))
    assert case["status"] == "open" and case["complaint_type"] == "complain_delivery"
    assert await get_redis().ttl(keys.case(slots["case_ref"])) > 0


async def test_an_angry_customer_gets_a_stronger_apology(redis_url, domain, sender):
    calm, _ = await acknowledge(sender, domain, "the glass set arrived broken", "complain_damaged")
    angry, _ = await acknowledge(sender + "x", domain, "the glass set arrived broken, this is ridiculous!!!",
                                 "complain_damaged")
    assert responses(calm) == ["utter_apology_medium"]
    assert responses(angry) == ["utter_apology_high"]


async def test_vietnamese_apology_renders_in_vietnamese(redis_url, domain, sender):
    dispatcher, events = await acknowledge(sender, domain, "hang giao toi bi vo het roi", "complain_damaged",
                                           language="vi")
    text = render(domain, dispatcher.messages[0], {**slots_set(events), "language": "vi"})
    assert text.startswith("Em") and "hư hỏng" in text


async def _resolved(sender, domain, customer, complaint, language="en", text="help"):
    """Acknowledge and resolve a complaint about the customer's first order; the
    tracker the later steps need is rebuilt from the returned slots (and metadata)."""
    order_id = customer.order.order_id
    meta = signed_in(customer)
    _, ack = await acknowledge(sender, domain, text, complaint, language=language,
                               slots={"order_id": order_id}, metadata=meta)
    slots = {**slots_set(ack), "order_id": order_id}
    dispatcher, events = await run(ActionResolveComplaint(), tracker(
        sender, "", "inform", slots=slots, language=language, metadata=meta), domain)
    return dispatcher, {**slots, **slots_set(events)}


def glasses(redis_url):
    return new_customer(redis_url, orders=(("delivered", 480_000),))


async def test_resolve_looks_the_order_up_and_offers_two_remedies_and_a_person(redis_url, domain, sender):
    minh = glasses(redis_url)
    dispatcher, slots = await _resolved(sender, domain, minh, "complain_damaged")
    assert responses(dispatcher) == ["utter_order_found", "utter_offer_remedies"]
    found = render(domain, dispatcher.messages[0], slots)
    assert minh.order.order_id in found and minh.order.items["en"] in found and "delivered" in found
    assert slots["offered_remedies"] == ["replacement", "refund"]
    buttons = dispatcher.messages[1]["buttons"]
    assert [b["payload"] for b in buttons] == [
        '/choose_remedy{"remedy": "replacement"}', '/choose_remedy{"remedy": "refund"}', "/request_human"]
    offer = render(domain, dispatcher.messages[1], slots)
    assert "send a replacement today" in offer and ", or refund the full amount" in offer


async def test_accepting_an_offer_applies_it_and_closes_with_reference_thanks_and_csat(redis_url, domain, sender):
    minh = glasses(redis_url)
    _, slots = await _resolved(sender, domain, minh, "complain_damaged")
    dispatcher, events = await run(ActionApplyRemedy(), tracker(
        sender, "yes please", "affirm", slots=slots, metadata=signed_in(minh)), domain)
    assert responses(dispatcher) == ["utter_remedy_done", "utter_thanks_close", "utter_ask_csat"]
    done = render(domain, dispatcher.messages[0], slots)
    assert "replacement is on its way" in done and slots["case_ref"] in done
    case = json.loads(await get_redis().get(keys.case(slots["case_ref"])))
    assert case["status"] == "remedy_in_progress" and case["applied_remedy"] == "replacement"

    assert slots_set(events)["csat_asked"] is True
    slots = {**slots, **slots_set(events)}
    dispatcher, answered = await run(ActionRecordCsat(), tracker(
        sender, "/rate", "rate", [entity("rating", "5")], slots=slots, metadata=signed_in(minh)), domain)
    assert responses(dispatcher) == ["utter_csat_thanks"]
    case = json.loads(await get_redis().get(keys.case(slots["case_ref"])))
    assert case["csat"] == 5
    assert slots_set(answered) == {"csat_asked": False}


async def test_declining_brings_concrete_alternatives_never_a_bare_no(redis_url, domain, sender):
    # 1,250,000 VND: a full refund is above the bot's limit.
    lan = new_customer(redis_url, tier="gold", orders=(("in_transit", 1_250_000),))
    _, slots = await _resolved(sender, domain, lan, "complain_delivery",
                               text="my order is late, second time")
    assert slots["offered_remedies"] == ["reship_express", "refund_shipping"]
    dispatcher, events = await run(ActionOfferAlternatives(), tracker(
        sender, "neither, I just want my money back", "deny", [entity("remedy", "refund")],
        slots=slots, metadata=signed_in(lan)), domain)
    assert "Full refund is something I can't grant on my own" in render(domain, dispatcher.messages[0], slots)
    alternatives = dispatcher.messages[1]["buttons"]
    assert 2 <= len(alternatives) <= 3 and alternatives[-1]["payload"] == "/request_human"
    one_left = len(alternatives) == 2
    assert responses(dispatcher) == [
        "utter_needs_colleague", "utter_alternative_single" if one_left else "utter_alternatives"]
    answers = slots_set(events)["remedy_answers"]
    assert {"remedy": "reship_express", "answer": "declined"} in answers
    assert {"remedy": "refund", "answer": "requested; needs approval"} in answers


async def test_asking_for_an_allowed_remedy_offers_it(redis_url, domain, sender):
    # 480,000 VND is within the refund limit: the wanted refund is offered first.
    minh = glasses(redis_url)
    _, slots = await _resolved(sender, domain, minh, "complain_damaged", language="vi",
                               text="hang bi vo")
    slots["offered_remedies"] = ["replacement"]
    dispatcher, events = await run(ActionOfferAlternatives(), tracker(
        sender, "ko can doi, tra tien lai cho toi", "deny", [entity("remedy", "refund")],
        slots=slots, language="vi", metadata=signed_in(minh)), domain)
    assert responses(dispatcher) == ["utter_alternatives"]
    assert dispatcher.messages[0]["buttons"][0]["payload"] == '/choose_remedy{"remedy": "refund"}'
    assert render(domain, dispatcher.messages[0], {**slots, "language": "vi"}).startswith("Dạ em hiểu")


async def test_declining_everything_hands_off(redis_url, domain, sender):
    lan = new_customer(redis_url, tier="gold", orders=(("delivered", 320_000),))
    _, slots = await _resolved(sender, domain, lan, "complain_wrong_item")
    slots["offered_remedies"] = ["exchange", "refund", "voucher_15"]
    dispatcher, _ = await run(ActionOfferAlternatives(), tracker(
        sender, "no", "deny", slots=slots, metadata=signed_in(lan)), domain)
    assert responses(dispatcher) == ["utter_handoff_no_options"]
    assert payloads(dispatcher)[0]["handoff"]["reason"] == "alternatives_declined"


async def test_a_critical_case_goes_straight_to_a_person(redis_url, domain, sender):
    hoa = new_customer(redis_url, tier="silver", orders=(("delivered", 1_890_000),))
    order_id = hoa.order.order_id
    _, ack = await acknowledge(sender, domain, "the robot vacuum caught fire in my flat", "complain_defect",
                               slots={"order_id": order_id}, metadata=signed_in(hoa))
    assert slots_set(ack)["severity"] == "critical"
    slots = {**slots_set(ack), "order_id": order_id}
    dispatcher, events = await run(ActionResolveComplaint(), tracker(
        sender, "", "inform", slots=slots, metadata=signed_in(hoa)), domain)
    assert responses(dispatcher) == ["utter_handoff"]
    packet = payloads(dispatcher)[0]["handoff"]
    assert packet["reason"] == "critical_severity"
    assert packet["order"]["order_id"] == order_id


async def test_a_cancellation_of_an_unshipped_order_cancels_it(redis_url, domain, sender):
    hoa = new_customer(redis_url, tier="silver", orders=(("processing", 650_000),))
    _, slots = await _resolved(sender, domain, hoa, "cancel_order")
    assert slots["offered_remedies"] == ["cancel"]
    dispatcher, _ = await run(ActionApplyRemedy(), tracker(
        sender, "yes", "affirm", slots=slots, metadata=signed_in(hoa)), domain)
    assert "cancelled" in render(domain, dispatcher.messages[0], slots)
    assert (await order_store().get_order(hoa.order.order_id)).status == "cancelled"


async def test_asking_in_words_for_the_family_of_the_offered_exchange_applies_the_exchange(redis_url, domain, sender):
    # "doi hang" reads as the replacement family; a wrong-size complaint was offered the
    # shop's exchange, which is in that family: the exchange is what the customer gets.
    minh = glasses(redis_url)
    _, slots = await _resolved(sender, domain, minh, "complain_wrong_item", language="vi",
                               text="giao nham size roi")
    assert slots["offered_remedies"][0] == "exchange"
    dispatcher, events = await run(ActionApplyRemedy(), tracker(
        sender, "doi hang giup minh", "choose_remedy", [entity("remedy", "replacement")],
        slots=slots, language="vi", metadata=signed_in(minh)), domain)
    assert responses(dispatcher) == ["utter_remedy_done", "utter_thanks_close", "utter_ask_csat"]
    assert slots_set(events)["applied_remedy"] == "exchange"


async def test_turning_the_offer_down_while_naming_its_family_asks_for_the_other_remedy(redis_url, domain, sender):
    # Offered the shipping fee back (a refund-family remedy), "neither, I just want my
    # money back" means the full refund: never the declined shipping refund.
    lan = new_customer(redis_url, tier="gold", orders=(("in_transit", 1_250_000),))
    _, slots = await _resolved(sender, domain, lan, "complain_delivery")
    assert "refund_shipping" in slots["offered_remedies"]
    said = "neither, I just want my money back"
    found = extract_details(said)
    assert [e["value"] for e in found] == ["refund"]
    dispatcher, events = await run(ActionApplyRemedy(), tracker(
        sender, said, "choose_remedy", found, slots=slots, metadata=signed_in(lan)), domain)
    assert "applied_remedy" not in slots_set(events)
    assert "utter_remedy_done" not in responses(dispatcher)
    assert "approv" in render(domain, dispatcher.messages[0], slots)  # a full refund this size needs a colleague


async def test_turning_down_one_offer_to_take_the_other_applies_the_one_named(redis_url, domain, sender):
    # Offered a replacement or a refund: "ko can doi, hoan tien" is the offered refund.
    minh = glasses(redis_url)
    _, slots = await _resolved(sender, domain, minh, "complain_damaged", language="vi")
    assert slots["offered_remedies"] == ["replacement", "refund"]
    said = "ko can doi, hoan tien cho minh"
    dispatcher, events = await run(ActionApplyRemedy(), tracker(
        sender, said, "choose_remedy", extract_details(said), slots=slots, language="vi",
        metadata=signed_in(minh)), domain)
    assert slots_set(events)["applied_remedy"] == "refund"


@pytest.mark.parametrize("intent", ["choose_remedy", "deny"])
async def test_refusing_one_offer_by_name_keeps_the_other_and_grants_nothing(redis_url, domain, sender, intent):
    # Offered a replacement or a refund, "no, not a refund" is a no to the refund only:
    # nothing is carried out, the refund counts as declined, the replacement is offered again.
    minh = glasses(redis_url)
    _, slots = await _resolved(sender, domain, minh, "complain_damaged")
    assert slots["offered_remedies"] == ["replacement", "refund"]
    said = "no, not a refund"
    action = ActionApplyRemedy() if intent == "choose_remedy" else ActionOfferAlternatives()
    dispatcher, events = await run(action, tracker(
        sender, said, intent, extract_details(said), slots=slots, metadata=signed_in(minh)), domain)
    set_now = slots_set(events)
    assert "applied_remedy" not in set_now and "utter_remedy_done" not in responses(dispatcher)
    assert set_now["remedy_answers"] == [{"remedy": "refund", "answer": "declined"}]
    offered = [b["payload"] for b in dispatcher.messages[0]["buttons"]]
    assert offered[0] == '/choose_remedy{"remedy": "replacement"}'
    assert '/choose_remedy{"remedy": "refund"}' not in offered
    # With one option left the question is yes or no, not "which would you prefer?".
    assert len(offered) == 2 and responses(dispatcher) == ["utter_alternative_single"]
    assert render(domain, dispatcher.messages[0], slots).endswith("Shall I go ahead?")


async def test_wanting_one_remedy_while_refusing_another_grants_the_one_wanted(redis_url, domain, sender):
    minh = glasses(redis_url)
    _, slots = await _resolved(sender, domain, minh, "complain_damaged", language="vi")
    said = "khong muon hoan tien ma muon doi hang"
    dispatcher, events = await run(ActionApplyRemedy(), tracker(
        sender, said, "choose_remedy", extract_details(said), slots=slots, language="vi",
        metadata=signed_in(minh)), domain)
    assert slots_set(events)["applied_remedy"] == "replacement"


async def test_a_complaint_that_names_no_problem_gets_a_general_apology_and_the_question(redis_url, domain, sender):
    dispatcher, events = await run(ActionAskWhatHappened(), tracker(
        sender, "toi muon khieu nai", "complain_general", language="vi"), domain)
    assert responses(dispatcher) == ["utter_general_complaint"]
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == ["/request_human"]
    assert render(domain, dispatcher.messages[0], {"language": "vi"}).startswith("Em rất tiếc")
    assert events == []  # nothing opened yet: the answer is the complaint


async def test_a_remedy_asked_for_first_is_offered_first_once_the_problem_is_told(redis_url, domain, sender):
    # "I want a refund" as the first message.
    dispatcher, events = await run(ActionAskWhatHappened(), tracker(
        sender, "I want a refund", "choose_remedy", [entity("remedy", "refund")]), domain)
    assert responses(dispatcher) == ["utter_remedy_needs_reason"]
    assert slots_set(events) == {"wanted_remedy": "refund"}
    # Then "it arrived broken": a damaged complaint offers the replacement first, unless
    # the customer already said what they want.
    minh = glasses(redis_url)
    _, plain = await _resolved(sender + "p", domain, minh, "complain_damaged")
    assert plain["offered_remedies"] == ["replacement", "refund"]
    order_id = minh.order.order_id
    _, ack = await acknowledge(sender, domain, "it arrived broken", "complain_damaged",
                               slots={"order_id": order_id, "wanted_remedy": "refund"}, metadata=signed_in(minh))
    slots = {**slots_set(ack), "order_id": order_id, "wanted_remedy": "refund"}
    _, resolved = await run(ActionResolveComplaint(), tracker(
        sender, "", "inform", slots=slots, metadata=signed_in(minh)), domain)
    assert slots_set(resolved)["offered_remedies"] == ["refund", "replacement"]


async def test_a_voucher_into_the_shop_account_is_offered_only_to_a_verified_customer(redis_url, domain, sender):
    # A late parcel whose owner never proved it ("I don't have it"): the bot knows no
    # account to put a voucher in, so a person takes over instead of a promise.
    slots = {"complaint_type": "complain_delivery", "order_id": "none", "order": None}
    dispatcher, events = await run(ActionResolveComplaint(), tracker(
        sender, "", "deny", slots=slots), domain)
    assert responses(dispatcher) == ["utter_handoff_not_proved"]
    assert payloads(dispatcher)[0]["handoff"]["reason"] == "order_not_proved"
    assert "offered_remedies" not in slots_set(events)
    # The same complaint from a signed-in customer: the voucher is theirs to have.
    hoa = new_customer(redis_url)
    dispatcher, events = await run(ActionResolveComplaint(), tracker(
        sender + "v", "", "deny", slots=slots, metadata=signed_in(hoa)), domain)
    assert slots_set(events)["offered_remedies"] == ["voucher_15"]


def answering_an_offer(sender, text, intent, ranking, slots, metadata, language="en", last_action="action_resolve_complaint"):
    """A message sent in answer to the offer the bot's last turn made."""
    from tests.actions.helpers import user_event
    history = [user_event("help", "complain_damaged"), {"event": "action", "name": last_action},
               {"event": "action", "name": "action_listen"}]
    trk = tracker(sender, text, intent, [entity("remedy", "refund")], slots=slots, history=history,
                  language=language, metadata=metadata)
    trk.latest_message["intent_ranking"] = [{"name": n, "confidence": c} for n, c in ranking]
    return trk


@pytest.mark.parametrize("language, text, last_action", [
    ("vi", "hoan tien", "action_resolve_complaint"),
    ("en", "what about a refund?", "action_offer_alternatives"),
])
async def test_a_remedy_word_read_as_a_complaint_answers_the_open_offer(redis_url, domain, sender,
                                                                        language, text, last_action):
    minh = glasses(redis_url)
    _, slots = await _resolved(sender, domain, minh, "complain_damaged", language=language)
    ranking = [("complain_refund", 0.6), ("choose_remedy", 0.35)]
    trk = answering_an_offer(sender, text, "complain_refund", ranking, slots, signed_in(minh), language, last_action)
    dispatcher, events = await run(ActionAcknowledgeComplaint(), trk, domain)
    # No new apology, no new case: the rules hand the message to action_apply_remedy.
    assert dispatcher.messages == [] and slots_set(events) == {"complaint_check": "remedy"}
    dispatcher, events = await run(ActionApplyRemedy(), trk, domain)
    assert responses(dispatcher)[0] == "utter_remedy_done"
    assert slots_set(events)["applied_remedy"] == "refund" and slots_set(events)["complaint_check"] is None


async def test_a_new_complaint_while_an_offer_is_open_is_still_a_complaint(redis_url, domain, sender):
    minh = glasses(redis_url)
    _, slots = await _resolved(sender, domain, minh, "complain_damaged")
    # The classifier has no doubt it is a complaint about a refund: a new complaint.
    sure = answering_an_offer(sender, "and my refund for last month never came", "complain_refund",
                              [("complain_refund", 0.97), ("choose_remedy", 0.02)], slots, signed_in(minh))
    dispatcher, events = await run(ActionAcknowledgeComplaint(), sure, domain)
    assert responses(dispatcher)[0].startswith("utter_apology_") and slots_set(events)["complaint_check"] is None
    # No offer open (the last turn asked for something else): a complaint too.
    asked = answering_an_offer(sender, "hoan tien", "complain_refund", [("complain_refund", 0.6), ("choose_remedy", 0.35)],
                               slots, signed_in(minh), "vi", last_action="action_recognise_customer")
    dispatcher, events = await run(ActionAcknowledgeComplaint(), asked, domain)
    assert responses(dispatcher)[0].startswith("utter_apology_")


async def test_an_earlier_case_about_something_else_is_no_repeat_contact(redis_url, domain, sender):
    import uuid
    from contract import memory

    async def complaint(customer, text, complaint_type, order):
        """A complaint acknowledged and resolved about `order` (the case keeps the order)."""
        dispatcher, events = await acknowledge(f"c-{uuid.uuid4().hex[:8]}", domain, text, complaint_type,
                                               slots={"order_id": order.order_id}, metadata=signed_in(customer))
        case = await memory.load_case(get_redis(), slots_set(events)["case_ref"])
        await memory.save_case(get_redis(), case.customer_id, case.changed(order_id=order.order_id))
        return dispatcher, slots_set(events)["severity_reasons"]

    def two_orders():
        return new_customer(redis_url, orders=(("in_transit", 400_000), ("delivered", 300_000)))

    # Another problem about another order: apologised for once, not "again".
    lan = two_orders()
    await complaint(lan, "my parcel is late", "complain_delivery", lan.orders[0])
    dispatcher, reasons = await complaint(lan, "the glasses arrived broken", "complain_damaged", lan.orders[1])
    assert "repeat_contact" not in reasons and "utter_repeat_contact" not in responses(dispatcher)
    # The same order again (another type), or the same type again (another order): repeats.
    minh = two_orders()
    await complaint(minh, "my parcel is late", "complain_delivery", minh.orders[0])
    assert "repeat_contact" in (await complaint(minh, "it came broken", "complain_damaged", minh.orders[0]))[1]
    thu = two_orders()
    await complaint(thu, "my parcel is late", "complain_delivery", thu.orders[0])
    assert "repeat_contact" in (await complaint(thu, "the other one is late too", "complain_delivery", thu.orders[1]))[1]


@pytest.mark.parametrize("text, intent, language", [
    ("what about a refund?", "complain_refund", "en"),  # read as a refund complaint, a choice close
    ("cho em tra tien lai di", "choose_remedy", "vi"),
])
async def test_a_remedy_asked_for_instead_of_answering_which_of_these_is_kept_and_the_question_comes_again(
        redis_url, domain, sender, text, intent, language):
    from actions.complaint import ActionNoteDetail
    slots = {"complaint_check": "asked", "complaint_choices": ["complain_defect", "complain_delivery"]}
    trk = answering_an_offer(sender, text, intent, [(intent, 0.6), ("choose_remedy" if intent != "choose_remedy"
                             else "complain_refund", 0.35)], slots, None, language, last_action="action_acknowledge_complaint")
    action = ActionAcknowledgeComplaint() if intent.startswith("complain_") else ActionNoteDetail()
    dispatcher, events = await run(action, trk, domain)
    assert responses(dispatcher) == ["utter_wish_noted_which"]
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == ["/complain_defect", "/complain_delivery", "/deny"]
    assert slots_set(events) == {"complaint_check": "asked", "wanted_remedy": "refund",
                                 "complaint_choices": ["complain_defect", "complain_delivery"]}
    # One of the types offered, even with a remedy word in it, is the answer.
    answer = answering_an_offer(sender, "it stopped working, I want a refund", "complain_defect",
                                [("complain_defect", 0.6), ("choose_remedy", 0.35)], slots, None, language,
                                last_action="action_acknowledge_complaint")
    dispatcher, events = await run(ActionAcknowledgeComplaint(), answer, domain)
    assert responses(dispatcher)[0].startswith("utter_apology_") and slots_set(events)["complaint_check"] is None
