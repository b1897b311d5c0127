"""Handing over to a person (actions/handoff.py): the packet with the full context,
each detail verified or claimed, the summary in both languages, and the agent's hand-back."""

import json

from actions.complaint import ActionAcknowledgeComplaint
from actions.complaint_resolve import ActionResolveComplaint
from actions.handoff import ActionAgentHandback, ActionHandoff
from actions.store import get_redis
from contract import keys, memory
from contract.handoff import read_packet
from contract.handoff_requests import read_request
from tests.actions.helpers import (
    entity,
    payloads,
    render,
    responses,
    run,
    signed,
    signed_in,
    slots_set,
    tracker,
    user_event,
)
from tests.shop import new_customer


async def _complaint_then_offer(sender, domain, customer, metadata):
    order_id = customer.order.order_id
    trk = tracker(
        sender,
        f"my order {order_id} is late",
        "complain_delivery",
        [entity("order_id", order_id)],
        slots={"order_id": order_id},
        metadata=metadata,
    )
    _, ack = await run(ActionAcknowledgeComplaint(), trk, domain)
    slots = {**slots_set(ack), "order_id": order_id}
    _, resolved = await run(
        ActionResolveComplaint(), tracker(sender, "", "inform", slots=slots, metadata=metadata), domain
    )
    return {**slots, **slots_set(resolved)}


async def test_handoff_packet_holds_the_full_context(redis_url, domain, sender):
    lan = new_customer(redis_url, tier="gold", orders=(("in_transit", 1_250_000),))
    order_id, email = lan.order.order_id, lan.customer.email
    slots = await _complaint_then_offer(sender, domain, lan, signed_in(lan))
    first, second = slots["offered_remedies"]
    slots["remedy_answers"] = [{"remedy": first, "answer": "declined"}]
    history = [
        user_event(f"my order {order_id} is late", "complain_delivery"),
        {"event": "bot", "text": "I'm sorry about a late order."},
    ]
    trk = tracker(
        sender,
        "just put me through to a real person please",
        "request_human",
        slots=slots,
        history=history,
        metadata=signed_in(lan),
    )
    dispatcher, events = await run(ActionHandoff(), trk, domain)
    assert responses(dispatcher) == ["utter_handoff"]
    assert slots["case_ref"] in render(domain, dispatcher.messages[0], slots)
    packet = payloads(dispatcher)[0]["handoff"]
    assert read_packet(packet) is not None  # the contract's type, as the hub reads it
    assert packet["reason"] == "customer_asked" and packet["language"] == "en"
    # The hub's fields are the hub's to fill; the transcript stays with the hub.
    assert packet["conversation_id"] == "" and packet["channel"] == "" and "transcript" not in packet
    assert packet["intents"] == ["complain_delivery", "request_human"]
    assert packet["details"] == {"order_id": order_id, "email": email, "phone": lan.customer.phone}
    assert set(packet["details_trust"].values()) == {"verified"}
    assert packet["severity"]["level"] == slots["severity"]
    assert set(packet["severity"]["reasons"]) >= {"base", "gold_customer"}  # codes, not words
    assert packet["repeat_contact"] is bool(slots.get("repeat_contact"))
    assert packet["remedies"] == [
        {"remedy": first, "answer": "declined"},
        {"remedy": second, "answer": "no answer yet"},
    ]
    assert f"Order {order_id}" in packet["summary"]["en"] and "asked for a person" in packet["summary"]["en"]
    assert "gold customer" in packet["summary"]["en"] and "khách hạng vàng" in packet["summary"]["vi"]
    case = json.loads(await get_redis().get(keys.case(slots["case_ref"])))
    assert case["status"] == "handed_off" and case["handoff"]["reason"] == "customer_asked"
    assert {"event": "active_loop", "name": None} in [
        {k: e.get(k) for k in ("event", "name")} for e in events
    ]


async def test_vietnamese_handoff_summarises_in_both_languages(redis_url, domain, sender):
    trk = tracker(
        sender,
        "cho toi gap nhan vien",
        "request_human",
        language="vi",
        slots={"complaint_type": "complain_damaged", "severity": "medium"},
    )
    dispatcher, _ = await run(ActionHandoff(), trk, domain)
    packet = payloads(dispatcher)[0]["handoff"]
    assert set(packet["summary"]) == {"en", "vi"}
    assert packet["summary"]["vi"].startswith("Khách hàng liên hệ về món hàng bị hư hỏng")
    # About the customer, in the third person, in both languages.
    assert packet["summary"]["en"].startswith("The customer got in touch about an item that arrived damaged")
    assert not any(
        word in packet["summary"][lang].lower().split()
        for lang, word in (("en", "your"), ("en", "you"), ("vi", "anh/chị"))
    )
    assert render(domain, dispatcher.messages[0], {"language": "vi", "case_ref": "x"}).startswith("Dạ vâng")


