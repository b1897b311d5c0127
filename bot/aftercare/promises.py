"""Promises kept: the fulfilment tasks an agent claims and closes (contract/tasks.py), and
telling the customer how it went (LEARN's "notify").

A task done: the customer gets "Update on your case SR-...: <what was done>" (the
playbook's `done`, in their language) on the channel they used while its reply window
allows it, else by email, else, with no address, a task for the team to reach them
another way: the outbox and its Elsewhere decide (core/outbox.py, core/windows.py), so
nothing is sent that is bound to fail. In the widget, which has no window, it waits for
the customer's return and is emailed, like an agent's reply, if it is not shown in time
(aftercare/followup.py). A task failed: the customer hears that it could
not be done as promised and that a colleague will contact them, and a call-back task
("reach the customer") makes that true. A trace with the carrier has nothing to tell.
The transcript keeps a line for the agents, and the task where the customer was told.
"""

import time
from typing import Any, Dict, List

from bot.aftercare.callback import CallBacks
from bot.aftercare.followup import PROMISE
from bot.core.conversations import ConversationStore
from bot.core.outbox import Outbox
from bot.core.texts import Texts
from contract import tasks
from contract.tasks import Task
from contract.words import pick

GONE = "gone"  # the conversation was forgotten or expired: nobody to tell
CLOSED_SHOWN = 24 * 3600  # closed tasks the console lists: those of the last day


class Promises:
    def __init__(
        self, store: ConversationStore, outbox: Outbox, texts: Texts, callbacks: CallBacks, clock=time.time
    ) -> None:
        self.store = store
        self.redis = store.redis
        self.outbox = outbox
        self.texts = texts
        self.callbacks = callbacks
        self.clock = clock

    async def listed(self) -> Dict[str, List[Dict[str, Any]]]:
        """Open tasks (the soonest due first) and those closed in the last day."""
        now = self.clock()
        return {
            "tasks": [self.shown(t, now) for t in await tasks.open_tasks(self.redis)],
            "closed": [self.shown(t, now) for t in await tasks.closed_since(self.redis, now - CLOSED_SHOWN)],
        }

    @staticmethod
    def shown(task: Task, now: float) -> Dict[str, Any]:
        return {**task.dict(), "overdue": not task.closed and now > task.due_at}

    async def claim(self, task_id: str, agent: str) -> Task:
        task = await tasks.claim(self.redis, task_id, agent, now=self.clock())
        await self._note(task, f"task {task.id} ({task.remedy}) claimed by {agent}")
        return task

    async def close(self, task_id: str, agent: str, outcome: str, note: str = "") -> Task:
        """The agent closes the task they claimed, and the customer is told."""
        task = await tasks.close(self.redis, task_id, agent, outcome, note, now=self.clock())
        late = "" if task.on_time else " (past its due time)"
        await self._note(
            task,
            f"task {task.id} ({task.remedy}) {outcome} by {agent}{late}"
            + (f": {task.note}" if task.note else ""),
        )
        told = await self.tell(task)
        return await tasks.mark_told(self.redis, task.id, told) or task

    async def tell(self, task: Task) -> str:
        """Tell the customer how it went; returns where it went (core/outbox.py), GONE, or
        "" when there is nothing to tell."""
        conv = await self.store.get(task.conversation_id)
        if conv is None:
            return GONE
        lang = conv.language
        if task.status == tasks.DONE and task.done_text:
            message = self.texts.message(
                "promise_kept", lang, case_ref=task.case_ref, done=pick(task.done_text, lang)
            )
        elif task.status == tasks.FAILED and task.offer_text:
            message = self.texts.message(
                "promise_failed", lang, case_ref=task.case_ref, offer=pick(task.offer_text, lang)
            )
        else:
            return ""
        # Marked as the team's word on a promise: emailed like an agent's reply if the
        # widget has not shown it in time (aftercare/followup.py).
        said = {**message, "case_ref": task.case_ref, PROMISE: task.id}
        went = await self.outbox.notify(conv, said, follow_up=True, must_reach=True)
        if task.status == tasks.FAILED:  # "a colleague will contact you": a task makes it so
            await self.callbacks.reach(
                conv, f"{task.remedy} for case {task.case_ref} could not be done: {task.note}"
            )
        return went

    async def _note(self, task: Task, line: str) -> None:
        if await self.store.get(task.conversation_id) is not None:
            await self.store.log(task.conversation_id, "system", line)
