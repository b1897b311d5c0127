"""Carrying out what the bot promises (DESIGN.md "Promises and fulfilment").

A remedy the customer accepts is carried out by the order backend when the playbook
marks it `api` (its `api_calls`, in order: OrderActions cancel, refund of the order's
full value), else it becomes a fulfilment task for the team (contract/tasks.py), due
`due_hours` after it is made. An `api` remedy the backend refuses (`Refused`), or cannot
be reached for (OrdersUnavailable), becomes a task too, with what happened noted on it
for the agent. A parcel the carrier marked delivered that never arrived is traced with
the carrier by the team: a task as well (`trace_parcel`).

Every task is listed on its case (`Case.tasks`), so "how is my case going?" tells what
is true (actions/cases.py). The caller says to the customer what is true at that moment:
"Done: ..." only when `Fulfilment.done`, else the remedy's `promise`.
"""

from dataclasses import dataclass
import logging
import time
from typing import List, Optional

from rasa_sdk import Tracker

from actions.customer import CustomerMemory
from actions.orders import Order, OrdersUnavailable, Refused, order_store
from actions.playbook import Remedy, shop_playbook
from actions.reporting import report
from actions.store import get_redis
from actions.tracker import channel_of, language
from contract import memory, tasks
from contract.case import Case

log = logging.getLogger(__name__)
HOUR = 3600.0


@dataclass
class Fulfilment:
    done: bool  # carried out now, by the order backend
    task: Optional[tasks.Task] = None  # else the team's task (with the backend's failure, if any)


def task_customer(tracker: Tracker, customer: CustomerMemory) -> tasks.TaskCustomer:
    """Who the task is for: a verified customer's shop record, else what they typed here."""
    if customer.verified:
        profile = customer.profile
        return tasks.TaskCustomer(
            name=profile.get("name", ""),
            email=profile.get("email", ""),
            phone=profile.get("phone", ""),
            verified=True,
        )
    email, phone = (tracker.get_slot(name) for name in ("email", "phone"))
    return tasks.TaskCustomer(
        email=str(email) if email and email != "none" else "",
        phone=str(phone) if phone and phone != "none" else "",
    )


async def make_task(
    tracker: Tracker,
    customer: CustomerMemory,
    case: Case,
    what: str,
    order: Optional[Order],
    due_hours: float,
    remedy: Optional[Remedy] = None,
    api_failure: str = "",
) -> tasks.Task:
    """A task for the team (`what`: a remedy id, or tasks.TRACE), listed on its case."""
    now = time.time()
    task = tasks.Task(
        id=tasks.task_id(case.ref, what),
        remedy=what,
        case_ref=case.ref,
        conversation_id=tracker.sender_id,
        channel=channel_of(tracker),
        language=language(tracker),
        complaint_type=tracker.get_slot("complaint_type"),
        order_id=order.order_id if order else None,
        amount=order.value if order else None,
        currency=shop_playbook().currency,
        carrier=order.carrier if order else "",
        customer=task_customer(tracker, customer),
        created_at=now,
        due_at=now + due_hours * HOUR,
        api_failure=api_failure,
        done_text=remedy.done.dict() if remedy else {},
        offer_text=remedy.offer.dict() if remedy else {},
    )
    redis = get_redis()
    if not await tasks.make(redis, task):
        task = await tasks.get(redis, task.id) or task  # made before (a retried action)
    if task.id not in case.tasks:
        await memory.save_case(redis, customer.customer_id, case.changed(tasks=[*case.tasks, task.id]))
    return task


async def by_backend(remedy: Remedy, order: Optional[Order], case: Case) -> str:
    """Carry out an `api` remedy through the order backend: "" once every call is done,
    else what happened, for the task it falls back to."""
    if order is None:
        return "no order proved to act on"
    store = order_store()
    done: List[str] = []
    why = f"case {case.ref}: {remedy.label.en}"
    for call in remedy.api_calls:
        key = f"{case.ref}:{remedy.id}:{call}"
        action = getattr(store, call, None)  # OrderActions.cancel / .refund
        if action is None:
            failure = f"{call}: the {getattr(store, 'name', 'order')} backend cannot do this"
            log.warning("order %s, %s: %s; a task for the team instead", order.order_id, remedy.id, failure)
            return "; ".join(done + [failure])
        try:
            if call == "cancel":
                outcome = await action(order.order_id, reason=why, key=key)
            else:
                outcome = await action(order.order_id, order.value, note=why, key=key)
        except OrdersUnavailable as unavailable:
            failure = f"{call}: the order system could not be reached ({unavailable.reason})"
        except Exception as error:  # a backend's bug must not cost the customer the remedy
            log.exception("order backend failed on %s of order %s", call, order.order_id)
            failure = f"{call}: the order system failed ({type(error).__name__})"
        else:
            if isinstance(outcome, Refused):
                failure = f"{call} refused: {outcome.reason}"
            else:
                done.append(f"{call} done" + (f" ({outcome.reference})" if outcome.reference else ""))
                continue
        log.warning("order %s, %s: %s; a task for the team instead", order.order_id, remedy.id, failure)
        return "; ".join(done + [failure])
    return ""


async def fulfil(
    tracker: Tracker, customer: CustomerMemory, remedy: Remedy, order: Optional[Order], case: Case
) -> Fulfilment:
    """Carry out an accepted remedy now (api) or make it the team's task."""
    failure = ""
    if remedy.by_api:
        failure = await by_backend(remedy, order, case)
        if not failure:
            await report(tracker, "carried_out", remedy=remedy.id)
            return Fulfilment(done=True)
    task = await make_task(
        tracker, customer, case, remedy.id, order, remedy.due_hours, remedy=remedy, api_failure=failure
    )
    return Fulfilment(done=False, task=task)


async def trace_parcel(tracker: Tracker, customer: CustomerMemory, order: Order, case: Case) -> tasks.Task:
    """The team asks the carrier to trace a parcel it marked delivered (what the bot
    tells the customer it has asked for)."""
    return await make_task(tracker, customer, case, tasks.TRACE, order, shop_playbook().trace_due_hours)