def test_the_agent_sees_what_was_asked_for_beyond_the_offers_as_well():
    from actions.handoff import remedies_and_answers

    trk = tracker(
        "s",
        "hoan tien",
        "complain_refund",
        slots={
            "offered_remedies": ["priority_callback"],
            "remedy_answers": [
                {"remedy": "priority_callback", "answer": "declined"},
                {"remedy": "refund", "answer": "requested; needs approval"},
            ],
        },
    )
    assert remedies_and_answers(trk) == [
        {"remedy": "priority_callback", "answer": "declined"},
        {"remedy": "refund", "answer": "requested; needs approval"},
    ]
    trk = tracker("s", "", "inform", slots={"offered_remedies": ["refund"], "remedy_answers": []})
    assert remedies_and_answers(trk) == [{"remedy": "refund", "answer": "no answer yet"}]


async def test_handoff_marks_each_detail_verified_or_claimed(redis_url, domain, sender):
    lan = new_customer(redis_url, tier="vip")
    slots = {
        "order_id": lan.order.order_id,
        "email": lan.customer.email,
        "phone": "0900000001",
        "complaint_type": "complain_damaged",
        "severity": "high",
    }
    dispatcher, _ = await run(
        ActionHandoff(),
        tracker(sender, "a person please", "request_human", slots=slots, metadata=signed(lan.customer.id)),
        domain,
    )
    packet = payloads(dispatcher)[0]["handoff"]
    assert packet["customer"]["verified"] is True and packet["customer"]["verified_by"] == "shop_signature"
    assert packet["customer"]["email"] == lan.customer.email and packet["customer"]["tier"] == "vip"
    assert packet["details_trust"] == {"order_id": "verified", "email": "verified", "phone": "claimed"}


async def test_handback_without_an_agent_name_never_says_my_colleague_a_colleague(redis_url, domain, sender):
    trk = tracker(
        sender, "/agent_handback", "agent_handback", metadata={"handback": {"agent": "", "note": ""}}
    )
    dispatcher, _ = await run(ActionAgentHandback(), trk, domain)
    assert responses(dispatcher)[0] == "utter_handback_no_note_unnamed"
    said = render(domain, dispatcher.messages[0], {"language": "en"})
    assert said.startswith("Thanks for your patience while our team helped you")
    named, _ = await run(
        ActionAgentHandback(),
        tracker(
            sender + "n",
            "/agent_handback",
            "agent_handback",
            metadata={"handback": {"agent": "Linh", "note": ""}},
        ),
        domain,
    )
    assert "while Linh from our team helped you" in render(domain, named.messages[0], {"language": "en"})


async def test_the_packet_says_why_the_severity_is_what_it_is_as_the_case_keeps_it(redis_url, domain, sender):
    lan = new_customer(redis_url, tier="gold")
    _, ack = await run(
        ActionAcknowledgeComplaint(),
        tracker(
            sender,
            "the glass set arrived broken, this is ridiculous!!!",
            "complain_damaged",
            metadata=signed_in(lan),
        ),
        domain,
    )
    slots = slots_set(ack)
    assert slots["severity_reasons"] == ["base", "angry_tone", "gold_customer"]
    dispatcher, _ = await run(
        ActionHandoff(),
        tracker(sender, "a person please", "request_human", slots=slots, metadata=signed_in(lan)),
        domain,
    )
    severity = payloads(dispatcher)[0]["handoff"]["severity"]
    assert severity == {
        "level": "critical",
        "reasons": ["base", "angry_tone", "gold_customer"],
        "notes": ["base: complain_damaged (2)", "angry_tone: ridiculous, '!!!'"],
    }
    assert (await memory.load_case(get_redis(), slots["case_ref"])).severity.dict() == severity


async def test_the_hub_is_told_of_the_handoff_the_moment_it_is_decided(redis_url, domain, sender):
    """Before the action returns to Rasa, its packet is published for the hub to queue
    (contract/handoff_requests.py): the same packet the turn's reply carries."""
    listener = get_redis().pubsub()
    await listener.subscribe(keys.HANDOFF_REQUESTS)
    try:
        trk = tracker(sender, "I want to speak to a human", "request_human")
        dispatcher, _ = await run(ActionHandoff(), trk, domain)
        word = None
        while word is None or word[0] != sender:  # other tests may hand over meanwhile
            message = await listener.get_message(timeout=10)
            assert message is not None, f"no handoff word for {sender}"
            word = read_request(message["data"]) if message["type"] == "message" else None
        relayed = payloads(dispatcher)[0]["handoff"]
        assert word[1].payload() == relayed
        assert word[1].key() == read_packet(relayed).key()
    finally:
        await listener.unsubscribe()
        await listener.close()
