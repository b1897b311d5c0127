"""Customers and orders of a test's own, written into the order store's Redis keys.

No test depends on the shop owner's data file (data/shop/orders.yml), and no two tests
share a customer, so tests never see each other's memory or cases."""

from dataclasses import asdict, dataclass, field
import json
import random
from typing import List, Optional, Tuple
import uuid

import redis

from actions.orders import Customer, Order
from contract import keys


@dataclass
class ShopCustomer:
    customer: Customer
    orders: List[Order] = field(default_factory=list)

    @property
    def order(self) -> Order:
        return self.orders[0]


def _digits(n: int) -> str:
    return "".join(random.choice("0123456789") for _ in range(n))


def new_customer(
    redis_url: str,
    tier: str = "standard",
    name: str = "Thu",
    orders: Tuple[Tuple[str, int], ...] = (("delivered", 480_000),),
    phone: Optional[str] = None,
) -> ShopCustomer:
    """A new shop customer (unique id, email and phone) with orders of (status, value)."""
    tag = uuid.uuid4().hex[:10]
    customer = Customer(
        id=f"T-{tag}",
        email=f"{name.lower()}.{tag}@example.test",
        phone=phone or "09" + _digits(8),
        name=name,
        tier=tier,
        orders_total=len(orders),
    )
    made = ShopCustomer(customer)
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        pipe = client.pipeline(transaction=True)
        pipe.set(keys.shop_customer(customer.email), json.dumps(asdict(customer)))
        pipe.set(keys.shop_phone(customer.phone), customer.email)
        pipe.set(keys.shop_customer_id(customer.id), customer.email)
        for days, (status, value) in enumerate(orders):
            order = Order(
                order_id="9" + _digits(8),
                email=customer.email,
                status=status,
                value=value,
                carrier="FastShip",
                shipped_days_ago=days + 1,
                last_scan={"en": "Thu Duc hub", "vi": "kho Thủ Đức"},
                items={"en": f"test item {tag}", "vi": f"món thử {tag}"},
            )
            pipe.set(keys.shop_order(order.order_id), json.dumps(order.as_dict()))
            pipe.zadd(keys.shop_orders_of(customer.email), {order.order_id: -(days + 1)})
            made.orders.append(order)
        pipe.execute()
    finally:
        client.close()
    return made
