"""`python -m actions.orders lookup` as the operator runs it, against a local server of
the HTTP contract: the order as the bot sees it, or one line and a non-zero exit."""

import asyncio
import os
from pathlib import Path
import sys

import pytest

from scripts.stack import free_port
from tests.backends import contract_api as api

ROOT = Path(__file__).resolve().parents[2]


async def lookup(*args: str, **env: str):
    """(exit code, stdout, stderr) of the command, run without blocking the fake server."""
    variables = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "actions.orders",
        "lookup",
        *args,
        cwd=ROOT,
        env=variables,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    return proc.returncode, out.decode(), err.decode()


@pytest.fixture
async def shop(serve):
    shop = await serve(api.Shop(), api.routes)
    shop.orders = [
        api.order(
            "2207718",
            "minh@example.vn",
            "delivered",
            total="480000",
            items=[{"name": "Glass tumbler set", "quantity": 6}],
        )
    ]
    shop.customers = [api.customer("C-1002", "minh@example.vn", "0987654321", tier="silver")]
    return shop


def http_env(url: str):
    return {"ORDERS_BACKEND": "http", "ORDERS_HTTP_URL": url, "ORDERS_HTTP_TOKEN": api.TOKEN}


async def test_the_order_as_the_bot_sees_it(shop):
    code, out, err = await lookup("#2207718", "--contact", "0987 654 321", **http_env(shop.url))
    assert code == 0, err
    assert "http backend" in out and "order 2207718" in out
    assert "status:  delivered (delivered)" in out and "value:   480,000 VND" in out
    assert "Glass tumbler set ×6" in out and "GiaoNhanh (tracking number GN-1)" in out
    assert "tier silver" in out and "matches" in out


async def test_an_unknown_order_a_wrong_contact_and_an_unreachable_backend_get_one_line(shop):
    for args, env, says in (
        (("1234567",), http_env(shop.url), "order 1234567 not found in the http backend"),
        (
            ("2207718", "--contact", "someone@else.vn"),
            http_env(shop.url),
            "is not the email or phone on order 2207718",
        ),
        (
            ("2207718",),
            http_env(f"http://127.0.0.1:{free_port()}"),
            "the http backend is unavailable: cannot connect",
        ),
        (("2207718",), {"ORDERS_BACKEND": "shopify"}, "SHOPIFY_SHOP is not set"),
        (
            ("2207718",),
            {"ORDERS_BACKEND": "demo", "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"},
            "the demo backend's Redis cannot be reached",
        ),
    ):
        code, out, err = await lookup(*args, **env)
        assert code == 1 and out == "", (args, out)
        assert says in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err


async def test_a_backend_that_hangs_is_given_up_after_the_deadline(shop):
    shop.mode = "slow"
    code, _, err = await lookup("2207718", **http_env(shop.url))
    assert code == 1 and "no answer within 3 s" in err
