"""Hub settings, read from the environment once at start-up (never at import).

| variable | default | meaning |
| --- | --- | --- |
| HUB_HOST / HUB_PORT | 127.0.0.1 / 8080 | where the hub listens |
| REDIS_URL | redis://127.0.0.1:6379/0 | the one store |
| RASA_URL | http://127.0.0.1:5005 | Rasa server (REST channel); several, comma-separated, are used in turn (they must share the Redis tracker and lock stores) |
| ACTION_URL | http://127.0.0.1:$ACTION_PORT (5055) | the action server, for /health only |
| RASA_TIMEOUT | 8 | seconds to wait for Rasa before apologising and queueing |
| HUB_SECRET | shared random value kept in Redis | signs widget session ids and agent cookies |
| HUB_AGENTS | demo agent `agent` / `recovery-demo` (shown to customers as "Mai") | `name:scrypt-hash[:display name],...` (make an entry with `python -m bot.passwords NAME "Display name"`); customers see the display name, never the login |
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
"""

from dataclasses import dataclass, field
import ipaddress
import os
from pathlib import Path
from typing import Dict, Mapping, Optional, Tuple
from urllib.parse import unquote

# Demo agent "agent" with password "recovery-demo" (scrypt hash; see bot/passwords.py).
DEMO_AGENTS = ("agent:scrypt$16384$8$1$4f0e1c5a2b9d7e3f6a8c0d2e4f6a8b0c$"
               "f2ad971233a72c471b3728b56894d74df5ea675aa4e028ff5f9c0fff15f74a4a:Mai")
DEMO_LOGIN = ("agent", "recovery-demo")  # printed by `make run`; set HUB_AGENTS in production
DEMO_ORDERS = Path(__file__).resolve().parent.parent / "data" / "shop" / "orders.yml"


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    redis_url: str = "redis://127.0.0.1:6379/0"
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_timeout: float = 8.0
    action_url: str = "http://127.0.0.1:5055"  # only for /health: Rasa is what calls it
    secret: Optional[str] = None
    agents: Dict[str, str] = field(default_factory=dict)  # name -> password hash
    display_names: Dict[str, str] = field(default_factory=dict)  # name -> what customers see
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
        return cls(
            host=env.get("HUB_HOST", cls.host),
            port=int(env.get("HUB_PORT", cls.port)),
            redis_url=env.get("REDIS_URL", cls.redis_url),
            rasa_url=env.get("RASA_URL", cls.rasa_url).rstrip("/"),
            rasa_timeout=float(env.get("RASA_TIMEOUT", cls.rasa_timeout)),
            action_url=(env.get("ACTION_URL") or f"http://127.0.0.1:{env.get('ACTION_PORT', '5055')}").rstrip("/"),
            secret=env.get("HUB_SECRET") or None,
            agents=parse_agents(env.get("HUB_AGENTS") or (
                DEMO_AGENTS if demo_agent_allowed(env.get("HUB_HOST", cls.host), env) else "")),
            display_names=parse_display_names(env.get("HUB_AGENTS") or (
                DEMO_AGENTS if demo_agent_allowed(env.get("HUB_HOST", cls.host), env) else "")),
            max_message_chars=int(env.get("MAX_MESSAGE_CHARS", cls.max_message_chars)),
            still_here_after=float(env.get("STILL_HERE_AFTER", cls.still_here_after)),
            minutes_per_case=int(env.get("MINUTES_PER_CASE", cls.minutes_per_case)),
            agent_online_seconds=float(env.get("AGENT_ONLINE_SECONDS", cls.agent_online_seconds)),
            public_origin=env.get("HUB_PUBLIC_ORIGIN") or None,
            support_hours=env.get("SUPPORT_HOURS", cls.support_hours),
            support_utc_offset=float(env.get("SUPPORT_UTC_OFFSET", cls.support_utc_offset)),
            fb_verify_token=env.get("FB_VERIFY_TOKEN", ""),
            fb_app_secret=env.get("FB_APP_SECRET", ""),
            fb_page_token=env.get("FB_PAGE_ACCESS_TOKEN", ""),
            fb_graph_url=env.get("FB_GRAPH_URL", cls.fb_graph_url),
            shop_identity_secret=env.get("SHOP_IDENTITY_SECRET", ""),
            rest_token=env.get("HUB_REST_TOKEN", ""),
            demo=env.get("HUB_DEMO", "").strip().lower() in ("1", "true", "yes", "on"),
            demo_customer=env.get("DEMO_CUSTOMER") or cls.demo_customer,
            orders_data=env.get("ORDERS_DATA") or cls.orders_data,
            smtp_url=env.get("SMTP_URL", ""),
            mail_from=env.get("MAIL_FROM", ""),
            follow_up_after=float(env.get("FOLLOW_UP_AFTER", cls.follow_up_after)),
            shop_url=env.get("SHOP_URL", ""),
        )


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
            raise ValueError(f"HUB_AGENTS entry for {name or '?'!r} must be name:scrypt$... "
                             "(make one with: python -m bot.passwords NAME)")
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
