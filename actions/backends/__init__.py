"""Order backends, one module each, chosen by ORDERS_BACKEND (actions/backends/settings.py):

- `demo` (actions/backends/demo.py): data/shop/orders.yml in Redis, the default;
- `shopify` (shopify.py): Shopify's Admin GraphQL API;
- `woocommerce` (woocommerce.py): WooCommerce's REST API v3;
- `haravan` (haravan.py): Haravan's REST Admin API;
- `http` (http.py): a small JSON contract a shop with its own system serves (docs/orders.md);
- `postgres` (postgres.py): the shop's own PostgreSQL, through queries the owner writes.

Each is thin: it asks its platform and maps the answer onto `Order` and `Customer`
(statuses and money through data/shop/order_backends.yml, actions/backends/mapping.py),
and turns every failure into OrdersUnavailable. The actions get the backend through
`store_for_actions()` (actions/orders.py `order_store`): one per event loop, its
look-ups cached in Redis (cached.py); `python -m actions.orders lookup` uses
`build_backend`, uncached.
"""

import asyncio
from pathlib import Path
from typing import Dict, Tuple, Union

from actions.backends.base import Backend
from actions.backends.cached import CachedStore
from actions.backends.model import DEMO_DATA, OrderStore
from actions.backends.settings import OrderSettings, SettingsProblem, order_settings
from actions.store import get_redis


def check_configuration() -> None:
    """At the action server's start (actions/base.py): the chosen backend's settings, its
    status table and, for postgres, the owner's queries, each refused with what to fix
    (SettingsProblem, mapping.TableError, postgres.QueriesError) before any customer
    writes. Nothing is asked of the backend itself: it may be down now and up later."""
    settings = order_settings()
    if settings.backend == "demo":
        return
    from actions.backends.mapping import tables

    tables()
    if settings.backend == "postgres":
        from actions.backends.postgres import load_queries

        try:
            load_queries(settings.postgres_queries)
        except OSError as error:
            raise SettingsProblem(f"ORDERS_POSTGRES_QUERIES: {error}") from None


def build_backend(settings: OrderSettings) -> Backend:
    """The backend `settings` choose, not cached (nothing is asked of it yet)."""
    if settings.backend == "shopify":
        from actions.backends.shopify import ShopifyBackend

        return ShopifyBackend(settings)
    if settings.backend == "woocommerce":
        from actions.backends.woocommerce import WooCommerceBackend

        return WooCommerceBackend(settings)
    if settings.backend == "haravan":
        from actions.backends.haravan import HaravanBackend

        return HaravanBackend(settings, get_redis())
    if settings.backend == "http":
        from actions.backends.http import HttpBackend

        return HttpBackend(settings)
    if settings.backend == "postgres":
        from actions.backends.postgres import PostgresBackend

        return PostgresBackend(settings)
    from actions.backends.demo import RedisOrderStore

    return RedisOrderStore(get_redis(), Path(settings.demo_data or DEMO_DATA))


_stores: Dict[Tuple[int, OrderSettings], Union[Backend, CachedStore]] = {}


def store_for_actions() -> OrderStore:
    """The configured backend for this event loop (made once), cached in Redis unless it
    is the demo, which already is Redis."""
    settings = order_settings()
    slot = (id(asyncio.get_running_loop()), settings)
    store = _stores.get(slot)
    if store is None:
        backend = build_backend(settings)
        store = backend if settings.backend == "demo" else CachedStore(backend, get_redis())
        _stores[slot] = store
    return store
