"""`make demo-data`: a week of conversations through the real hub and assistant, so the
recovery reports (/agent/reports) show something on a new machine.

Starts the stack as `make run` does (the same Redis: .run/redis, or REDIS_URL), unless a
hub already answers at DEMO_HUB_URL (then that stack is used, with REDIS_URL). Plays
scripts/demo_week.yml over the hub's REST channel: customers complain in English and
Vietnamese, the bot resolves some and hands others to the demo agent, who claims them,
answers with canned replies (data/hub/canned.yml) and resolves or hands them back; the
customers rate what happened. Every report event is recorded by the hub and the action
server as it happens.

The conversations all happen now. So that the page shows a week, each conversation's
report events (contract/events.py) are then moved back whole by its `days_ago` days:
their day changes, never their figures (waits, durations and ratings stay as measured,
so waits are as short as a script is fast). Nothing else is changed or invented.

Ports and Redis: REDIS_URL, REDIS_PORT, REDIS_DIR, ACTION_PORT, RASA_PORT, HUB_PORT as for
`make run` (scripts/stack.py). `--once` plays each conversation of the week once, on its
first day (a quick check of the whole path: `make smoke`).
"""

import argparse
import asyncio
import json
import os
from pathlib import Path
import sys
import time
from typing import Dict
import uuid

import aiohttp
from redis import asyncio as aioredis
import yaml

from actions.orders import DEMO_DATA
from bot.settings import DEMO_AGENTS, DEMO_LOGIN
from contract import events
from scripts.stack import Stack

ROOT = Path(__file__).resolve().parent.parent
WEEK = Path(__file__).resolve().parent / "demo_week.yml"
TIMEOUT = aiohttp.ClientTimeout(total=60)


class Demo:
    def __init__(self, hub: str, redis, http: aiohttp.ClientSession) -> None:
        self.hub = hub
        self.redis = redis
        self.http = http
        shop = yaml.safe_load(DEMO_DATA.read_text(encoding="utf-8"))["shop"]
        self.emails = {o["order_id"]: o["email"] for o in shop["orders"]}
        self.outcomes: Dict[str, int] = {}

    async def say(self, sender: str, text: str) -> list:
        async with self.http.post(
            f"{self.hub}/webhooks/rest/webhook", json={"sender": sender, "message": text}
        ) as response:
            response.raise_for_status()
            return await response.json()

    async def agent(self, method: str, path: str, **body) -> dict:
        async with self.http.request(method, f"{self.hub}/api/agent/{path}", json=body or None) as response:
            answer = await response.json()
            if response.status >= 400:
                raise RuntimeError(f"{method} {path}: {response.status} {answer}")
            return answer

    async def canned(self, cid: str, rid: str) -> str:
        replies = (await self.agent("GET", f"conversations/{cid}/canned"))["replies"]
        reply = next(r for r in replies if r["id"] == rid)
        text = reply["text"]
        for field in reply["missing"]:  # what an agent would type over
            text = text.replace(f" {{{field}}}", "").replace(f"{{{field}}}", "")
        return text

    async def play(self, script: dict, days_ago: int) -> str:
        sender = f"demo{uuid.uuid4().hex[:10]}"
        cid = f"rest-{sender}"
        order = str(script["order"])
        handed_off = False
        for turn in script["turns"]:
            replies = await self.say(sender, turn.format(order=order, email=self.emails[order]))
            handed_off = handed_off or any("handoff" in (r.get("custom") or {}) for r in replies)
        state = (await self.agent("GET", f"conversations/{cid}"))["state"]
        then = script["then"]
        if state == "queued" and then in ("agent", "resolve"):
            await self.agent("POST", f"conversations/{cid}/claim")
            await self.agent("POST", f"conversations/{cid}/messages", text=await self.canned(cid, "apology"))
            await self.say(sender, "ok, thank you" if "en-" in script["name"] else "dạ vâng")
            await self.agent("POST", f"conversations/{cid}/messages", text=await self.canned(cid, "closing"))
            if then == "agent":
                await self.agent("POST", f"conversations/{cid}/handback", note="sorted out with the customer")
                await self.say(sender, '/rate{"rating": "%d"}' % script["rating"])
            else:
                await self.agent("POST", f"conversations/{cid}/resolve", note="done")
        elif then == "rate" and state == "bot":
            await self.say(sender, '/rate{"rating": "%d"}' % script["rating"])
        elif state == "queued":  # the bot could not resolve what the script expected it to
            await self.agent("POST", f"conversations/{cid}/claim")
            await self.agent("POST", f"conversations/{cid}/messages", text=await self.canned(cid, "apology"))
            await self.agent("POST", f"conversations/{cid}/resolve", note="done")
        outcome = f"{script['name']}: {state}{' (handed off)' if handed_off else ''}"
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        await self.backdate(cid, days_ago)
        return cid

    async def backdate(self, cid: str, days_ago: int) -> None:
        """Move this conversation's report events `days_ago` days back, unchanged."""
        if not days_ago:
            return
        key = events.stream_key(events.day_of(time.time()))
        ref = await events.ref(self.redis, cid)  # events name a conversation by its ref
        mine = [
            (entry_id, fields)
            for entry_id, fields in await self.redis.xrange(key)
            if fields.get("cid") == ref
        ]
        for entry_id, fields in mine:
            data = json.loads(fields.get("data") or "{}")
            await events.record(
                self.redis, fields["kind"], cid, at=float(fields["at"]) - days_ago * 86400, **data
            )
            await self.redis.xdel(key, entry_id)


