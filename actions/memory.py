"""The action server's part of the customer memory (contract/memory.py is the memory
itself, shared with the hub): finding a customer by an order number needs the shop's
order store, and so does the command that forgets a customer by one.

    python -m actions.memory forget <email|phone|order number|customer id>
    python -m actions.memory reindex

`forget` deletes the customer's memory (record, identities, cases) and every
conversation of theirs, exactly as the agent console's "forget" does (contract/memory.py
forget_conversations). `reindex` lists the cases stored before cases were listed by
order number (the agents' search by order number finds them then); run it once.
"""

import asyncio
import json
import sys
from typing import List, Optional, Tuple

from actions.orders import OrdersUnavailable, order_store
from actions.store import get_redis
from contract import memory


async def customer_for(redis, query: str) -> Optional[str]:
    """The record an email, phone, order number (the order's owner on the shop's record),
    shop customer id or record id names, or None."""
    query = query.strip()
    owner_ids: List[Tuple[str, str]] = []
    if query.isdigit():
        store = order_store()
        order = await store.get_order(query)
        owner = await store.customer(email=order.email) if order else None
        if owner is not None and owner.id:
            owner_ids.append(("shop", owner.id))
        if order is not None:
            owner_ids.append(("email", order.email))
    return await memory.find_customer(redis, query, owner_ids)


async def forget(redis, query: str) -> memory.Erased:
    """Delete a customer's memory: their record, identities and cases. Returns what was
    deleted, with the conversation ids the caller may also erase (transcripts, trackers)."""
    customer_id = await customer_for(redis, query)
    if customer_id is None:
        return memory.nothing_erased()
    return await memory.forget_customer(redis, customer_id)


async def forget_command(query: str) -> int:
    redis = get_redis()
    try:
        erased = await forget(redis, query)
    except OrdersUnavailable as unavailable:
        print(
            f"the order backend is unavailable ({unavailable.reason}): forget by email or phone",
            file=sys.stderr,
        )
        return 1
    if erased["customer_id"] is None:
        print(f"nothing is remembered for {query!r}")
        return 1
    # Their conversations go too: the hub's state and transcripts, Rasa's trackers.
    await memory.forget_conversations(redis, erased["conversations"])
    print(json.dumps(erased))
    return 0


async def reindex_command() -> int:
    print(f"{await memory.index_by_order(get_redis())} cases listed by order number")
    return 0


USAGE = "usage: python -m actions.memory forget <email|phone|order number|customer id> | reindex"


def main(argv: List[str]) -> int:
    if argv == ["reindex"]:
        return asyncio.run(reindex_command())
    if len(argv) != 2 or argv[0] != "forget":
        print(USAGE, file=sys.stderr)
        return 2
    return asyncio.run(forget_command(argv[1]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
