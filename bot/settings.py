"""Hub settings, read from the environment once at start-up (never at import).

| variable | default | meaning |
| --- | --- | --- |
| HUB_HOST / HUB_PORT | 127.0.0.1 / 8080 | where the hub listens |
| REDIS_URL | redis://127.0.0.1:6379/0 | the one store |
| RASA_URL | http://127.0.0.1:5005 | Rasa server (REST channel); several, comma-separated, are used in turn (they must share the Redis tracker and lock stores) |
| ACTION_URL | http://127.0.0.1:$ACTION_PORT (5055) | the action server, for /health only |
| RASA_TIMEOUT | 8 | seconds to wait for Rasa before apologising and queueing |
| HUB_SECRET | shared random value kept in Redis | signs widget session ids and agent cookies |
| HUB_AGENTS | demo agent `agent` / `recovery-demo` (shown to customers as "Mai") | `name:scrypt-hash[:display name],...` (make an entry with `python -m bot.console.passwords NAME "Display name"`); customers see the display name, never the login |
| MAX_MESSAGE_CHARS | 2000 | longest customer message accepted |
| STILL_HERE_AFTER | 90 | seconds in the queue before a "still here" message (repeated each interval) |
| MINUTES_PER_CASE | 4 | queue ETA estimate per conversation ahead |
| AGENT_ONLINE_SECONDS | 60 | an agent counts as online this long after the console's last heartbeat |
| HUB_PUBLIC_ORIGIN | (any same-host origin) | allowed Origin for the console WebSocket, e.g. https://shop.example |
| SUPPORT_HOURS | 08:00-22:00 | when the human team works (local time), for "someone will reply by ..." |
| SUPPORT_UTC_OFFSET | 7 | the team's time zone, hours from UTC (Vietnam: 7) |
| FB_VERIFY_TOKEN, FB_APP_SECRET, FB_PAGE_ACCESS_TOKEN | unset: Messenger off | the Facebook Page's webhook verify token, app secret and page access token |
| FB_GRAPH_URL | https://graph.facebook.com/v19.0 | Graph API base (tests point it at a local fake) |
| SHOP_IDENTITY_SECRET | unset: no widget or REST identity is verified (with HUB_DEMO, a random value kept in Redis) | shared with the shop's server, which signs logged-in customers (contract/identity.py) |
| HUB_REST_TOKEN | unset: the REST channel is open | callers of /webhooks/rest/webhook must send `Authorization: Bearer <token>` |
| HUB_DEMO | off (`make run` turns it on when the hub listens on loopback) | the demo shop page may sign in as the demo customer (GET /demo/identity) |
| DEMO_CUSTOMER | C-1001 | the demo customer's id in the demo data (ORDERS_DATA, default data/shop/orders.yml) |
| SMTP_URL, MAIL_FROM | unset: email follow-up off | e.g. `smtp://user:pass@mail.example:587` (`smtps://` for TLS) and `Mộc Home <help@shop.example>` |
| FOLLOW_UP_AFTER | 120 | seconds an agent's reply may stay unseen in the widget before it is emailed |
| SHOP_URL | http://HUB_HOST:HUB_PORT/ | the shop page with the widget, for the link back in emails |
| REST_PER_IP_MINUTE | 600 | REST requests per client address per minute (429 beyond; 0: no limit) |
| MESSENGER_PER_IP_MINUTE | 1200 | Messenger webhook deliveries per address per minute (Meta's servers; 0: no limit) |
| WIDGET_CONNECTS_PER_IP_MINUTE | 120 | new widget (socket.io) connections per address per minute (0: no limit) |
"""

import ipaddress
import os
from typing import Any, Dict, Mapping, Optional, Tuple
from urllib.parse import unquote

from pydantic import BaseModel, ValidationError, validator

from bot.paths import SHOP

# Demo agent "agent" with password "recovery-demo" (scrypt hash; see bot/console/passwords.py).
DEMO_AGENTS = (
    "agent:scrypt$16384$8$1$4f0e1c5a2b9d7e3f6a8c0d2e4f6a8b0c$"
    "f2ad971233a72c471b3728b56894d74df5ea675aa4e028ff5f9c0fff15f74a4a:Mai"
)
DEMO_LOGIN = ("agent", "recovery-demo")  # printed by `make run`; set HUB_AGENTS in production
DEMO_ORDERS = SHOP / "orders.yml"

# Which variable sets which setting (the table above); the rest are derived in from_env.
ENV = {
    "host": "HUB_HOST",
    "port": "HUB_PORT",
    "redis_url": "REDIS_URL",
    "rasa_url": "RASA_URL",
    "rasa_timeout": "RASA_TIMEOUT",
    "action_url": "ACTION_URL",
    "secret": "HUB_SECRET",
    "max_message_chars": "MAX_MESSAGE_CHARS",
    "still_here_after": "STILL_HERE_AFTER",
    "minutes_per_case": "MINUTES_PER_CASE",
    "agent_online_seconds": "AGENT_ONLINE_SECONDS",
    "public_origin": "HUB_PUBLIC_ORIGIN",
    "support_hours": "SUPPORT_HOURS",
    "support_utc_offset": "SUPPORT_UTC_OFFSET",
    "fb_verify_token": "FB_VERIFY_TOKEN",
    "fb_app_secret": "FB_APP_SECRET",
    "fb_page_token": "FB_PAGE_ACCESS_TOKEN",
    "fb_graph_url": "FB_GRAPH_URL",
    "shop_identity_secret": "SHOP_IDENTITY_SECRET",
    "rest_token": "HUB_REST_TOKEN",
    "demo": "HUB_DEMO",
    "demo_customer": "DEMO_CUSTOMER",
    "orders_data": "ORDERS_DATA",
    "smtp_url": "SMTP_URL",
    "mail_from": "MAIL_FROM",
    "follow_up_after": "FOLLOW_UP_AFTER",
    "shop_url": "SHOP_URL",
    "rest_per_ip_minute": "REST_PER_IP_MINUTE",
    "messenger_per_ip_minute": "MESSENGER_PER_IP_MINUTE",
    "widget_connects_per_ip_minute": "WIDGET_CONNECTS_PER_IP_MINUTE",
}
# Empty means "not set" for these (the default applies).
UNSET_WHEN_EMPTY = {"secret", "public_origin", "action_url", "demo_customer", "orders_data", "demo"}