async def run(hub: str, redis_url: str, once: bool = False) -> None:
    week = yaml.safe_load(WEEK.read_text(encoding="utf-8"))["conversations"]
    if once:
        week = [{**script, "days_ago": script["days_ago"][:1]} for script in week]
    redis = aioredis.from_url(redis_url, decode_responses=True)
    # unsafe: the agent cookie comes from an IP address (127.0.0.1), which aiohttp's jar refuses by default
    async with aiohttp.ClientSession(timeout=TIMEOUT, cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        demo = Demo(hub, redis, http)
        await demo.agent("POST", "login", name=DEMO_LOGIN[0], password=DEMO_LOGIN[1])
        plays = [(script, days) for script in week for days in script["days_ago"]]
        for number, (script, days) in enumerate(plays, start=1):
            await demo.play(script, days)
            print(f"  {number}/{len(plays)} {script['name']} ({days} days ago)", flush=True)
        report = await demo.agent("GET", "reports?days=7")
    await redis.close()
    print("==> outcomes:")
    for outcome, count in sorted(demo.outcomes.items()):
        print(f"    {count} × {outcome}")
    print(
        f"==> last 7 days: {report['conversations']} conversations, containment "
        f"{report['containment']['rate']}%, CSAT {report['csat']['average']} "
        f"({report['csat']['responses']} answers); open {hub}/agent/reports"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--once", action="store_true", help="each conversation of the week once")
    args = parser.parse_args()
    given = os.environ.get("DEMO_HUB_URL")
    if given:
        if not os.environ.get("REDIS_URL"):
            print("DEMO_HUB_URL needs REDIS_URL (the Redis that hub uses)", file=sys.stderr)
            return 2
        asyncio.run(run(given.rstrip("/"), os.environ["REDIS_URL"], args.once))
        return 0
    stack = Stack.from_env(log_dir=ROOT / ".run" / "demo-logs")
    try:
        print(
            "==> starting Redis, the action server, Rasa (~30 s to load) and the hub "
            f"(logs in {stack.log_dir})"
        )
        stack.start()
        stack.start_hub(HUB_DEMO="0", HUB_AGENTS=DEMO_AGENTS)  # the demo agent answers, no demo sign-in
        asyncio.run(run(stack.hub_url, stack.env()["REDIS_URL"], args.once))
    finally:
        print("==> stopping")
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
