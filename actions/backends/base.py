"""What every backend is besides an OrderStore: its name, where it is (for its cache
keys), and a `close` for what it holds open. A platform is never written to except to
carry out a remedy the playbook marks `api` (OrderActions: cancel, refund): its
`set_status` writes nothing there."""

import hashlib
import logging
from typing import Any, List, Optional

from actions.backends.model import Customer, Order

log = logging.getLogger(__name__)


class Backend:
    name = ""

    def __init__(self, where: str) -> None:
        # Two configurations (another shop, a test's own server) never share cached answers.
        self.fingerprint = f"{self.name}-{hashlib.sha256(where.encode()).hexdigest()[:12]}"

    async def get_order(self, order_id: str) -> Optional[Order]:
        raise NotImplementedError

    async def recent_orders_for(self, email: str = "", phone: str = "", limit: int = 3) -> List[Order]:
        raise NotImplementedError

    async def customer(self, email: str = "", phone: str = "", customer_id: str = "") -> Optional[Customer]:
        raise NotImplementedError

    async def close(self) -> None:
        """Release what the backend holds open (an HTTP session, a database pool)."""

    async def set_status(self, order_id: str, status: str) -> None:
        # Not a write to the shop's platform: only an `api` remedy writes (OrderActions).
        log.info(
            "%s: order %s marked %s by the bot; nothing written to the platform", self.name, order_id, status
        )


def tier_from_tags(tags: Any, tiers: tuple = ("vip", "gold", "silver", "standard")) -> str:
    """A customer's tier from the platform's tags ("vip", "gold", ...: the first found,
    best first); none: standard. Tags come as a list or a comma-separated string."""
    found = {str(t).strip().lower() for t in (tags.split(",") if isinstance(tags, str) else tags or [])}
    return next((tier for tier in tiers if tier in found), "standard")
