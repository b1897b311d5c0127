"""actions/memory.py: a customer found by an order number (the shop's order store), and
forgetting them, by function and by its command, against a real Redis."""

import json
import os
from pathlib import Path
import subprocess
import sys
import time
import uuid

import pytest

from actions.memory import forget
from actions.store import get_redis
from contract import keys, memory, tasks
from contract.case import Case
from tests.actions.helpers import earlier_case, entity, prove
from tests.shop import new_customer

ROOT = Path(__file__).resolve().parent.parent.parent


def task_of(cid: str) -> tasks.Task:
    return tasks.Task(
        id=f"SR-{cid}-replacement",
        remedy="replacement",
        case_ref=f"SR-{cid}",
        conversation_id=cid,
        customer=tasks.TaskCustomer(name="Lan", email="lan@example.test", verified=True),
        created_at=time.time(),
        due_at=time.time() + 3600,
    )


async def a_conversation_of_theirs(redis, cid: str, agent: str) -> None:
    """What the hub and Rasa keep of one conversation: every key, its place in the queue,
    the follow-ups and the call-backs, its agent's set, and a fulfilment task (which
    names the customer)."""
    for key in keys.conversation_keys(cid):
        if key == keys.conversation(cid):
            await redis.hset(key, mapping={"state": "agent", "agent": agent})
        elif key == keys.conversation_sessions(cid):  # its widget session
            await redis.sadd(key, f"h-{cid}")
            await redis.hset(keys.widget_session(f"h-{cid}"), "conversation", cid)
        elif key != keys.conversation_tasks(cid):  # listed by the task made below
            await redis.set(key, "kept")
    for members in keys.CONVERSATION_SETS:
        await redis.zadd(members, {cid: 1})
    await redis.sadd(keys.agent_conversations(agent), cid)
    assert await tasks.make(redis, task_of(cid))


async def test_the_forget_command_leaves_nothing_of_the_customers_conversations(redis_url):
    lan = new_customer(redis_url)
    redis = get_redis()
    cids = [f"rest-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    agent = f"agent-{uuid.uuid4().hex[:6]}"
    customer_id = await memory.link_verified(
        redis, [("shop", lan.customer.id), ("email", lan.customer.email)], {"email": lan.customer.email}
    )
    await memory.attach_conversation(
        redis, cids[0], customer_id, lan.order.order_id, "order_and_contact", time.time()
    )
    case = await memory.save_case(
        redis, customer_id, Case.new(cids[1], "complain_delivery", order_id=lan.order.order_id)
    )
    for cid in cids:
        await a_conversation_of_theirs(redis, cid, agent)
    command = [sys.executable, "-m", "actions.memory", "forget", lan.order.order_id]
    done = subprocess.run(
        command,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT), "REDIS_URL": redis_url},
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "customer_id": customer_id,
        "cases": 1,
        "identities": 2,
        "conversations": sorted(cids),
    }
    for cid in cids:
        # What the console's forget test checks (tests/hub/test_identity.py), and the rest of the list.
        assert (
            await redis.exists(
                keys.conversation(cid), keys.transcript(cid), keys.rasa_tracker(cid), keys.callback(cid)
            )
            == 0
        )
        assert await redis.zscore(keys.CALLBACKS, cid) is None and await redis.zscore(keys.QUEUE, cid) is None
        assert await redis.exists(*keys.conversation_keys(cid)) == 0, cid
        assert [await redis.zscore(members, cid) for members in keys.CONVERSATION_SETS] == [None] * 3
        assert not await redis.sismember(keys.agent_conversations(agent), cid)
        assert await redis.exists(keys.identity("sender", cid), keys.widget_session(f"h-{cid}")) == 0
        task = task_of(cid).id
        assert await redis.exists(keys.task(task)) == 0 and await redis.zscore(keys.TASKS_OPEN, task) is None
    assert await redis.exists(keys.case(case.ref), keys.order_cases(lan.order.order_id)) == 0
    again = subprocess.run(
        command,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT), "REDIS_URL": redis_url},
    )
    assert again.returncode == 1 and "nothing is remembered" in again.stdout


async def test_forgetting_a_customer_deletes_memory_identities_and_cases(redis_url, domain, sender):
    lan = new_customer(redis_url)
    ref = await earlier_case(redis_url, domain, lan.customer, lan.order)
    await prove(sender, domain, lan.order, lan.customer.email, entities=[entity("email", lan.customer.email)])
    redis = get_redis()
    customer_id = await redis.get(keys.identity("shop", lan.customer.id))
    erased = await forget(redis, lan.customer.phone)
    assert erased["customer_id"] == customer_id and erased["cases"] == 1
    assert sender in erased["conversations"]
    for key in (
        keys.identity("shop", lan.customer.id),
        keys.identity("email", lan.customer.email),
        keys.session_proof(sender),
        keys.verified_as(sender),
        keys.case(ref),
        keys.customer(customer_id),
        keys.customer_cases(customer_id),
        keys.customer_identities(customer_id),
    ):
        assert not await redis.exists(key), key
    assert (await forget(redis, lan.order.order_id))["customer_id"] is None


@pytest.mark.parametrize("query", ["email", "order", "id"])
async def test_a_customer_can_be_forgotten_by_any_of_their_identities(redis_url, domain, query):
    lan = new_customer(redis_url)
    await earlier_case(redis_url, domain, lan.customer, lan.order)
    value = {"email": lan.customer.email, "order": lan.order.order_id, "id": lan.customer.id}[query]
    assert (await forget(get_redis(), value))["cases"] == 1


async def test_the_reindex_command_lists_cases_stored_before_by_their_order(redis_url):
    redis = get_redis()
    order = "9" + str(uuid.uuid4().int)[:8]
    before = Case.new(
        f"rest-{uuid.uuid4().hex[:8]}", "complain_delivery", order_id=order, customer_id="c0ffee"
    )
    await redis.set(keys.case(before.ref), before.stored())  # as save_case stored it before the lists
    done = subprocess.run(
        [sys.executable, "-m", "actions.memory", "reindex"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT), "REDIS_URL": redis_url},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith(" cases listed by order number\n") and int(done.stdout.split()[0]) >= 1
    assert [c.ref for c in await memory.cases_about_order(redis, order)] == [before.ref]
