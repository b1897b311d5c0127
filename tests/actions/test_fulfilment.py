"""Carrying out an accepted remedy (actions/fulfilment.py): a `task` remedy becomes a
fulfilment task for the team with what it needs (contract/tasks.py), an `api` one is
carried out by the order backend (here the demo shop's own order system) and only then
"Done:", an `api` one the backend refuses becomes a task with the refusal noted, and
"how is my case going?" tells what is true. Real Redis, the real domain, the tests'
playbook. The platform connectors' side is tests/backends/test_api_remedies.py."""

import json
import time

import pytest

from actions.cases import ActionCaseStatus
from actions.remedies import ActionApplyRemedy
from actions.store import get_redis
from contract import events, keys, tasks
from tests.actions.helpers import (
    _resolved,
    entity,
    glasses,
    recorded,
    render,
    responses,
    run,
    signed_in,
    slots_set,
    tracker,
)
from tests.shop import new_customer


async def accepted(sender, domain, customer, complaint, answer, language="en", intent="affirm", entities=()):
    """The customer accepts an offer; the slots after it, and what the bot said."""
    _, slots = await _resolved(sender, domain, customer, complaint, language=language)
    dispatcher, events_ = await run(
        ActionApplyRemedy(),
        tracker(
            sender,
            answer,
            intent,
            list(entities),
            slots=slots,
            language=language,
            metadata=signed_in(customer),
        ),
        domain,
    )
    return {**slots, **slots_set(events_)}, dispatcher


@pytest.mark.parametrize(
    "language, promised",
    [
        (
            "en",
            "I've asked our team to send a replacement today; I'll message you here when it's on its way. "
            "Your case reference is {ref}.",
        ),
        (
            "vi",
            "Em đã báo đội ngũ gửi sản phẩm thay thế ngay trong hôm nay; khi hàng được gửi đi em sẽ nhắn "
            "anh/chị tại đây ạ. Mã hồ sơ của anh/chị là {ref}.",
        ),
    ],
)
async def test_a_task_remedy_is_promised_and_becomes_a_task_with_what_the_team_needs(
    redis_url, domain, sender, language, promised
):
    since = time.time() - 1
    minh = glasses(redis_url)
    slots, dispatcher = await accepted(sender, domain, minh, "complain_damaged", "yes please", language)
    ref = slots["case_ref"]
    assert responses(dispatcher)[0] == "utter_remedy_promised"
    assert render(domain, dispatcher.messages[0], {**slots, "language": language}) == promised.format(ref=ref)
    task = await tasks.get(get_redis(), f"{ref}-replacement")
    assert task.status == "open" and task.remedy == "replacement" and task.case_ref == ref
    assert (task.order_id, task.amount, task.currency) == (minh.order.order_id, 480_000, "VND")
    assert task.customer == tasks.TaskCustomer(
        name="Thu", email=minh.customer.email, phone=minh.customer.phone, verified=True
    )
    assert task.conversation_id == sender and task.channel == "web" and task.language == language
    assert task.due_at - task.created_at == pytest.approx(8 * 3600)  # the playbook's due_hours
    assert task.api_failure == "" and task.done_text["en"].startswith("A replacement is on its way")
    assert await get_redis().zscore(keys.TASKS_OPEN, task.id) == pytest.approx(task.due_at)
    made = [e for e in await recorded(sender, since) if e["kind"] == "task_made"]
    assert made == [
        {
            "kind": "task_made",
            "cid": await events.ref(get_redis(), sender),  # events name it by its ref
            "at": pytest.approx(task.created_at, abs=0.01),
            "task": task.id,
            "remedy": "replacement",
            "due_at": pytest.approx(task.due_at),
            "api_failure": False,
        }
    ]
    case = json.loads(await get_redis().get(keys.case(ref)))
    assert case["tasks"] == [task.id]


async def test_an_api_remedy_the_order_system_carries_out_is_done_and_no_task(redis_url, domain, sender):
    since = time.time() - 1
    minh = glasses(redis_url)
    slots, dispatcher = await accepted(
        sender,
        domain,
        minh,
        "complain_damaged",
        "a refund please",
        intent="choose_remedy",
        entities=[entity("remedy", "refund")],
    )
    assert slots["applied_remedy"] == "refund"
    assert responses(dispatcher)[0] == "utter_remedy_done"
    assert render(domain, dispatcher.messages[0], slots).startswith("Done: Your full refund is on its way")
    # The demo shop's order system holds the refund, of the order's full value, once.
    assert await get_redis().hvals(keys.shop_refunds(minh.order.order_id)) == ["480000"]
    assert await tasks.of_conversation(get_redis(), sender) == []
    carried = [e for e in await recorded(sender, since) if e["kind"] == "carried_out"]
    assert [(e["remedy"], e["complaint_type"]) for e in carried] == [("refund", "complain_damaged")]


