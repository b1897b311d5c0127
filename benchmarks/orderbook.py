"""An order book for the load benchmark: many copies of the demo shop's orders, one per
simulated conversation, so every customer is a different person with an order of their
own (a thousand customers sharing one order would all be one very unhappy repeat customer
once they prove it theirs with the email on it, as each one here does).

The action server reads it instead of data/shop/orders.yml through ORDERS_DATA.
"""

from pathlib import Path
from typing import Dict, Iterator, List

import yaml

from actions.orders import DEMO_DATA


def order_email(order_id: str) -> str:
    """The email on a benchmark order: what its simulated customer gives as proof."""
    return f"bench-{order_id}@example.com"


class OrderBook:
    def __init__(self, templates: List[str], per_template: int) -> None:
        shop = yaml.safe_load(DEMO_DATA.read_text(encoding="utf-8"))["shop"]
        orders = {o["order_id"]: o for o in shop["orders"]}
        owners = {c["email"]: c for c in shop["customers"]}
        self.customers, self.orders = [], []
        self._free: Dict[str, Iterator[str]] = {}
        for index, template in enumerate(templates):
            if template not in orders:
                raise ValueError(f"benchmark script names order {template}, which the demo shop lacks")
            ids = [f"8{index}{n:06d}" for n in range(per_template)]  # 8 digits, unlike the demo's 7
            for order_id in ids:
                email = order_email(order_id)
                owner = owners.get(orders[template]["email"], {})
                self.customers.append(
                    {**owner, "id": f"B-{order_id}", "email": email, "phone": "", "name": "Bench"}
                )
                self.orders.append({**orders[template], "order_id": order_id, "email": email})
            self._free[template] = iter(ids)

    def take(self, template: str) -> str:
        """An order number nobody has used yet, copied from `template`."""
        try:
            return next(self._free[template])
        except StopIteration:
            raise RuntimeError(f"the benchmark order book ran out of copies of {template}") from None

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            yaml.safe_dump(
                {"shop": {"customers": self.customers, "orders": self.orders}},
                allow_unicode=True,
                sort_keys=False,
            ),
            encoding="utf-8",
        )
        return path
