"""The PostgreSQL backend against a real PostgreSQL server (tests/backends/conftest.py
postgres_dsn), reading the shop's own tables through queries an owner would write."""

import time

import asyncpg
import pytest
import yaml

from actions.backends.mapping import tables
from actions.backends.postgres import PostgresBackend, QueriesError, load_queries
from actions.backends.settings import OrderSettings
from actions.orders import Done, OrdersUnavailable, Refused

SCHEMA = """
DROP SCHEMA IF EXISTS shop CASCADE;
CREATE SCHEMA shop;
CREATE TABLE shop.customers (id text PRIMARY KEY, email text, phone text, first_name text, level text);
CREATE TABLE shop.orders (
  number text PRIMARY KEY, customer_id text REFERENCES shop.customers(id), state text,
  grand_total numeric(14, 2), currency text, courier text, waybill text, shipped_on timestamptz,
  placed_on timestamptz, refunded numeric(14, 2) DEFAULT 0);
CREATE TABLE shop.order_lines (number text REFERENCES shop.orders(number), product text, qty int);
INSERT INTO shop.customers VALUES ('C-7', 'lan@example.com', '0912345678', 'Lan', 'gold');
INSERT INTO shop.orders VALUES
  ('1048213', 'C-7', 'in_transit', 1250000, 'VND', 'FastShip', 'FS-1', now() - interval '4 days', now() - interval '5 days'),
  ('6603347', 'C-7', 'delivered', 320000, 'VND', 'GiaoNhanh', NULL, now() - interval '5 days', now() - interval '6 days'),
  ('7000001', 'C-7', 'processing', 90000, 'VND', NULL, NULL, NULL, now());
INSERT INTO shop.order_lines VALUES ('1048213', 'running shoes', 1), ('1048213', 'sports socks', 2),
  ('6603347', 'cotton T-shirt', 1), ('7000001', 'mug', 1);
"""
ORDER_ROW = """
  SELECT o.number, c.email, o.state AS status, o.grand_total AS total, o.currency, o.courier AS carrier,
         o.waybill AS tracking_number, o.shipped_on AS shipped_at,
         (SELECT json_agg(json_build_object('name', l.product, 'quantity', l.qty))
            FROM shop.order_lines l WHERE l.number = o.number) AS items
  FROM shop.orders o JOIN shop.customers c ON c.id = o.customer_id"""
QUERIES = {
    "order": ORDER_ROW + " WHERE o.number = $1",
    "recent_orders": ORDER_ROW + " WHERE (c.email = $1 AND $1 <> '') OR (c.phone = $2 AND $2 <> '')"
    " ORDER BY o.placed_on DESC LIMIT $3",
    "customer": """SELECT id, email, phone, first_name AS name, level AS tier,
      (SELECT count(*) FROM shop.orders o WHERE o.customer_id = c.id) AS orders_count
      FROM shop.customers c
      WHERE (email = $1 AND $1 <> '') OR (phone = $2 AND $2 <> '') OR (id = $3 AND $3 <> '')""",
    "cancel": """UPDATE shop.orders SET state = 'cancelled'
      WHERE number = $1 AND state = 'processing' AND $2 <> '' RETURNING number AS reference""",
    "refund": """UPDATE shop.orders SET refunded = refunded + $2
      WHERE number = $1 AND refunded + $2 <= grand_total AND $3 <> ''
      RETURNING number || '-refund' AS reference""",
}


@pytest.fixture(scope="module")
async def shop_db(postgres_dsn):
    connection = await asyncpg.connect(postgres_dsn)
    await connection.execute(SCHEMA)
    await connection.close()
    return postgres_dsn


@pytest.fixture
def queries(tmp_path):
    path = tmp_path / "orders-queries.yml"
    path.write_text(yaml.safe_dump({"queries": QUERIES}), encoding="utf-8")
    return path


def backend(dsn: str, queries) -> PostgresBackend:
    return PostgresBackend(OrderSettings(backend="postgres", postgres_dsn=dsn, postgres_queries=str(queries)))


