"""contract/memory.py, the customer memory the action server writes and the hub reads:
cases listed by order number, the agents' search, and forgetting, against a real Redis.
(Records and identities are exercised through the actions: tests/actions/.)"""

import os
from pathlib import Path
import subprocess
import sys
import time
import uuid

import pytest
from redis import asyncio as aioredis

from contract import keys, memory
from contract.case import Case

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
async def redis(redis_url):
    client = aioredis.from_url(redis_url, decode_responses=True)
    yield client
    await client.close(close_connection_pool=True)


def an_order() -> str:
    return "9" + str(uuid.uuid4().int)[:8]


async def a_verified_customer(redis, name="thu"):
    tag = uuid.uuid4().hex[:8]
    email, phone = f"{name}.{tag}@example.test", "09" + str(uuid.uuid4().int)[:8]
    customer_id = await memory.link_verified(
        redis, [("shop", f"T-{tag}"), ("email", email), ("phone", phone)], {"email": email, "phone": phone}
    )
    return customer_id, email, phone


def test_the_hub_can_import_the_memory_without_the_action_server():
    code = (
        "import sys, contract.memory, contract.case; "
        "assert not [m for m in sys.modules if m.startswith(('rasa_sdk', 'actions'))], sorted(sys.modules)"
    )
    subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)}
    )


async def test_an_order_number_finds_the_cases_about_that_order_and_only_those(redis):
    thu, email, phone = await a_verified_customer(redis)
    guest = await memory.guest(redis, f"rest-{uuid.uuid4().hex[:8]}")
    order, other = an_order(), an_order()
    first = await memory.save_case(redis, thu, Case.new("rest-a", "complain_delivery", order_id=order))
    elsewhere = await memory.save_case(redis, thu, Case.new("rest-b", "complain_wait", order_id=other))
    theirs = await memory.save_case(redis, guest, Case.new("rest-c", "complain_damaged", order_id=order))
    assert await memory.find_cases(redis, order) == ("order_id", [theirs, first])  # newest first, whoever's
    assert await memory.find_cases(redis, other) == ("order_id", [elsewhere])
    matched, cases = await memory.find_cases(redis, email.upper())
    assert matched == "email" and {c.ref for c in cases} == {first.ref, elsewhere.ref}
    matched, cases = await memory.find_cases(redis, phone)  # digits, but no order's
    assert matched == "phone" and {c.ref for c in cases} == {first.ref, elsewhere.ref}
    assert await memory.find_cases(redis, an_order()) == ("", [])


async def test_a_case_that_moves_to_another_order_leaves_the_first_orders_list(redis):
    thu, _, _ = await a_verified_customer(redis)
    order, corrected = an_order(), an_order()
    case = await memory.save_case(redis, thu, Case.new("rest-a", "complain_delivery", order_id=order))
    case = await memory.save_case(redis, thu, case.changed(order_id=corrected))
    assert await memory.cases_about_order(redis, order) == []
    assert await redis.zscore(keys.order_cases(order), case.ref) is None  # dropped from the list
    assert [c.ref for c in await memory.cases_about_order(redis, corrected)] == [case.ref]
    assert 0 < await redis.ttl(keys.order_cases(corrected)) <= memory.retention()


async def test_forgetting_a_customer_takes_their_cases_off_their_orders_lists(redis):
    thu, email, _ = await a_verified_customer(redis)
    order = an_order()
    case = await memory.save_case(redis, thu, Case.new("rest-a", "complain_delivery", order_id=order))
    erased = await memory.forget_customer(redis, thu)
    assert (erased["cases"], erased["conversations"]) == (1, ["rest-a"])
    assert await redis.exists(keys.case(case.ref), keys.order_cases(order), keys.customer(thu)) == 0
    assert await memory.find_cases(redis, email) == ("", [])


