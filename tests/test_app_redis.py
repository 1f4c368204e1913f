"""`stateui watch --store redis://…`: keys written by other processes, live; a server
that goes away and comes back."""

from __future__ import annotations

from pathlib import Path

from tests.app_helpers import make_app, tree_lines, until
from tests.redis_server import RedisServer
from tui.state.location import StoreLocation
from tui.state.redis.connection import RedisConnection
from tui.state.redis.store import RedisStore


def open_redis(url: str) -> RedisStore:
    address = StoreLocation.parse(url).redis
    assert address is not None
    return RedisStore(RedisConnection(address))


async def test_keys_another_process_writes_show_live(redis_server: RedisServer) -> None:
    url = redis_server.url()
    other = open_redis(url)
    other.set("job:1", {"state": "queued"}, source="other.lua#1")
    store = open_redis(url)
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: tree_lines(app) == ["job  1"])
        other.set("job:2", 2, source="other.lua#1")
        await until(pilot, lambda: tree_lines(app) == ["job  2"], what="the live change")
    store.close()
    other.close()


async def test_a_lost_server_says_disconnected_then_catches_up(tmp_path: Path) -> None:
    server = RedisServer(tmp_path, durable=True)
    url = server.url()
    store = open_redis(url)
    store.set("before", 1, source="t")
    app = make_app(store)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: tree_lines(app) == ["before"])
            server.stop()
            await until(pilot, lambda: "disconnected, retrying" in app.title, what="the title")
            server.start()
            other = open_redis(url)
            other.set("after", 2, source="other")
            await until(pilot, lambda: app.title == "stateui", what="the title back")
            await until(pilot, lambda: tree_lines(app) == ["after", "before"], what="catch up")
            other.close()
    finally:
        store.close()
        server.stop()
