"""`--store redis://…`: what a Redis URL names, and a password that never shows."""

from __future__ import annotations

import pytest

from tests.redis_server import RedisServer
from tui.state.location import BadLocation, RedisAddress, StoreLocation


def test_a_redis_url_names_host_port_database_and_namespace() -> None:
    where = StoreLocation.parse("redis://127.0.0.1:6390/2?namespace=jobs")
    assert where.redis == RedisAddress("127.0.0.1", 6390, 2, namespace="jobs")
    assert not where.in_memory and where.path is None
    assert StoreLocation.parse("redis://cache.local").redis == RedisAddress("cache.local")
    assert StoreLocation.parse("rediss://h:1/0").redis == RedisAddress("h", 1, tls=True)
    slow = StoreLocation.parse("redis://h:1/0?timeout=0.5&namespace=jobs").redis
    assert slow == RedisAddress("h", 1, namespace="jobs", timeout=0.5)
    assert slow.shown == "redis://h:1/0?namespace=jobs&timeout=0.5"


def test_the_password_never_shows(monkeypatch: pytest.MonkeyPatch) -> None:
    where = StoreLocation.parse("redis://ada:s3cr%40t@h:7/1")
    assert where.redis is not None
    assert (where.redis.username, where.redis.password) == ("ada", "s3cr@t")
    assert where.redis.shown == "redis://ada:***@h:7/1"
    assert "s3cr" not in repr(where) and "s3cr" not in str(where)
    monkeypatch.setenv("STATEUI_REDIS_PASSWORD", "from-env")
    from_env = StoreLocation.parse("redis://h:7/1").redis
    assert from_env is not None and from_env.password == "from-env"
    assert from_env.shown == "redis://:***@h:7/1"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("redis://h:7/x", "the database must be a number"),
        ("redis://h:7/0?ns=a", "unknown option 'ns'"),
        ("redis://h:7/0?timeout=0", "the timeout is seconds from 0.01 to 3600"),
        ("redis://h:7/0?timeout=nan", "the timeout is seconds"),
        ("redis://u:pw@h:7/0?timeout=soon", "the timeout is seconds"),
        ("redis://h:7/0?namespace=a*", "a namespace is a non-empty name"),
        ("redis:///0", "no host"),
        ("redis://h:99999/0", "the port must be a number from 1 to 65535"),
        ("redis://h:x/0", "the port must be a number from 1 to 65535"),
        ("redis://h:7/0?namespace=a:v", "without colons"),
        ("redis://h:7/0?namespace=a&namespace=b", "namespace is given twice"),
        ("mongo://u:pw@h", "stores of kind 'mongo' are not supported"),
    ],
)
def test_bad_urls_are_refused_with_the_password_masked(text: str, message: str) -> None:
    with pytest.raises(BadLocation, match=message) as caught:
        StoreLocation.parse(text)
    assert "pw" not in str(caught.value)


def test_the_test_server_is_a_real_redis_of_its_own(redis_server: RedisServer) -> None:
    import redis

    client = redis.Redis(port=redis_server.port)
    assert client.ping()
    assert client.info("server")["tcp_port"] == redis_server.port
    assert redis_server.url().startswith(f"redis://127.0.0.1:{redis_server.port}/0?namespace=t")