async def test_forgetting_conversations_leaves_none_of_their_keys(redis):
    cids = [f"rest-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    agent = f"agent-{uuid.uuid4().hex[:6]}"
    for cid in cids:
        for key in keys.conversation_keys(cid):
            if key == keys.conversation(cid):
                await redis.hset(key, "agent", agent)
            elif key == keys.conversation_sessions(cid):  # its widget session, revoked with it
                await redis.sadd(key, f"h-{cid}")
                await redis.hset(keys.widget_session(f"h-{cid}"), "conversation", cid)
            elif key == keys.conversation_tasks(cid):  # its fulfilment task, deleted with it
                await redis.sadd(key, f"t-{cid}")
                await redis.set(keys.task(f"t-{cid}"), "{}")
                await redis.zadd(keys.TASKS_OPEN, {f"t-{cid}": 1})
            else:
                await redis.set(key, "x")
        for members in keys.CONVERSATION_SETS:
            await redis.zadd(members, {cid: 1})
        await redis.sadd(keys.agent_conversations(agent), cid)
    guest = await memory.guest(redis, cids[0])  # its guest record, with a case
    guest_case = await memory.save_case(redis, guest, Case(conversation_id=cids[0], status="open"))
    kept = f"rest-{uuid.uuid4().hex[:8]}"
    await redis.sadd(keys.agent_conversations(agent), kept)
    await memory.forget_conversations(redis, cids + cids[:1])  # each once, whatever the list
    for cid in cids:
        assert await redis.exists(*keys.conversation_keys(cid)) == 0
        assert await redis.exists(keys.widget_session(f"h-{cid}"), keys.identity("sender", cid)) == 0
        assert await redis.exists(keys.task(f"t-{cid}")) == 0
        assert await redis.zscore(keys.TASKS_OPEN, f"t-{cid}") is None
        assert [await redis.zscore(members, cid) for members in keys.CONVERSATION_SETS] == [None] * 3
    assert await redis.exists(keys.customer_cases(guest), keys.case(guest_case.ref)) == 0
    assert await redis.smembers(keys.agent_conversations(agent)) == {kept}
    await memory.forget_conversations(redis, [])  # nothing to do


async def test_a_proof_joins_the_guest_record_to_the_customer_and_keeps_every_ttl(redis, sender):
    guest = await memory.guest(redis, sender)
    assert await memory.guest(redis, sender) == guest  # one record per conversation
    await memory.save_case(redis, guest, Case(conversation_id=sender, status="open"))
    shop_id = f"T-{sender}"
    known = await memory.link_verified(redis, [("shop", shop_id)], {"email": f"{sender}@example.test"})
    await memory.save_case(redis, known, Case(conversation_id="earlier", status="open"))
    # The conversation proves who it is: its guest case joins the customer's record.
    joined = await memory.link_verified(
        redis, [("shop", shop_id), ("email", f"{sender}@EXAMPLE.test")], {"email": f"{sender}@example.test"}
    )
    now = time.time()
    await memory.attach_conversation(redis, sender, joined, "123456", "order_and_contact", now)
    assert joined == known != guest
    assert len(await memory.cases_of(redis, joined)) == 2 and await memory.cases_of(redis, guest) == []
    # The proof names the customer; the conversation itself stays its guest record's.
    assert (await memory.session_proof(redis, sender, now)).customer_id == joined
    assert await redis.get(keys.identity("sender", sender)) == guest
    for key in (
        keys.identity("sender", sender),
        keys.identity("email", f"{sender}@example.test"),
        keys.customer(joined),
        keys.customer_cases(joined),
        keys.customer_identities(joined),
        keys.customer_conversations(joined),
        keys.verified_as(sender),
    ):
        assert 0 < await redis.ttl(key) <= memory.retention(), key
    assert 0 < await redis.ttl(keys.session_proof(sender)) <= memory.idle_seconds()


async def test_two_verified_customers_are_never_merged_nor_their_identities_re_pointed(redis, sender):
    minh, minh_email, minh_phone = await a_verified_customer(redis, "minh")
    lan, lan_email, _ = await a_verified_customer(redis, "lan")
    await memory.save_case(redis, minh, Case(conversation_id="minh-earlier", status="open"))
    now = time.time()
    await memory.attach_conversation(redis, sender, minh, "111111", "order_and_contact", now)
    # The same conversation proves Lan's order, and Lan's shop record names Minh's phone
    # (a shared family phone): the conversation moves to Lan, Minh's record stays Minh's.
    again = await memory.link_verified(
        redis, [("email", lan_email), ("phone", minh_phone)], {"email": lan_email}
    )
    await memory.attach_conversation(redis, sender, again, "222222", "order_and_contact", now + 1)
    assert again == lan != minh
    assert (await memory.session_proof(redis, sender, now + 1)).customer_id == lan
    assert await redis.get(keys.identity("phone", minh_phone)) == minh  # never re-pointed
    assert await redis.get(keys.identity("email", minh_email)) == minh
    assert (await memory.recall(redis, minh))["email"] == minh_email
    assert [c.conversation_id for c in await memory.cases_of(redis, minh)] == ["minh-earlier"]
    assert await memory.cases_of(redis, lan) == []


async def test_a_proof_lapses_after_the_idle_time_without_a_message(redis, sender):
    customer, _, _ = await a_verified_customer(redis)
    start = time.time()
    idle = memory.idle_seconds()
    await memory.attach_conversation(redis, sender, customer, "123456", "order_and_contact", start)
    # Every message within the idle time keeps it: 29 minutes, then 29 more.
    assert (await memory.session_proof(redis, sender, start + idle - 60)).customer_id == customer
    kept = await memory.session_proof(redis, sender, start + 2 * idle - 120)
    assert kept is not None and not kept.fresh(start + 2 * idle - 120, idle)  # proved too long ago
    # Silence for longer than that: gone, a guest again.
    assert await memory.session_proof(redis, sender, start + 3 * idle) is None
    assert not await redis.exists(keys.session_proof(sender))


async def test_cases_stored_before_the_order_lists_are_listed_by_reindexing(redis):
    thu, _, _ = await a_verified_customer(redis)
    order = an_order()
    before = Case.new("rest-old", "complain_delivery", order_id=order, customer_id=thu)
    await redis.set(keys.case(before.ref), before.stored())  # as save_case stored it before
    await redis.zadd(keys.customer_cases(thu), {before.ref: before.created_at})
    assert await memory.find_cases(redis, order) == ("", [])  # not listed yet
    assert await memory.index_by_order(redis) >= 1
    assert [c.ref for c in (await memory.find_cases(redis, order))[1]] == [before.ref]
    assert 0 < await redis.ttl(keys.order_cases(order)) <= memory.retention()
