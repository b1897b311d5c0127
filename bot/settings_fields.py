"""What the hub reads from the environment: each `Settings` field (bot/settings.py), with
its variable (`env`) and what it means (`description`; `shown` is the default as people
should read it, when the value itself would mislead). docs/configuration.md is generated
from them: `python scripts/config_docs.py`.
"""

from typing import Any, Dict, Optional

from pydantic import BaseModel, Field

from bot.paths import SHOP
from contract.redis_client import DEFAULT_MASTER_NAME

DEMO_ORDERS = SHOP / "orders.yml"


def setting(
    default: Any,
    env: Optional[str],
    meaning: str,
    *,
    shown: Optional[str] = None,
    empty_is_unset: bool = False,
    parsed: bool = False,
) -> Any:
    """A field with its variable and meaning. `empty_is_unset`: an empty value means "not
    set" (the default applies); `parsed`: from_env builds the value itself."""
    return Field(
        default, env=env, description=meaning, shown=shown, empty_is_unset=empty_is_unset, parsed=parsed
    )


class HubVariables(BaseModel):
    """The hub's settings as declared: `Settings` adds their checks and what follows from them."""

    host: str = setting(
        "127.0.0.1",
        "HUB_HOST",
        "the address the hub listens on (behind a reverse proxy: loopback, with `HUB_PUBLIC_ORIGIN` set)",
    )
    port: int = setting(8080, "HUB_PORT", "the port the hub listens on")
    redis_url: str = setting(
        "redis://127.0.0.1:6379/0",
        "REDIS_URL",
        "the one store, for the hub, the action server and (through the launcher) Rasa's tracker and "
        "lock stores: an external Redis, e.g. `redis://:secret@10.0.0.5:6379/0`. Unset, `make run` "
        "starts the embedded one (docs/operations.md). With `REDIS_SENTINELS`, only its password and "
        "database count: the Sentinels say where the master is",
        shown="`make run`: the embedded Redis; the hub alone: `redis://127.0.0.1:6379/0`",
    )
    redis_sentinels: str = setting(
        "",
        "REDIS_SENTINELS",
        "Redis Sentinels, `host:port,host:port,...`: the hub, the action server and Rasa's tracker and "
        "lock stores (`contract/rasa_stores.py`) then ask them for the master named `REDIS_MASTER_NAME`, "
        "and follow it when a replica is promoted (`contract/redis_client.py`; docs/deploy.md)",
        shown="unset: `REDIS_URL` is the one Redis",
    )
    redis_master_name: str = setting(
        DEFAULT_MASTER_NAME,
        "REDIS_MASTER_NAME",
        "the name the Sentinels watch the master under (`sentinel monitor NAME ...`)",
        empty_is_unset=True,
    )
    redis_sentinel_password: str = setting(
        "",
        "REDIS_SENTINEL_PASSWORD",
        "the Sentinels' own password (their `requirepass`), for every role; the master's is in `REDIS_URL`",
        shown="unset: the Sentinels ask for none",
    )
    rasa_url: str = setting(
        "http://127.0.0.1:5005",
        "RASA_URL",
        "Rasa's REST channel, for the hub; several, comma-separated: every message of a conversation "
        "goes to the same one (consistent hashing on the conversation id), the next in its order only "
        "while that one refuses connections. They must share the Redis tracker and lock stores, as "
        "`endpoints.yml` has them",
    )
    rasa_resolve: bool = setting(
        False,
        "RASA_RESOLVE",
        "on: every address a `RASA_URL` host name resolves to is a Rasa server of its own, looked up "
        "again every 10 s: a Kubernetes headless Service (an address per ready Rasa pod), so that each "
        "conversation keeps to one pod (docs/deploy.md)",
        shown="off: each URL is one server",
        empty_is_unset=True,
    )
    rasa_timeout: float = setting(
        8.0, "RASA_TIMEOUT", "seconds the hub waits for Rasa before apologising and queueing the customer"
    )
    action_url: str = setting(
        "http://127.0.0.1:5055",
        "ACTION_URL",
        "the action server, for `/health` only (Rasa is what calls it)",
        shown="`http://127.0.0.1:$ACTION_PORT`",
        empty_is_unset=True,
    )
    secret: Optional[str] = setting(
        None,
        "HUB_SECRET",
        "signs agent cookies and resume links, and keys the hash of widget clients' addresses the assistant "
        "is given (share it between hub processes)",
        shown="a random value created once in Redis",
        empty_is_unset=True,
    )
    agents: Dict[str, str] = setting(  # name -> password hash
        {},
        "HUB_AGENTS",
        "`name:scrypt$...[:display name]` entries, comma-separated; make one with `python -m "
        'bot.console.passwords NAME "Display name"`. Customers see only the display name, never the login '
        '(without one: "A colleague"); an agent removed from it is logged out at once',
        shown="none; with `HUB_DEMO` (which `make run` sets), the demo agent `agent` / `recovery-demo` "
        '(customers see "Mai"), never with `HUB_PUBLIC_ORIGIN`',
        parsed=True,
    )
    display_names: Dict[str, str] = setting({}, "HUB_AGENTS", "", parsed=True)  # name -> what customers see
    max_message_chars: int = setting(
        2000,
        "MAX_MESSAGE_CHARS",
        'longest customer message: longer gets HTTP 413 (REST) or a polite "please split it" '
        "(widget); also the longest agent reply or note (413)",
    )
    still_here_after: float = setting(
        90.0,
        "STILL_HERE_AFTER",
        'seconds in the queue before a "still here" reassurance (then every interval)',
    )
    minutes_per_case: int = setting(4, "MINUTES_PER_CASE", "queue ETA, in minutes per conversation ahead")
    agent_online_seconds: float = setting(
        60.0,
        "AGENT_ONLINE_SECONDS",
        "an agent counts as online this long after their console's last heartbeat",
    )
    public_origin: Optional[str] = setting(
        None,
        "HUB_PUBLIC_ORIGIN",
        "the hub's public origin, e.g. `https://shop.example`, behind a reverse proxy: the Origin allowed "
        "to open the console WebSocket and to POST to the agent API, and a `Host` the hub answers to; "
        "with https the agent cookie is also `Secure`. Set, the demo is off and REST needs "
        "`HUB_REST_TOKEN` (docs/operations.md)",
        shown="unset: the request's own host (the hub answers only to localhost and loopback addresses)",
        empty_is_unset=True,
    )
    allowed_hosts: str = setting(
        "",
        "HUB_ALLOWED_HOSTS",
        "more host names the hub answers to, comma-separated (e.g. an internal name a proxy sends as "
        "`Host`); any other `Host` but localhost, the loopback addresses and `HUB_PUBLIC_ORIGIN`'s gets "
        "421 (DNS rebinding), except `/health`",
        shown="none",
    )
    support_hours: str = setting(
        "08:00-22:00",
        "SUPPORT_HOURS",
        'the team\'s hours (local time), for "a colleague will reply by ..." when nobody is online',
    )
    support_utc_offset: float = setting(
        7.0,
        "SUPPORT_UTC_OFFSET",
        "the team's time zone, hours from UTC (Vietnam: 7); the reports' days are its local days",
    )
    fb_verify_token: str = setting(
        "",
        "FB_VERIFY_TOKEN",
        "the verify token you chose for the Messenger webhook; with the next two it turns Messenger on",
        shown="unset: Messenger is off (the hub says so at start-up)",
    )
    fb_app_secret: str = setting(
        "", "FB_APP_SECRET", "the Facebook app's secret, which checks `X-Hub-Signature-256`", shown="unset"
    )
    fb_page_token: str = setting(
        "", "FB_PAGE_ACCESS_TOKEN", "the Page access token, for the Send API", shown="unset"
    )
    fb_graph_url: str = setting(
        "https://graph.facebook.com/v19.0",
        "FB_GRAPH_URL",
        "Graph API base URL (tests point it at a local fake)",
    )
    zalo_app_id: str = setting(
        "",
        "ZALO_APP_ID",
        "the Zalo app's id (developers.zalo.me); with `ZALO_OA_SECRET`, `ZALO_APP_SECRET` and "
        "`ZALO_REFRESH_TOKEN` it turns the Zalo Official Account channel on",
        shown="unset: Zalo is off (the hub says so at start-up)",
    )
    zalo_oa_secret: str = setting(
        "",
        "ZALO_OA_SECRET",
        "the OA secret key of the app's link to the Official Account, which checks the webhook's "
        "`X-ZEvent-Signature` (not the app's secret key)",
        shown="unset",
    )
    zalo_app_secret: str = setting(
        "",
        "ZALO_APP_SECRET",
        "the Zalo app's secret key, sent (header `secret_key`) when the hub refreshes the OA's tokens",
        shown="unset",
    )
    zalo_refresh_token: str = setting(
        "",
        "ZALO_REFRESH_TOKEN",
        "the OA's first refresh token, from authorising the app; it rotates on every refresh, so the "
        "hub keeps the current one in Redis and reads this variable again only when its value changes "
        "(a new authorisation)",
        shown="unset",
    )
    zalo_api_url: str = setting(
        "https://openapi.zalo.me",
        "ZALO_API_URL",
        "Zalo's OpenAPI base URL, for sending (tests point it at a local fake)",
    )
    zalo_oauth_url: str = setting(
        "https://oauth.zaloapp.com",
        "ZALO_OAUTH_URL",
        "Zalo's OAuth base URL, for refreshing the OA's tokens (tests point it at a local fake)",
    )
    zalo_event_max_age: float = setting(
        7200.0,
        "ZALO_EVENT_MAX_AGE",
        "seconds a Zalo event's timestamp may be old: older is refused (401) as stale or replayed. Longer "
        "than Zalo's retries, shorter than the day message ids are remembered for",
    )
    zalo_reply_quota: int = setting(
        8,
        "ZALO_REPLY_QUOTA",
        "Zalo's free replies after each customer message (within 48 h); past them the window is closed",
    )
    background_interval: float = setting(
        5.0,
        None,
        "seconds between the hub's background rounds (reassurance, email follow-up); tests shorten it",
    )
    shop_identity_secret: str = setting(
        "",
        "SHOP_IDENTITY_SECRET",
        "shared with the shop's server, which signs its signed-in customers (docs/privacy-and-security.md); "
        "never sent to a browser",
        shown="unset: nobody is verified by the shop (with `HUB_DEMO`, a random value created once in Redis)",
    )
    rest_token: str = setting(
        "",
        "HUB_REST_TOKEN",
        "REST callers (webhook and messages) must send `Authorization: Bearer <token>` (401 otherwise)",
        shown="unset: the REST channel is open, except with `HUB_PUBLIC_ORIGIN` (then closed: 401)",
    )
    demo: bool = setting(
        False,
        "HUB_DEMO",
        "the demo: the demo agent (unless `HUB_AGENTS` is set), and the demo shop page's "
        '"Signed in as Lan (demo)" (`GET /demo/identity` signs the demo customer; 404 when off). The '
        "hub says so at start-up. Never on a hub reachable from outside: ignored (with a warning) "
        "when `HUB_PUBLIC_ORIGIN` is set",
        shown="off; `make run` turns it on when the hub listens on loopback",
        empty_is_unset=True,
    )
    demo_customer: str = setting(
        "C-1001",
        "DEMO_CUSTOMER",
        "the demo customer's id; the name shown is read from `ORDERS_DATA`",
        empty_is_unset=True,
    )
    orders_data: str = setting(
        str(DEMO_ORDERS),
        "ORDERS_DATA",
        "the demo order store's data: loaded into Redis by the action server; the hub reads the demo "
        "customer's name from it",
        shown="`data/shop/orders.yml`",
        empty_is_unset=True,
    )
    smtp_url: str = setting(
        "",
        "SMTP_URL",
        "`smtp://user:password@host:587` (STARTTLS required: a server that does not offer it is "
        "refused), `smtps://host:465` (TLS from the start), or `smtp+insecure://host:25` (plain, for a "
        "local test server only); with `MAIL_FROM` it turns email follow-up on",
        shown="unset: email follow-up is off (the hub says so at start-up)",
    )
    mail_from: str = setting(
        "", "MAIL_FROM", "the shop's sender, e.g. `Mộc Home <help@shop.example>`", shown="unset"
    )
    session_idle_minutes: int = setting(
        30,
        "SESSION_IDLE_MINUTES",
        "minutes without a customer message after which a conversation's proof of who it is (an order and "
        "its email or phone) lapses: the customer is a guest again and asked to prove the order again. "
        "Cancelling an order or a remedy paid into the shop account needs a proof younger than this. Read "
        "by the hub and the action server (`contract/memory.py`)",
    )
    follow_up_after: float = setting(
        120.0,
        "FOLLOW_UP_AFTER",
        "seconds an agent's reply may stay unseen in the widget before it is emailed",
    )
    shop_url: str = setting(
        "",
        "SHOP_URL",
        "the shop page with the widget, for the link back in follow-up emails",
        shown="`http://HUB_HOST:HUB_PORT/`",
    )
    # Per client address (bot/core/limits.py); behind a reverse proxy every client has the
    # proxy's address, so the proxy must limit per client itself.
    rest_per_ip_minute: int = setting(
        600,
        "REST_PER_IP_MINUTE",
        "REST calls (webhook and messages) per client address per minute, then 429 with `Retry-After`; "
        "0 turns it off",
    )
    messenger_per_ip_minute: int = setting(
        1200,
        "MESSENGER_PER_IP_MINUTE",
        "Messenger webhook deliveries per address per minute (they come from Meta's servers); 0 turns it off",
    )
    zalo_per_ip_minute: int = setting(
        1200,
        "ZALO_PER_IP_MINUTE",
        "Zalo webhook deliveries per address per minute (they come from Zalo's servers); 0 turns it off",
    )
    widget_connects_per_ip_minute: int = setting(
        120,
        "WIDGET_CONNECTS_PER_IP_MINUTE",
        "new widget (socket.io) connections per address per minute (an open socket's traffic is not "
        "counted); 0 turns it off",
    )
    # Token buckets checked before a customer message is stored (bot/core/limits.py): a
    # bucket holds this many and fills again in a minute; over it the customer is told
    # "one moment" and nothing is stored. 0 turns one off.
    messages_per_conversation_minute: int = setting(
        20,
        "MESSAGES_PER_CONVERSATION_MINUTE",
        'customer messages per conversation per minute, any channel (a burst of as many); past it "one '
        'moment" and the message is not stored; 0 turns it off',
    )
    widget_messages_per_socket_minute: int = setting(
        20,
        "WIDGET_MESSAGES_PER_SOCKET_MINUTE",
        "widget messages and session requests per socket per minute; 0 turns it off",
    )
    widget_messages_per_ip_minute: int = setting(
        120,
        "WIDGET_MESSAGES_PER_IP_MINUTE",
        "widget messages per client address per minute, all its sockets together (behind a reverse proxy "
        "every client has the proxy's address: set 0 and limit there); 0 turns it off",
    )
    widget_conversations_per_ip_minute: int = setting(
        20,
        "WIDGET_CONVERSATIONS_PER_IP_MINUTE",
        "new widget conversations per client address per minute (a socket holds at most 3); 0 turns it off",
    )
    conversation_bytes: int = setting(
        262144,
        "CONVERSATION_BYTES",
        "a conversation's byte budget: each customer message costs its UTF-8 size, at least 1 KiB; "
        "once spent, the conversation takes no more messages (the customer is asked to start a new "
        "chat); 0 turns it off",
        shown="262144 (256 KiB: at least 256 messages)",
    )
