"""Fulfilment tasks: an accepted remedy the team carries out (DESIGN.md "Promises and
fulfilment"). A remedy the playbook marks `task`, or an `api` one the order backend did
not carry out, becomes a task; so does asking the carrier to trace a lost parcel.

The action server makes them (actions/fulfilment.py); the hub's console lists them,
and an agent claims one and closes it, done or failed with a note (bot/console/tasks.py);
the hub then tells the customer (bot/aftercare/promises.py). Neither imports the other:
both go through this module, which keeps each task as JSON under keys.task(id), the open
ones in keys.TASKS_OPEN (scored by when they are due), the closed ones in
keys.TASKS_CLOSED (scored by when they were closed), and each conversation's in
keys.conversation_tasks(cid). A report event is recorded where a task is made and where
it is closed (contract/events.py: task_made, task_closed), and every change is announced
on keys.EVENTS so that every console shows it.

A task moves open -> claimed -> done | failed, one step at a time: a change is checked
against the stored task inside a Redis transaction (WATCH), so two agents can never both
claim it, and only the agent who claimed it closes it.
"""

import json
import logging
import time
from typing import Dict, List, Literal, Optional, get_args

from pydantic import BaseModel, Extra
from redis.exceptions import WatchError

from contract import events, keys

log = logging.getLogger(__name__)

Status = Literal["open", "claimed", "done", "failed"]
OPEN, CLAIMED, DONE, FAILED = get_args(Status)
OUTCOMES = (DONE, FAILED)
TRACE = "carrier_trace"  # asking the carrier to trace a lost parcel: a task, not a remedy
MAX_LISTED = 200


class TaskConflict(Exception):
    """The change is not allowed from where the task stands (claimed by someone else,
    closed already, not claimed by this agent)."""


class TaskCustomer(BaseModel):
    """Who the promise was made to, as far as the assistant knows it. `verified`: they
    proved who they are (a shop sign-in, or an order with its email or phone), so the
    email and phone here are theirs on the shop's record; otherwise only what they typed."""

    name: str = ""
    email: str = ""
    phone: str = ""
    verified: bool = False


class Task(BaseModel):
    id: str
    remedy: str  # a playbook remedy id, or TRACE
    case_ref: str
    conversation_id: str
    channel: str = ""
    language: str = "en"
    complaint_type: Optional[str] = None
    order_id: Optional[str] = None
    amount: Optional[int] = None  # the order's value in `currency`: what a full refund is
    currency: str = ""
    carrier: str = ""
    customer: TaskCustomer = TaskCustomer()
    created_at: float
    due_at: float
    status: Status = OPEN
    api_failure: str = ""  # an `api` remedy the order backend did not carry out, and why
    agent: str = ""  # who claimed it
    claimed_at: float = 0.0
    closed_at: float = 0.0
    note: str = ""  # the agent's note when closing it (always given for a failure)
    told: str = ""  # where the customer was told of the outcome: channel, email, task, note, gone
    # What the customer is told, per language: once it is done (the playbook's `done`),
    # and what was promised (its `offer`), should it fail. Empty: nothing to tell (a trace).
    done_text: Dict[str, str] = {}
    offer_text: Dict[str, str] = {}

    class Config:
        extra = Extra.allow  # a stored field this model does not know survives a save

    @property
    def closed(self) -> bool:
        return self.status in OUTCOMES

    @property
    def on_time(self) -> bool:
        """Closed (or, while open, still) within its due time."""
        return (self.closed_at or time.time()) <= self.due_at

    def stored(self) -> str:
        return self.json(ensure_ascii=False)


def task_id(case_ref: str, what: str) -> str:
    """One task per case and remedy (or trace): made twice, it is made once."""
    return f"{case_ref}-{what}"


def read_task(raw: Optional[str]) -> Optional[Task]:
    return Task.parse_raw(raw) if raw else None


async def _announce(redis, task: Task) -> None:
    try:
        await redis.publish(
            keys.EVENTS, json.dumps({"type": "tasks", "task": task.id, "status": task.status})
        )
    except Exception as error:  # the consoles reload on their next round anyway
        log.warning("task %s not announced: %s", task.id, error)


async def make(redis, task: Task) -> bool:
    """Store a new task (open), listed by its due time and under its conversation, and
    record it for the reports. False if a task with its id exists already."""
    if not await redis.set(keys.task(task.id), task.stored(), nx=True, ex=keys.TASK_TTL):
        return False
    pipe = redis.pipeline(transaction=True)
    pipe.zadd(keys.TASKS_OPEN, {task.id: task.due_at})
    pipe.sadd(keys.conversation_tasks(task.conversation_id), task.id)
    pipe.expire(keys.conversation_tasks(task.conversation_id), keys.TASK_TTL)
    await pipe.execute()
    await events.record(
        redis,
        "task_made",
        task.conversation_id,
        at=task.created_at,
        task=task.id,
        remedy=task.remedy,
        due_at=task.due_at,
        api_failure=bool(task.api_failure),
    )
    await _announce(redis, task)
    return True


