"""Call-back tasks: "Call me back" asks for the number (or offers the one on record,
masked) and a time window, then puts a task in the agents' queue; the agent marks it
done or "no answer" from the console.

The short dialogue runs in the hub while the conversation waits for a person (the
turn hands it every message: aftercare/choices.py). State per conversation in
keys.callback(cid); open tasks in keys.CALLBACKS, scored by when the window starts.

A follow-up the customer's channel may no longer carry, with no email to send it to,
becomes the same kind of task (`reach`): the team reaches the customer another way.
"""

from datetime import datetime, timedelta, timezone
import time
from typing import Any, Dict, List, Optional

from bot.core.contacts import phone_in, phone_on_record
from bot.core.conversation import Conversation
from bot.core.conversations import ConversationStore
from bot.core.texts import Texts
from bot.settings import Settings
from contract import keys
from contract.identity import mask_phone

START = "/followup_call"
# Windows in the team's local time (SUPPORT_UTC_OFFSET): payload -> (start, end) hours.
WINDOWS = {"/callback_morning": (8, 12), "/callback_afternoon": (12, 17), "/callback_evening": (17, 21)}
OUTCOMES = ("done", "no_answer")


class CallBacks:
    def __init__(self, store: ConversationStore, texts: Texts, settings: Settings, clock=time.time) -> None:
        self.store = store
        self.redis = store.redis
        self.texts = texts
        self.settings = settings
        self.clock = clock

    async def state(self, cid: str) -> Dict[str, str]:
        return await self.redis.hgetall(keys.callback(cid))

    async def _save(self, cid: str, **fields) -> None:
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(keys.callback(cid), mapping={k: str(v) for k, v in fields.items()})
        pipe.expire(keys.callback(cid), keys.CONVERSATION_TTL)
        await pipe.execute()

    def window_buttons(self, language: str) -> List[Dict[str, str]]:
        return self.texts.buttons("callback_windows", language)

    async def handle(self, conv: Conversation, text: str) -> Optional[Dict[str, Any]]:
        """The reply when this message belongs to the call-back dialogue, else None."""
        text = text.strip()
        step = (await self.state(conv.id)).get("step", "")
        lang = conv.language
        if text == START:
            await self.store.update(conv.id, followup="call")
            await self.store.publish({"type": "queue", "conversation_id": conv.id})
            phone = phone_on_record(conv.handoff())
            if phone:
                await self._save(conv.id, step="window", phone=phone)
                return {
                    **self.texts.message("callback_ask_window_known", lang, phone=mask_phone(phone)),
                    "buttons": self.window_buttons(lang),
                }
            await self._save(conv.id, step="phone")
            return self.texts.message("callback_ask_phone", lang)
        if step == "phone":
            phone = phone_in(text)
            if not phone:
                return self.texts.message("callback_phone_again", lang)
            await self._save(conv.id, step="window", phone=phone)
            return {
                **self.texts.message("callback_ask_window", lang, phone=mask_phone(phone)),
                "buttons": self.window_buttons(lang),
            }
        if step == "window":
            phone = phone_in(text)
            if phone:  # "no, call me on ..."
                await self._save(conv.id, phone=phone)
                return {
                    **self.texts.message("callback_ask_window", lang, phone=mask_phone(phone)),
                    "buttons": self.window_buttons(lang),
                }
            if text not in WINDOWS:
                return {
                    **self.texts.message("callback_window_again", lang),
                    "buttons": self.window_buttons(lang),
                }
            return await self._book(conv, text)
        return None

    def _slot(self, payload: str) -> Dict[str, Any]:
        """The next occurrence of the window, in the team's local time."""
        offset = timezone(timedelta(hours=self.settings.support_utc_offset))
        now = datetime.fromtimestamp(self.clock(), offset)
        start, end = WINDOWS[payload]
        day = now.date() if now.hour < end - 1 else now.date() + timedelta(days=1)
        begins = datetime(day.year, day.month, day.day, start, tzinfo=offset)
        return {
            "day": "today" if day == now.date() else "tomorrow",
            "from": f"{start:02d}:00",
            "to": f"{end:02d}:00",
            "starts_at": max(begins.timestamp(), self.clock()),
        }

    async def _book(self, conv: Conversation, payload: str) -> Dict[str, Any]:
        slot = self._slot(payload)
        state = await self.state(conv.id)
        await self._save(
            conv.id,
            step="booked",
            window=payload,
            day=slot["day"],
            window_from=slot["from"],
            window_to=slot["to"],
            booked_at=self.clock(),
            attempts=state.get("attempts", 0),
        )
        await self.redis.zadd(keys.CALLBACKS, {conv.id: slot["starts_at"]})
        day = self.texts.text(f"callback_{slot['day']}", conv.language)
        await self.store.log(
            conv.id,
            "system",
            f"call-back booked: {state.get('phone', '')}, {slot['day']} {slot['from']}-{slot['to']}",
        )
        await self.store.publish({"type": "queue", "conversation_id": conv.id})
        return self.texts.message(
            "callback_booked",
            conv.language,
            phone=mask_phone(state.get("phone", "")),
            day=day,
            start=slot["from"],
            end=slot["to"],
        )

    async def reach(self, conv: Conversation, why: str) -> None:
        """A task for the team: a follow-up could not go to the customer's channel and
        there is no email to send it to. A call-back already booked stays as it is."""
        if await self.redis.zscore(keys.CALLBACKS, conv.id) is None:
            state = await self.state(conv.id)
            await self._save(
                conv.id,
                step="reach",
                phone=phone_on_record(conv.handoff()),
                day="today",
                window_from="",
                window_to="",
                reason=why,
                attempts=state.get("attempts", 0),
            )
            await self.redis.zadd(keys.CALLBACKS, {conv.id: self.clock()})
        await self.store.log(conv.id, "system", f"task for the team: reach the customer another way ({why})")
        await self.store.publish({"type": "queue", "conversation_id": conv.id})

    async def tasks(self) -> List[Dict[str, Any]]:
        """Open call-back tasks, soonest first, with the full number (agents only)."""
        out = []
        for cid, starts_at in await self.redis.zrange(keys.CALLBACKS, 0, 199, withscores=True):
            state = await self.state(cid)
            conv = await self.store.get(cid)
            if not state or conv is None:
                continue
            packet = conv.handoff()
            out.append(
                {
                    "conversation_id": cid,
                    "phone": state.get("phone", ""),
                    "day": state.get("day", ""),
                    "from": state.get("window_from", ""),
                    "to": state.get("window_to", ""),
                    "starts_at": starts_at,
                    "attempts": int(state.get("attempts") or 0),
                    "reason": state.get("reason", "") if state.get("step") == "reach" else "",
                    "language": conv.language,
                    "severity": conv.severity or "unknown",
                    "case_ref": packet.case_ref if packet else "",
                    "summary": packet.summary.en if packet else "",
                }
            )
        return out

    async def outcome(self, cid: str, agent: str, outcome: str, note: str = "") -> Dict[str, Any]:
        """Record the call: "done" closes the task; "no_answer" keeps it, and the customer
        is told (returns the message to send them, if any)."""
        if await self.redis.zscore(keys.CALLBACKS, cid) is None:
            raise LookupError("no open call-back for this conversation")
        state = await self.state(cid)
        stamp = time.strftime("%H:%M UTC", time.gmtime(self.clock()))
        if outcome == "done":
            await self.redis.zrem(keys.CALLBACKS, cid)
            await self._save(cid, step="done")
            await self.store.log(
                cid, "system", f"call-back done by {agent} at {stamp}" + (f": {note}" if note else "")
            )
            await self.store.publish({"type": "queue", "conversation_id": cid})
            return {}
        attempts = int(state.get("attempts") or 0) + 1
        await self._save(cid, attempts=attempts)
        await self.store.log(
            cid,
            "system",
            f"call-back: no answer ({agent}, {stamp}, attempt {attempts})" + (f": {note}" if note else ""),
        )
        await self.store.publish({"type": "queue", "conversation_id": cid})
        conv = await self.store.get(cid)
        return self.texts.message(
            "callback_no_answer", conv.language if conv else "en", phone=mask_phone(state.get("phone", ""))
        )
