"""A stand-in for `rasa run` in `make cluster`'s brief mode (benchmarks/cluster.py): Rasa's
REST channel, answering "heard: <text>" after a pause, and keeping each conversation's
turns where Rasa's tracker store keeps them (`rasatracker:tracker:<id>`: user, bot and
action_listen events) through the client Rasa's stores use (contract/redis_client.py:
the master the Sentinels name, when REDIS_SENTINELS is set).

Unlike Rasa it has no lock store: two turns of one conversation at once interleave in
its tracker (`webhook`; benchmarks/trackers.py finds them), so the hub's own lock is all that keeps
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
PAUSE = web.AppKey("pause", float)


async def read(redis, sender: str) -> Dict[str, Any]:
    raw = await redis.get(TRACKER_KEY + sender)
    return json.loads(raw) if raw else {"sender_id": sender, "events": []}


async def webhook(request: web.Request) -> web.Response:
    """One turn, saved like Rasa saves it: the tracker read as the turn begins and written
    once at its end, so a turn that fails half-way leaves nothing. If another turn of the
    conversation was saved meanwhile (the two ran at once), this turn's message goes
    where it came in, before the other turn's events: benchmarks/trackers.py then finds
    a message handled while the previous turn was still running."""
    body = await request.json()
    sender, text = str(body.get("sender")), str(body.get("message"))
    redis, key = request.app[REDIS], TRACKER_KEY + sender
    try:
        began = len((await read(redis, sender))["events"])
        user = {"event": "user", "text": text, "timestamp": time.time()}
        await asyncio.sleep(request.app[PAUSE])  # the turn takes a while, like Rasa's
        done = [
            {"event": "action", "name": name, "timestamp": time.time()}
            for name in ("utter_heard", "action_listen")
        ]

        async def save(pipe) -> None:  # WATCHed: a turn saved at this instant is not overwritten
            raw = await pipe.get(key)
            tracker = json.loads(raw) if raw else {"sender_id": sender, "events": []}
            events = tracker["events"]
            tracker["events"] = [*events[:began], user, *events[began:], *done]
            pipe.multi()
            pipe.set(key, json.dumps(tracker))

        await redis.transaction(save, key)
    except RedisError as error:  # as Rasa answers when its tracker store fails
        return web.json_response({"error": str(error)}, status=500)
    return web.json_response([{"recipient_id": sender, "text": f"heard: {text}"}])


async def status(request: web.Request) -> web.Response:
    return web.json_response({"version": "stand-in"})


async def redis_ctx(app: web.Application):
    app[REDIS] = async_client(RedisTarget.from_env(), decode_responses=True, socket_timeout=5)
    yield
    await app[REDIS].close()


def make_app(pause: float) -> web.Application:
    app = web.Application()
    app[PAUSE] = pause
    app.cleanup_ctx.append(redis_ctx)
    app.router.add_post("/webhooks/rest/webhook", webhook)
    app.router.add_get("/", status)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port", type=int)
    parser.add_argument("--pause", type=float, default=0.3, help="seconds each turn takes")
    args = parser.parse_args()
    web.run_app(make_app(args.pause), host="127.0.0.1", port=args.port, print=None, shutdown_timeout=1)


if __name__ == "__main__":
    main()