async def test_an_api_remedy_the_order_system_refuses_becomes_a_task_with_the_refusal_noted(
    redis_url, domain, sender
):
    hoa = new_customer(redis_url, tier="silver", orders=(("processing", 650_000),))
    _, slots = await _resolved(sender, domain, hoa, "cancel_order")
    assert slots["offered_remedies"] == ["cancel"]
    # Meanwhile the warehouse shipped it: the order system refuses to cancel.
    order = json.loads(await get_redis().get(keys.shop_order(hoa.order.order_id)))
    await get_redis().set(keys.shop_order(hoa.order.order_id), json.dumps({**order, "status": "shipped"}))
    dispatcher, events_ = await run(
        ActionApplyRemedy(), tracker(sender, "yes", "affirm", slots=slots, metadata=signed_in(hoa)), domain
    )
    slots = {**slots, **slots_set(events_)}
    assert responses(dispatcher)[0] == "utter_remedy_promised"  # never "Done:"
    assert render(domain, dispatcher.messages[0], slots).startswith(
        "I've asked our team to cancel the order and refund you in full; I'll message you here when it's done."
    )
    task = await tasks.get(get_redis(), f"{slots['case_ref']}-cancel")
    assert task.status == "open" and task.order_id == hoa.order.order_id and task.amount == 650_000
    assert (
        task.api_failure
        == "cancel refused: the order is shipped: only an order not shipped yet can be cancelled"
    )
    assert task.due_at - task.created_at == pytest.approx(4 * 3600)
    assert await get_redis().hvals(keys.shop_refunds(hoa.order.order_id)) == []  # nothing refunded either


async def test_a_remedy_made_twice_is_one_task(redis_url, domain, sender):
    minh = glasses(redis_url)
    _, slots = await _resolved(sender, domain, minh, "complain_damaged")
    for _ in range(2):  # Rasa may call the action again (a retry)
        await run(
            ActionApplyRemedy(),
            tracker(sender, "yes", "affirm", slots=slots, metadata=signed_in(minh)),
            domain,
        )
    assert [t.id for t in await tasks.of_conversation(get_redis(), sender)] == [
        f"{slots['case_ref']}-replacement"
    ]
    case = json.loads(await get_redis().get(keys.case(slots["case_ref"])))
    assert case["tasks"] == [f"{slots['case_ref']}-replacement"]


async def case_status(sender, domain, slots, language="en"):
    dispatcher, _ = await run(
        ActionCaseStatus(),
        tracker(
            sender,
            "any news on my case?",
            "ask_case_status",
            slots={**slots, "order_id": None},
            language=language,
        ),
        domain,
    )
    return responses(dispatcher), render(domain, dispatcher.messages[0], {**slots, "language": language})


async def test_how_the_case_stands_is_what_is_true_of_its_task(redis_url, domain, sender):
    minh = glasses(redis_url)
    slots, _ = await accepted(sender, domain, minh, "complain_damaged", "yes please")
    ref, task = slots["case_ref"], f"{slots['case_ref']}-replacement"
    said, text = await case_status(sender, domain, slots)
    assert said == ["utter_case_status_promised"]
    assert "Our team is on it (send a replacement)" in text and "I'll message you here" in text
    assert "what was done" not in text
    await tasks.claim(get_redis(), task, "mai")
    await tasks.close(get_redis(), task, "mai", "done", "sent with GHN 123")
    said, text = await case_status(sender, domain, slots)
    assert said == ["utter_case_status_remedy"]
    assert (
        text.endswith(
            "Here's what was done: A replacement is on its way with free shipping; "
            "you don't need to send anything back first."
        )
        and ref in text
    )


async def test_a_failed_task_is_said_so_with_a_colleague_to_put_it_right(redis_url, domain, sender):
    minh = glasses(redis_url)
    slots, _ = await accepted(sender, domain, minh, "complain_damaged", "vang", "vi")
    task = f"{slots['case_ref']}-replacement"
    await tasks.claim(get_redis(), task, "mai")
    await tasks.close(get_redis(), task, "mai", "failed", "out of stock")
    said, text = await case_status(sender, domain, slots, "vi")
    assert said == ["utter_case_status_failed"]
    assert (
        "shop chưa thể gửi ngay một sản phẩm thay thế trong hôm nay, miễn phí vận chuyển như đã hứa" in text
    )


async def test_a_task_is_claimed_once_and_closed_only_by_who_claimed_it(redis_url):
    redis = get_redis()
    now = time.time()
    task = tasks.Task(
        id=f"SR-T{int(now * 1000)}-voucher_15",
        remedy="voucher_15",
        case_ref="SR-T",
        conversation_id=f"rest-t{int(now * 1000)}",
        created_at=now,
        due_at=now - 60,
    )
    assert await tasks.make(redis, task) and not await tasks.make(redis, task)
    with pytest.raises(tasks.TaskConflict, match="claim the task first"):
        await tasks.close(redis, task.id, "mai", "done")
    await tasks.claim(redis, task.id, "mai")
    with pytest.raises(tasks.TaskConflict, match="claimed by mai"):
        await tasks.claim(redis, task.id, "lan")
    with pytest.raises(tasks.TaskConflict, match="claim the task first"):
        await tasks.close(redis, task.id, "lan", "done")
    with pytest.raises(ValueError, match="needs a note"):
        await tasks.close(redis, task.id, "mai", "failed", "  ")
    closed = await tasks.close(redis, task.id, "mai", "done", now=now + 5)
    assert closed.status == "done" and not closed.on_time  # it was due a minute before
    assert await redis.zscore(keys.TASKS_OPEN, task.id) is None
    assert await redis.zscore(keys.TASKS_CLOSED, task.id) == pytest.approx(now + 5)
    with pytest.raises(tasks.TaskConflict, match="done already"):
        await tasks.close(redis, task.id, "mai", "failed", "oops")
    found = [e for e in await events.read(redis, now - 1, now + 10) if e.get("task") == task.id]
    assert [(e["kind"], e.get("outcome"), e.get("on_time"), e.get("overdue")) for e in found] == [
        ("task_made", None, None, None),
        ("task_closed", "done", False, 65.0),
    ]
