"""Earlier cases, for agents: the customer panel of a conversation and a search.

    GET /api/agent/conversations/{id}/customer   the customer behind the conversation:
        who (masked unless verified), their cases with outcome and CSAT, and the proof
        lock on the conversation's order if there is one
    GET /api/agent/search?q=                     cases by case reference (SR-...), order
        number, email or phone, and a conversation by its id

Both read the assistant's memory (contract/memory.py: identities point at a customer
record, which lists its cases), so they reach as far back as it keeps customers
(MEMORY_RETENTION_DAYS), through its indexes, never by scanning. An order number finds
the cases about that order; an email or phone finds a customer once the assistant has
linked it to them (a verified customer's, or details a guest gave that were
remembered); a case reference always.
"""

import re
from typing import Any, Dict, List, Optional

from aiohttp import web

from bot.console import proof_lock
from bot.console.conversations import conversation_of
from bot.web.appkeys import REDIS, STORE
from bot.web.http import json_error
from contract import keys, memory
from contract.identity import mask_email, mask_phone

CASE_REF = re.compile(r"^SR-[A-Z0-9]{6}$", re.IGNORECASE)
MAX_QUERY = 200
MAX_RESULTS = 50


def case_view(case: Dict[str, Any]) -> Dict[str, Any]:
    """What the panel shows of a case: what it was about and how it ended."""
    return {
        "case_ref": case.get("ref"),
        "conversation_id": case.get("conversation_id"),
        "complaint_type": case.get("complaint_type"),
        "status": case.get("status"),
        "created_at": case.get("created_at"),
        "order_id": case.get("order_id"),
        "remedy": case.get("applied_remedy"),
        "csat": case.get("csat"),
        "handoff_reason": (case.get("handoff") or {}).get("reason"),
    }


async def customer_view(redis, customer_id: Optional[str]) -> Dict[str, Any]:
    """Who the record is: in full when verified, else masked (a guest's claims)."""
    if not customer_id:
        return {"known": False, "verified": False}
    record = await memory.recall(redis, customer_id)
    verified = record.get(memory.VERIFIED_FIELD) == "1"
    email, phone = record.get("email") or "", record.get("phone") or ""
    return {
        "known": True,
        "verified": verified,
        "name": record.get("name", "") if verified else "",
        "email": (email if verified else mask_email(email)) if email else "",
        "phone": (phone if verified else mask_phone(phone)) if phone else "",
    }


async def customer_of(redis, conv) -> Optional[str]:
    """The assistant's record behind a conversation: the customer it last proved it was
    (agents see it after the proof lapsed too), else the shop-signed customer's, else its
    own guest record."""
    found = await redis.get(keys.verified_as(conv.id))
    shop = (conv.identity or {}).get("shop_customer")
    if not found and shop:
        found = await redis.get(keys.identity("shop", shop))
    return found or await redis.get(keys.identity("sender", conv.id))


async def panel(request: web.Request) -> web.Response:
    redis = request.config_dict[REDIS]
    conv = await conversation_of(request)
    customer_id = await customer_of(redis, conv)
    cases = [c.dict() for c in await memory.cases_of(redis, customer_id)] if customer_id else []
    return web.json_response(
        {
            "customer": await customer_view(redis, customer_id),
            "cases": [{**case_view(c), "current": c.get("conversation_id") == conv.id} for c in cases],
            # Too many wrong emails or phones for the conversation's order: the assistant
            # checks no more today; the agent may lift it (console/proof_lock.py).
            "proof_lock": await proof_lock.lock_on(redis, proof_lock.order_of(conv)),
        }
    )


async def search(request: web.Request) -> web.Response:
    query = request.query.get("q", "").strip()
    if not query or len(query) > MAX_QUERY:
        raise json_error(
            400,
            f"'q' must be 1 to {MAX_QUERY} characters: a case reference, "
            "an order number, an email or a phone number",
        )
    redis = request.config_dict[REDIS]
    results: List[Dict[str, Any]] = []
    if CASE_REF.match(query):
        found = await memory.load_case(redis, query.upper())
        case = found.dict() if found else None
        if case:
            results.append(
                {
                    **case_view(case),
                    "customer": await customer_view(redis, case.get("customer_id")),
                    "matched": "case_ref",
                }
            )
    else:
        matched, cases = await memory.find_cases(redis, query)
        who = {cid: await customer_view(redis, cid) for cid in {c.customer_id for c in cases}}
        results += [
            {**case_view(c.dict()), "customer": who[c.customer_id], "matched": matched} for c in cases
        ]
    conversation = await request.config_dict[STORE].get(query) if len(query) <= 128 else None
    return web.json_response(
        {
            "query": query,
            "cases": results[:MAX_RESULTS],
            "conversation": conversation.summary() if conversation else None,
        }
    )
