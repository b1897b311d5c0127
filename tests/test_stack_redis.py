"""`make run`'s embedded Redis (scripts/stack.py): a password made once, readable by this
user only, never on a command line; nothing reaches the store without it."""

import stat

import pytest
import redis

from scripts.stack import Stack, free_port


def test_the_embedded_redis_needs_its_password(tmp_path):
    stack = Stack(redis_port=free_port(), redis_dir=tmp_path / "redis", persistent_redis=False)
    try:
        proc = stack.start_redis()
        password = stack.redis_password
        assert password and password == stack.redis_password  # made once
        assert stat.S_IMODE((tmp_path / "redis").stat().st_mode) == 0o700
        assert stat.S_IMODE((tmp_path / "redis" / "password").stat().st_mode) == 0o600
        assert not any(password in str(arg) for arg in proc.args)
        anonymous = redis.Redis(port=stack.redis_port)
        with pytest.raises(redis.exceptions.AuthenticationError):
            anonymous.ping()
        anonymous.close()
        client = redis.Redis.from_url(stack.env()["REDIS_URL"])
        assert client.ping() and stack.env()["REDIS_PASSWORD"] == password
        assert client.config_get("maxmemory-policy")["maxmemory-policy"] == "noeviction"
        client.close()
    finally:
        stack.stop()
