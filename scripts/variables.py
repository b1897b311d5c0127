"""The variables read outside the hub (the launcher, the action server, Rasa's endpoints,
make targets): documentation only. docs/configuration.md is generated from them and the
hub's `Settings` (bot/settings_fields.py): `python scripts/config_docs.py`.
"""

from typing import NamedTuple, Tuple

from contract import keys


class Variable(NamedTuple):
    """A variable the hub's Settings does not own: who reads it, its default, its meaning."""

    names: Tuple[str, ...]
    read_by: str
    default: str
    meaning: str


LAUNCHER = "launcher (`scripts/stack.py`)"
ORDERS = "action server (`actions/backends/settings.py`); `python -m actions.orders`"
ELSEWHERE: Tuple[Variable, ...] = (
    Variable(
        ("REDIS_PORT",),
        f"{LAUNCHER}; Rasa (`endpoints.yml`)",
        "6379",
        "port of the embedded Redis; Rasa's stores get the port of `REDIS_URL` from the launcher",
    ),
    Variable(
        ("REDIS_MAXMEMORY",),
        LAUNCHER,
        "512mb",
        "memory cap of the embedded Redis (policy noeviction: writes fail with a clear 503 rather than "
        "losing data)",
    ),
    Variable(("RASA_PORT",), LAUNCHER, "5005", "port of the Rasa server, which listens on 127.0.0.1 only"),
    Variable(
        ("ACTION_PORT",),
        f"{LAUNCHER}; Rasa (`endpoints.yml`); the hub (`ACTION_URL`'s default)",
        "5055",
        "port of the action server",
    ),
    Variable(
        ("SANIC_HOST",),
        "action server (rasa_sdk), set by the launcher",
        "127.0.0.1",
        "the action server's address: nobody outside may run an action (e.g. cancel an order), so the "
        "launcher keeps it on loopback (rasa_sdk alone would bind 0.0.0.0)",
    ),
    Variable(
        ("REDIS_HOST", "REDIS_DB", "REDIS_PASSWORD"),
        "Rasa (`endpoints.yml`), set by the launcher",
        "from `REDIS_URL`",
        "Rasa's tracker and lock stores, with `REDIS_PORT`; set them yourself only to run `rasa run` by hand",
    ),
    Variable(
        ("PLAYBOOK_PATH",),
        "action server (`actions/playbook.py`); the hub's console labels (`bot/console/labels.py`)",
        "`data/shop/playbook.yml`",
        "the shop's recovery playbook",
    ),
    Variable(
        ("HELP_PAGES_DIR",),
        "action server (`actions/knowledge.py`, read at start-up); the hub's console search and "
        "public help pages (`bot/web/help_pages.py`)",
        "`data/shop/help`",
        "the shop's help pages (`<lang>/*.md`, sections by heading) that questions are answered from",
    ),
    Variable(
        ("KNOWLEDGE_CACHE_DIR",),
        "action server (`actions/knowledge.py`)",
        "`.cache/knowledge`",
        "where the help pages' e5 vectors are kept between starts, by the texts they were made from "
        "(`python -m actions.knowledge build` fills it; the image does). Without it (a read-only disk), "
        "each start embeds the pages again: about 20 s of CPU for the demo shop. Vectors no start has read "
        "for 30 days are removed when new ones are written",
    ),
    Variable(
        ("ORDERS_BACKEND",),
        ORDERS,
        "demo",
        "where orders are read: `demo` (`ORDERS_DATA` in Redis), `shopify`, `woocommerce`, `haravan`, "
        "`http` or `postgres`, each with the settings below (docs/orders.md); a missing one stops the "
        "action server at start-up, naming it",
    ),
    Variable(("SHOPIFY_SHOP",), ORDERS, "unset", "`shopify`: the shop's myshopify.com name, e.g. `moc-home`"),
    Variable(
        ("SHOPIFY_TOKEN",),
        ORDERS,
        "unset",
        "`shopify`: the custom app's Admin API access token (scopes in docs/orders.md)",
    ),
    Variable(
        ("SHOPIFY_API_VERSION",),
        ORDERS,
        "2026-04",
        "`shopify`: the Admin GraphQL API version the bot speaks",
    ),
    Variable(
        ("SHOPIFY_URL",),
        ORDERS,
        "`https://$SHOPIFY_SHOP.myshopify.com`",
        "`shopify`: the Admin API's base URL (tests point it at a local fake)",
    ),
    Variable(
        ("WOO_URL",),
        ORDERS,
        "unset",
        "`woocommerce`: the shop's site, e.g. `https://shop.example` (the REST API is under "
        "`/wp-json/wc/v3`; HTTPS, since the key travels in Basic auth)",
    ),
    Variable(
        ("WOO_KEY", "WOO_SECRET"), ORDERS, "unset", "`woocommerce`: a REST API key's consumer key and secret"
    ),
    Variable(("HARAVAN_TOKEN",), ORDERS, "unset", "`haravan`: the private app's access token"),
    Variable(
        ("HARAVAN_URL",),
        ORDERS,
        "https://apis.haravan.com",
        "`haravan`: the API's base URL (tests point it at a local fake)",
    ),
    Variable(
        ("ORDERS_HTTP_URL",),
        ORDERS,
        "unset",
        "`http`: the base URL of the shop's own service speaking the contract in docs/orders.md",
    ),
    Variable(
        ("ORDERS_HTTP_TOKEN",),
        ORDERS,
        "unset",
        "`http`: sent as `Authorization: Bearer <token>` (unset: no header)",
    ),
    Variable(
        ("ORDERS_POSTGRES_DSN",),
        ORDERS,
        "unset",
        "`postgres`: e.g. `postgresql://bot:secret@db:5432/shop` (a role that may only SELECT)",
    ),
    Variable(
        ("ORDERS_POSTGRES_QUERIES",),
        ORDERS,
        "unset",
        "`postgres`: the YAML file of the owner's queries (`order`, `recent_orders`, `customer`; "
        "optional `cancel`, `refund`), docs/orders.md",
    ),
    Variable(
        ("MEMORY_RETENTION_DAYS",),
        "action server (`contract/memory.py`)",
        str(keys.MEMORY_RETENTION_DAYS),
        "days customer memory and cases live after their last write (merged records included); the "
        "console's customer panel and search reach back as far",
    ),
    Variable(
        ("DEMO_HUB_URL",),
        "`make demo-data` (`scripts/demo_data.py`)",
        "unset: start the stack as `make run` does",
        "a running hub to play the demo week through; `REDIS_URL` must then name that hub's Redis",
    ),
    Variable(
        ("REDIS_DIR",),
        "`make run`, `make demo-data`, `make shell` (`scripts/stack.py`)",
        "`.run/redis`",
        "data folder (and password file) of the embedded Redis, with `REDIS_URL` unset",
    ),
    Variable(("DEMO_ARGS",), "`make demo-data`", "", "arguments for `scripts/demo_data.py`: `--once`"),
    Variable(
        ("PYTHON310",),
        "`make setup` (`scripts/setup_venv.sh`)",
        "`python3.10` on PATH, else pyenv's `~/.pyenv/versions/3.10.*`",
        "the Python 3.10 that `.venv` is made with",
    ),
    Variable(
        ("AUDIT_STRICT",),
        "`make audit` (`scripts/audit.sh`)",
        "0",
        "1: fail on findings (otherwise they are printed)",
    ),
    Variable(("EVAL_ARGS",), "`make eval`", "", "arguments for `benchmarks.nlu_quality`, e.g. `--folds 3`"),
    Variable(
        ("KNOWLEDGE_ARGS",),
        "`make eval`",
        "",
        "arguments for `benchmarks.knowledge`, e.g. `--brief` (the demo sets only, printed, nothing written)",
    ),
    Variable(("BENCH_ARGS",), "`make bench`", "", "arguments for `benchmarks.load`, e.g. `--customers 100`"),
    Variable(
        ("CHAOS_ARGS",), "`make chaos`", "", "arguments for `benchmarks.chaos`, e.g. `--port-base 7500`"
    ),
    Variable(
        ("CLUSTER_ARGS",),
        "`make cluster`",
        "",
        "arguments for `benchmarks.cluster`, e.g. `--brief` (stand-in Rasa, about a minute)",
    ),
)