async def get(redis, task_id_: str) -> Optional[Task]:
    return read_task(await redis.get(keys.task(task_id_)))


async def _listed(redis, index: str, ids: List[str]) -> List[Task]:
    if not ids:
        return []
    raws = await redis.mget([keys.task(i) for i in ids])
    found = {i: read_task(raw) for i, raw in zip(ids, raws, strict=True)}
    gone = [i for i, task in found.items() if task is None]
    if gone:  # expired (or forgotten): off the list
        await redis.zrem(index, *gone)
    return [task for task in found.values() if task is not None]


async def open_tasks(redis) -> List[Task]:
    """Open and claimed tasks, the soonest due first."""
    return await _listed(redis, keys.TASKS_OPEN, await redis.zrange(keys.TASKS_OPEN, 0, MAX_LISTED - 1))


async def closed_since(redis, since: float) -> List[Task]:
    """Tasks closed since `since`, the latest first."""
    ids = await redis.zrevrangebyscore(keys.TASKS_CLOSED, "+inf", since, start=0, num=MAX_LISTED)
    return await _listed(redis, keys.TASKS_CLOSED, ids)


async def of_conversation(redis, cid: str) -> List[Task]:
    """A conversation's tasks, the oldest first."""
    ids = sorted(await redis.smembers(keys.conversation_tasks(cid)))
    raws = await redis.mget([keys.task(i) for i in ids]) if ids else []
    found = [task for task in (read_task(raw) for raw in raws) if task is not None]
    return sorted(found, key=lambda t: t.created_at)


async def customer_email(redis, cid: str) -> str:
    """The email of the verified customer a promise in this conversation was made to
    (their address on the shop's record), or ""."""
    for task in reversed(await of_conversation(redis, cid)):
        if task.customer.verified and task.customer.email:
            return task.customer.email
    return ""


async def _change(redis, task_id_: str, change) -> Task:
    """Apply `change(task) -> task` (which raises TaskConflict to refuse) atomically."""
    key = keys.task(task_id_)
    for _ in range(5):
        async with redis.pipeline(transaction=True) as pipe:
            try:
                await pipe.watch(key)
                task = read_task(await pipe.get(key))
                if task is None:
                    raise LookupError("no such task")
                changed = change(task)
                pipe.multi()
                pipe.set(key, changed.stored(), ex=keys.TASK_TTL)
                if changed.closed and not task.closed:
                    pipe.zrem(keys.TASKS_OPEN, changed.id)
                    pipe.zadd(keys.TASKS_CLOSED, {changed.id: changed.closed_at})
                await pipe.execute()
                return changed
            except WatchError:
                continue
    raise TaskConflict("the task is being changed by someone else; try again")


async def claim(redis, task_id_: str, agent: str, now: Optional[float] = None) -> Task:
    """The agent takes the task on (only an open one)."""

    def claimed(task: Task) -> Task:
        if task.status != OPEN:
            who = f" by {task.agent}" if task.agent else ""
            raise TaskConflict(f"the task is {task.status}{who} already")
        return task.copy(update={"status": CLAIMED, "agent": agent, "claimed_at": now or time.time()})

    task = await _change(redis, task_id_, claimed)
    await _announce(redis, task)
    return task


async def close(
    redis, task_id_: str, agent: str, outcome: str, note: str = "", now: Optional[float] = None
) -> Task:
    """The agent who claimed it marks it done or failed (a failure needs a note), and
    the reports count it, on time or late."""
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {OUTCOMES}")
    if outcome == FAILED and not note.strip():
        raise ValueError("say what went wrong: a failed task needs a note")

    def closed(task: Task) -> Task:
        if task.status != CLAIMED or task.agent != agent:
            raise TaskConflict(
                f"the task is {task.status} already" if task.closed else "claim the task first"
            )
        return task.copy(update={"status": outcome, "closed_at": now or time.time(), "note": note.strip()})

    task = await _change(redis, task_id_, closed)
    await events.record(
        redis,
        "task_closed",
        task.conversation_id,
        at=task.closed_at,
        task=task.id,
        remedy=task.remedy,
        outcome=outcome,
        on_time=task.on_time,
        overdue=round(max(0.0, task.closed_at - task.due_at), 1),
    )
    await _announce(redis, task)
    return task


async def mark_told(redis, task_id_: str, told: str) -> Optional[Task]:
    """Where the customer was told of the outcome (the hub, once it has told them)."""
    try:
        return await _change(redis, task_id_, lambda task: task.copy(update={"told": told}))
    except LookupError:  # forgotten meanwhile
        return None


__all__ = [
    "CLAIMED",
    "DONE",
    "FAILED",
    "OPEN",
    "OUTCOMES",
    "TRACE",
    "Task",
    "TaskConflict",
    "TaskCustomer",
    "claim",
    "close",
    "closed_since",
    "customer_email",
    "get",
    "make",
    "mark_told",
    "of_conversation",
    "open_tasks",
    "task_id",
]
