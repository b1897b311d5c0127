"""The order backend's settings, read from the environment in one place, on first use
(never at import). Every variable is declared in scripts/variables.py (`ELSEWHERE`), which
docs/configuration.md is generated from; docs/orders.md says how to get each value."""

from dataclasses import dataclass, fields
from functools import lru_cache
import os
from typing import List, Mapping

BACKENDS = ("demo", "shopify", "woocommerce", "haravan", "http", "postgres")
# What each backend cannot work without (the base-URL overrides have defaults).
REQUIRED = {
    "demo": (),
    "shopify": ("shopify_shop", "shopify_token"),
    "woocommerce": ("woo_url", "woo_key", "woo_secret"),
    "haravan": ("haravan_token",),
    "http": ("http_url",),
    "postgres": ("postgres_dsn", "postgres_queries"),
}


class SettingsProblem(ValueError):
    """ORDERS_BACKEND names no backend, or the chosen one lacks a setting."""


@dataclass(frozen=True)
class OrderSettings:
    backend: str = "demo"
    demo_data: str = ""
    shopify_shop: str = ""
    shopify_token: str = ""
    shopify_api_version: str = "2026-04"
    shopify_url: str = ""
    woo_url: str = ""
    woo_key: str = ""
    woo_secret: str = ""
    haravan_token: str = ""
    haravan_url: str = "https://apis.haravan.com"
    http_url: str = ""
    http_token: str = ""
    postgres_dsn: str = ""
    postgres_queries: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "OrderSettings":
        shop = env.get("SHOPIFY_SHOP", "").strip()
        return cls(
            backend=env.get("ORDERS_BACKEND", "demo").strip().lower() or "demo",
            demo_data=env.get("ORDERS_DATA", "").strip(),
            shopify_shop=shop,
            shopify_token=env.get("SHOPIFY_TOKEN", "").strip(),
            shopify_api_version=env.get("SHOPIFY_API_VERSION", "2026-04").strip(),
            shopify_url=(env.get("SHOPIFY_URL") or (f"https://{shop}.myshopify.com" if shop else "")).rstrip(
                "/"
            ),
            woo_url=env.get("WOO_URL", "").strip().rstrip("/"),
            woo_key=env.get("WOO_KEY", "").strip(),
            woo_secret=env.get("WOO_SECRET", "").strip(),
            haravan_token=env.get("HARAVAN_TOKEN", "").strip(),
            haravan_url=env.get("HARAVAN_URL", "https://apis.haravan.com").strip().rstrip("/"),
            http_url=env.get("ORDERS_HTTP_URL", "").strip().rstrip("/"),
            http_token=env.get("ORDERS_HTTP_TOKEN", "").strip(),
            postgres_dsn=env.get("ORDERS_POSTGRES_DSN", "").strip(),
            postgres_queries=env.get("ORDERS_POSTGRES_QUERIES", "").strip(),
        )

    def problems(self) -> List[str]:
        if self.backend not in BACKENDS:
            return [f"ORDERS_BACKEND={self.backend!r}: expected one of {', '.join(BACKENDS)}"]
        return [f"{variable(name)} is not set" for name in REQUIRED[self.backend] if not getattr(self, name)]

    def checked(self) -> "OrderSettings":
        found = self.problems()
        if found:
            raise SettingsProblem(f"ORDERS_BACKEND={self.backend}: " + "; ".join(found))
        return self


VARIABLES = {
    "backend": "ORDERS_BACKEND",
    "demo_data": "ORDERS_DATA",
    "shopify_shop": "SHOPIFY_SHOP",
    "shopify_token": "SHOPIFY_TOKEN",
    "shopify_api_version": "SHOPIFY_API_VERSION",
    "shopify_url": "SHOPIFY_URL",
    "woo_url": "WOO_URL",
    "woo_key": "WOO_KEY",
    "woo_secret": "WOO_SECRET",
    "haravan_token": "HARAVAN_TOKEN",
    "haravan_url": "HARAVAN_URL",
    "http_url": "ORDERS_HTTP_URL",
    "http_token": "ORDERS_HTTP_TOKEN",
    "postgres_dsn": "ORDERS_POSTGRES_DSN",
    "postgres_queries": "ORDERS_POSTGRES_QUERIES",
}
assert set(VARIABLES) == {f.name for f in fields(OrderSettings)}


def variable(name: str) -> str:
    return VARIABLES[name]


@lru_cache(maxsize=1)
def order_settings() -> OrderSettings:
    """The settings, read once, on first use; a bad or incomplete choice is refused with
    the variable to set (SettingsProblem). Tests that change the environment call
    `order_settings.cache_clear()`."""
    return OrderSettings.from_env().checked()