async def test_orders_and_a_customer_from_the_shops_own_tables(shop_db, queries):
    store = backend(shop_db, queries)
    order = await store.get_order("1048213")
    recent = await store.recent_orders_for(phone="0912345678", limit=2)
    owner = await store.customer(customer_id="C-7")
    assert await store.get_order("404") is None
    assert await store.customer(email="nobody@example.com") is None
    await store.close()
    assert (order.email, order.status, order.value, order.carrier) == (
        "lan@example.com",
        "in_transit",
        1250000,
        "FastShip",
    )
    assert (
        order.items["en"] == "running shoes, sports socks ×2"
        and order.last_scan["en"] == "tracking number FS-1"
    )
    assert order.shipped_days_ago == 4
    assert [o.order_id for o in recent] == ["7000001", "1048213"]  # newest placed first
    assert recent[0].last_scan["vi"] == "chưa gửi đi" and recent[0].carrier == ""
    assert (owner.email, owner.tier, owner.orders_total, owner.name) == ("lan@example.com", "gold", 3, "Lan")


@pytest.mark.parametrize("word", sorted(tables().statuses["postgres"]))
async def test_every_status_word_is_read_through_the_table(shop_db, queries, word):
    connection = await asyncpg.connect(shop_db)
    await connection.execute("UPDATE shop.orders SET state = $1 WHERE number = '6603347'", word)
    await connection.close()
    store = backend(shop_db, queries)
    found = await store.get_order("6603347")
    await store.close()
    assert found.status == tables().statuses["postgres"][word]


async def test_cancel_and_refund_through_the_owners_queries(shop_db, queries):
    store = backend(shop_db, queries)
    assert await store.cancel("7000001", reason="customer asked", key="k") == Done("7000001")
    assert (await store.get_order("7000001")).status == "cancelled"
    assert isinstance(await store.cancel("1048213", reason="in transit", key="k"), Refused)
    assert (await store.get_order("6603347")).last_scan["en"] == "no tracking number yet"
    assert await store.refund("6603347", 100000, note="stain", key="k") == Done("6603347-refund")
    assert isinstance(await store.refund("6603347", 300000, note="more than paid", key="k"), Refused)
    await store.close()


async def test_a_database_that_is_down_slow_or_wrong_is_unavailable(shop_db, queries, tmp_path):
    from scripts.stack import free_port

    down = backend(f"postgresql://orders@127.0.0.1:{free_port()}/postgres", queries)
    with pytest.raises(OrdersUnavailable, match="cannot connect"):
        await down.get_order("1048213")
    await down.close()
    slow = tmp_path / "slow.yml"
    slow.write_text(
        "queries:\n  order: SELECT pg_sleep(10), $1::text AS number\n"
        "  recent_orders: SELECT 1\n  customer: SELECT 1\n",
        encoding="utf-8",
    )
    store = backend(shop_db, slow)
    started = time.monotonic()
    with pytest.raises(OrdersUnavailable, match="no answer within 3 s"):
        await store.get_order("1048213")
    assert time.monotonic() - started < 4.5
    await store.close()
    wrong = tmp_path / "wrong.yml"
    wrong.write_text(
        "queries:\n  order: SELECT * FROM shop.no_such_table WHERE number = $1\n"
        "  recent_orders: SELECT 1\n  customer: SELECT 1\n",
        encoding="utf-8",
    )
    store = backend(shop_db, wrong)
    with pytest.raises(OrdersUnavailable, match="UndefinedTable"):
        await store.get_order("1048213")
    await store.close()


def test_a_queries_file_without_a_query_is_refused_naming_the_line(tmp_path):
    path = tmp_path / "bad.yml"
    path.write_text("queries:\n  order: SELECT 1\n  recent_orders: ' '\n", encoding="utf-8")
    with pytest.raises(QueriesError) as refused:
        load_queries(str(path))
    assert "line 3 (queries.recent_orders): must be a query" in str(refused.value)
    assert "(queries.customer): is missing" in str(refused.value)
