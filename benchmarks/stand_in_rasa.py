"""A stand-in for `rasa run` in `make cluster`'s brief mode (benchmarks/cluster.py): Rasa's
REST channel, answering "heard: <text>" after a pause, and keeping each conversation's
turns where Rasa's tracker store keeps them (`rasatracker:tracker:<id>`: user, bot and
action_listen events) through the client Rasa's stores use (contract/redis_client.py:
the master the Sentinels name, when REDIS_SENTINELS is set).

Unlike Rasa it has no lock store: two turns of one conversation at once interleave in
its tracker (benchmarks/trackers.py finds them), so the hub's own lock is all that keeps
them apart. It loads no model: it starts in a second.

    python -m benchmarks.stand_in_rasa PORT [--pause 0.3]
"""

import argparse
import asyncio
import json
import time
from typing import Any, Dict

from aiohttp import web
from redis import asyncio as aioredis
from redis.exceptions import RedisError

from benchmarks.trackers import TRACKER_KEY
from contract.redis_client import RedisTarget, async_client

REDIS = web.AppKey("redis", aioredis.Redis)


async def append(redis, sender: str, *events: dict) -> None:
    key = TRACKER_KEY + sender
    raw = await redis.get(key)
    tracker: Dict[str, Any] = json.loads(raw) if raw else {"sender_id": sender, "events": []}
    tracker["events"] = [*tracker["events"], *({**event, "timestamp": time.time()} for event in events)]
    await redis.set(key, json.dumps(tracker))


async def webhook(request: web.Request) -> web.Response:
    body = await request.json()
    sender, text = str(body.get("sender")), str(body.get("message"))
    redis = request.app[REDIS]
    try:
        await append(redis, sender, {"event": "user", "text": text})
        await asyncio.sleep(request.app["pause"])  # the turn takes a while, like Rasa's
        await append(
            redis,
            sender,
            {"event": "action", "name": "utter_heard"},
            {"event": "action", "name": "action_listen"},
        )
    except RedisError as error:  # as Rasa answers when its tracker store fails
        return web.json_response({"error": str(error)}, status=500)
    return web.json_response([{"recipient_id": sender, "text": f"heard: {text}"}])


async def status(request: web.Request) -> web.Response:
    return web.json_response({"version": "stand-in"})


async def redis_ctx(app: web.Application):
    app[REDIS] = async_client(RedisTarget.from_env(), decode_responses=True, socket_timeout=5)
    yield
    await app[REDIS].close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port", type=int)
    parser.add_argument("--pause", type=float, default=0.3, help="seconds each turn takes")
    args = parser.parse_args()
    app = web.Application()
    app["pause"] = args.pause
    app.cleanup_ctx.append(redis_ctx)
    app.router.add_post("/webhooks/rest/webhook", webhook)
    app.router.add_get("/", status)
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, shutdown_timeout=1)


if __name__ == "__main__":
    main()
