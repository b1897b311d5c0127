"""Hub settings, read from the environment once at start-up (never at import).

Every variable the project reads is declared once: each `Settings` field in
bot/settings_fields.py names its variable and says what it means, and `ELSEWHERE`
(scripts/variables.py) lists the variables read outside the hub (the launcher, the action
server, Rasa's endpoints, make targets). docs/configuration.md is generated from both:
`python scripts/config_docs.py`. Here: their checks, what follows from them, and from_env.
"""

import ipaddress
import logging
import os
import re
from typing import Any, Dict, FrozenSet, Mapping, Optional, Tuple
from urllib.parse import unquote, urlparse

from pydantic import ValidationError, validator

from bot.settings_fields import HubVariables
from contract import keys
from contract.redis_client import RedisTarget, parse_sentinels

# Demo agent "agent" with password "recovery-demo" (scrypt hash; see bot/console/passwords.py).
DEMO_AGENTS = (
    "agent:scrypt$16384$8$1$4f0e1c5a2b9d7e3f6a8c0d2e4f6a8b0c$"
    "f2ad971233a72c471b3728b56894d74df5ea675aa4e028ff5f9c0fff15f74a4a:Mai"
)
DEMO_LOGIN = ("agent", "recovery-demo")  # printed by `make run`; set HUB_AGENTS in production
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})

log = logging.getLogger(__name__)


class Settings(HubVariables):
    """Typed and checked (pydantic): a bad value stops the hub naming its variable."""

    class Config:
        allow_mutation = False
        extra = "forbid"

    @validator("rasa_url", "action_url")
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @validator("redis_sentinels")
    def _sentinels(cls, value: str) -> str:
        parse_sentinels(value)  # a bad entry stops the hub, named
        return value

    @validator("zalo_event_max_age")
    def _remembered(cls, value: float) -> float:
        # A replay must be either refused as stale or dropped as a message id already seen.
        if not 0 < value < keys.DEDUPE_TTL:
            raise ValueError(
                f"must be between 0 and {keys.DEDUPE_TTL} seconds (how long message ids are kept)"
            )
        return value

    @validator("port", "max_message_chars", "minutes_per_case", "zalo_reply_quota", "session_idle_minutes")
    def _positive(cls, value: int) -> int:
        if value <= 0:
            raise ValueError("must be a positive number")
        return value

    @validator(
        "rest_per_ip_minute",
        "messenger_per_ip_minute",
        "widget_connects_per_ip_minute",
        "messages_per_conversation_minute",
        "widget_messages_per_socket_minute",
        "widget_messages_per_ip_minute",
        "widget_conversations_per_ip_minute",
        "conversation_bytes",
    )
    def _not_negative(cls, value: int) -> int:
        if value < 0:
            raise ValueError("must be 0 (off) or more")
        return value

    @validator("public_origin")
    def _an_origin(cls, value: Optional[str]) -> Optional[str]:
        if value is not None:
            parsed = urlparse(value)
            if parsed.scheme not in ("http", "https") or not parsed.hostname or parsed.path not in ("", "/"):
                raise ValueError("must be an origin such as https://shop.example")
            value = value.rstrip("/")
        return value

    @validator("demo")
    def _never_public(cls, value: bool, values: Dict[str, Any]) -> bool:
        """The demo (a published agent password, a sign-in anyone can use) never runs on
        a hub with a public origin."""
        if value and values.get("public_origin"):
            log.warning("HUB_DEMO is ignored: the demo is never on when HUB_PUBLIC_ORIGIN is set")
            return False
        return value

    @property
    def rasa_urls(self) -> Tuple[str, ...]:
        return tuple(url.strip().rstrip("/") for url in self.rasa_url.split(",") if url.strip())

    @property
    def redis_target(self) -> RedisTarget:
        """Where the store is: `REDIS_URL`, or the master the Sentinels name."""
        return RedisTarget(
            url=self.redis_url,
            sentinels=parse_sentinels(self.redis_sentinels),
            master_name=self.redis_master_name,
            sentinel_password=self.redis_sentinel_password or None,
        )

    @property
    def messenger_enabled(self) -> bool:
        return bool(self.fb_verify_token and self.fb_app_secret and self.fb_page_token)

    @property
    def zalo_enabled(self) -> bool:
        return bool(
            self.zalo_app_id and self.zalo_oa_secret and self.zalo_app_secret and self.zalo_refresh_token
        )

    @property
    def email_enabled(self) -> bool:
        return bool(self.smtp_url and self.mail_from)

    @property
    def rest_closed(self) -> bool:
        """REST without a token on a hub that faces the internet: closed (401), never open."""
        return bool(self.public_origin and not self.rest_token)

    @property
    def hosts(self) -> FrozenSet[str]:
        """The `Host` names the hub answers to (bot/web/middlewares.py known_host)."""
        extra = {h.strip().lower().strip("[]") for h in self.allowed_hosts.split(",") if h.strip()}
        public = urlparse(self.public_origin).hostname if self.public_origin else None
        return LOOPBACK_HOSTS | extra | ({public.lower()} if public else set())

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "Settings":
        values: Dict[str, Any] = {}
        for name, variable in ENV.items():
            if variable in env and not (name in UNSET_WHEN_EMPTY and not env[variable].strip()):
                values[name] = env[variable]
        if "action_url" not in values:
            values["action_url"] = f"http://127.0.0.1:{env.get('ACTION_PORT', '5055')}"
        agents = env.get("HUB_AGENTS") or (DEMO_AGENTS if demo_agent_allowed(env) else "")
        values["agents"] = parse_agents(agents)
        values["display_names"] = parse_display_names(agents)
        try:
            return cls(**values)
        except ValidationError as error:
            problems = "; ".join(
                f"{ENV.get(str(e['loc'][0]), e['loc'][0])}: {e['msg']}" for e in error.errors()
            )
            raise ValueError(f"bad hub settings: {problems}") from None


# Which variable sets which setting, and where an empty value means "not set", from the
# fields above; HUB_AGENTS (agents, display_names) and ACTION_PORT are read in from_env.
ENV = {
    name: field.field_info.extra["env"]
    for name, field in Settings.__fields__.items()
    if field.field_info.extra.get("env") and not field.field_info.extra.get("parsed")
}
UNSET_WHEN_EMPTY = {
    name for name, field in Settings.__fields__.items() if field.field_info.extra.get("empty_is_unset")
}


def is_loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def switched_on(value: Optional[str]) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def demo_agent_allowed(env: Mapping[str, str]) -> bool:
    """The demo agent (a published password) only when HUB_DEMO says so, and never on a
    hub with a public origin: listening on loopback says nothing (a reverse proxy in
    front makes a loopback hub public)."""
    return switched_on(env.get("HUB_DEMO")) and not (env.get("HUB_PUBLIC_ORIGIN") or "").strip()


SECRET_IN_URL = re.compile(
    r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<password>[^@/\s]+)@", re.I
)
SECRET_PARAMETER = re.compile(r"(?P<name>(?:access_token|token|password|secret)=)[^&\s'\"]+", re.I)


def redact(text: str) -> str:
    """`text` (a URL, an error message) without the secrets URLs carry: the password of
    `scheme://user:password@host` and token or password query parameters."""
    text = SECRET_IN_URL.sub(lambda m: f"{m['scheme']}{m['user']}:***@", str(text))
    return SECRET_PARAMETER.sub(lambda m: f"{m['name']}***", text)


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