class Settings(BaseModel):
    """Typed and checked (pydantic): a bad value stops the hub naming its variable."""

    host: str = "127.0.0.1"
    port: int = 8080
    redis_url: str = "redis://127.0.0.1:6379/0"
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_timeout: float = 8.0
    action_url: str = "http://127.0.0.1:5055"  # only for /health: Rasa is what calls it
    secret: Optional[str] = None
    agents: Dict[str, str] = {}  # name -> password hash
    display_names: Dict[str, str] = {}  # name -> what customers see
    max_message_chars: int = 2000
    still_here_after: float = 90.0
    minutes_per_case: int = 4
    agent_online_seconds: float = 60.0
    public_origin: Optional[str] = None
    support_hours: str = "08:00-22:00"
    support_utc_offset: float = 7.0
    fb_verify_token: str = ""
    fb_app_secret: str = ""
    fb_page_token: str = ""
    fb_graph_url: str = "https://graph.facebook.com/v19.0"
    background_interval: float = 5.0
    shop_identity_secret: str = ""
    rest_token: str = ""
    demo: bool = False
    demo_customer: str = "C-1001"
    orders_data: str = str(DEMO_ORDERS)
    smtp_url: str = ""
    mail_from: str = ""
    follow_up_after: float = 120.0
    shop_url: str = ""
    # Per client address (bot/core/limits.py); behind a reverse proxy every client has the
    # proxy's address, so the proxy must limit per client itself (README).
    rest_per_ip_minute: int = 600
    messenger_per_ip_minute: int = 1200
    widget_connects_per_ip_minute: int = 120

    class Config:
        allow_mutation = False
        extra = "forbid"

    @validator("rasa_url", "action_url")
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @validator("port", "max_message_chars", "minutes_per_case")
    def _positive(cls, value: int) -> int:
        if value <= 0:
            raise ValueError("must be a positive number")
        return value

    @property
    def rasa_urls(self) -> Tuple[str, ...]:
        return tuple(url.strip().rstrip("/") for url in self.rasa_url.split(",") if url.strip())

    @property
    def messenger_enabled(self) -> bool:
        return bool(self.fb_verify_token and self.fb_app_secret and self.fb_page_token)

    @property
    def email_enabled(self) -> bool:
        return bool(self.smtp_url and self.mail_from)

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "Settings":
        values: Dict[str, Any] = {}
        for name, variable in ENV.items():
            if variable in env and not (name in UNSET_WHEN_EMPTY and not env[variable].strip()):
                values[name] = env[variable]
        if "action_url" not in values:
            values["action_url"] = f"http://127.0.0.1:{env.get('ACTION_PORT', '5055')}"
        host = values.get("host", cls.__fields__["host"].default)
        values["agents"] = parse_agents(
            env.get("HUB_AGENTS") or (DEMO_AGENTS if demo_agent_allowed(host, env) else "")
        )
        values["display_names"] = parse_display_names(
            env.get("HUB_AGENTS") or (DEMO_AGENTS if demo_agent_allowed(host, env) else "")
        )
        try:
            return cls(**values)
        except ValidationError as error:
            problems = "; ".join(
                f"{ENV.get(str(e['loc'][0]), e['loc'][0])}: {e['msg']}" for e in error.errors()
            )
            raise ValueError(f"bad hub settings: {problems}") from None


def is_loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def demo_agent_allowed(host: str, env: Mapping[str, str]) -> bool:
    """The demo agent (a published password) only on loopback, or when HUB_DEMO says so."""
    return is_loopback(host) or env.get("HUB_DEMO", "").strip().lower() in ("1", "true", "yes", "on")


def parse_agents(spec: str) -> Dict[str, str]:
    agents = {}
    for entry in filter(None, (part.strip() for part in spec.split(","))):
        name, _, hashed = entry.partition(":")
        hashed = hashed.partition(":")[0]  # after it: the display name (parse_display_names)
        if not name or not hashed.startswith("scrypt$"):
            raise ValueError(
                f"HUB_AGENTS entry for {name or '?'!r} must be name:scrypt$... "
                "(make one with: python -m bot.console.passwords NAME)"
            )
        agents[name] = hashed
    return agents


def parse_display_names(spec: str) -> Dict[str, str]:
    """name -> display name, from the HUB_AGENTS entries that give one (URL-quoted)."""
    names = {}
    for entry in filter(None, (part.strip() for part in spec.split(","))):
        name, _, rest = entry.partition(":")
        display = unquote(rest.partition(":")[2]).strip()
        if name and display:
            names[name] = display
    return names
