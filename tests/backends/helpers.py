"""What the order backends' test modules share: a platform's fake server (the per-platform
routes are in shopify_api.py, woocommerce_api.py, haravan_api.py and contract_api.py; the
running servers are fixtures in conftest.py)."""

import asyncio
from typing import Any, Callable, Dict, List

from aiohttp import web


class Fake:
    """A platform's server: `mode` "ok", "slow" (holds every request until the test ends),
    "error" (500) or "flaky" (500 once, then "ok"); every request is kept in `seen`."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.seen: List[Dict[str, Any]] = []
        self.release = asyncio.Event()
        self.url = ""

    @web.middleware
    async def middleware(self, request: web.Request, handler: Callable) -> web.StreamResponse:
        body = await request.text()
        self.seen.append(
            {
                "method": request.method,
                "path": request.path,
                "query": dict(request.query),
                "headers": dict(request.headers),
                "body": body,
            }
        )
        if self.mode == "slow":
            await self.release.wait()  # answered only when the test is over
            return web.json_response({}, status=503)
        if self.mode == "error":
            return web.json_response({"error": "internal"}, status=500)
        if self.mode == "flaky":
            self.mode = "ok"
            return web.json_response({"error": "internal"}, status=500)
        return await handler(request)
