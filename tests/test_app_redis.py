"""`stateui watch --store redis://…`: keys written by other processes, live; a server
that goes away and comes back."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from tests.app_helpers import make_app, move_to_key, open_folder, tree_lines, until, value_text
from tests.conftest import stateui_command
from tests.redis_server import RedisServer
from tui.app.app import StateApp
from tui.app.model.key_load import KeyLoad
from tui.app.model.tree_items import KeyItem
from tui.app.widgets.key_tree import KeyTree
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


async def test_the_app_follows_a_stateui_run_in_another_process(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    url = redis_server.url()
    script = tmp_path / "job.lua"
    script.write_text(
        'for i = 1, 5 do State.set("progress:job", {current = i, total = 5}) end\n'
        'State.set("job:status", "done")\n'
    )
    store = open_redis(url)
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: "loading" not in keys_title(app), what="the first load")
        run = subprocess.run(
            [*stateui_command(), "run", "--store", url, str(script)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run.returncode == 0, run.stderr
        await until(pilot, lambda: tree_lines(app) == ["job  1", "progress  1"], what="the run")
        open_folder(app, "job:")
        await until(pilot, lambda: len(tree_lines(app)) == 3, what="the folder open")
        move_to_key(app, "job:status")
        await until(pilot, lambda: '"done"' in value_text(app), what="the value")
        assert "job.lua#1" in value_text(app)
    store.close()


class GatedStore(RedisStore):
    """A Redis store whose key listing, having read a batch, waits for the test's
    go-ahead before handing it on (so that the test sees the app between batches)."""

    def __init__(self, url: str, batch: int) -> None:
        address = StoreLocation.parse(url).redis
        assert address is not None
        super().__init__(RedisConnection(address))
        self.batch = batch
        self.go_ahead: queue.Queue[None] = queue.Queue()

    def key_batches(self, prefix: str = "") -> Iterator[list[str]]:
        for number, batch in enumerate(self._redis.key_batches(prefix, size=self.batch)):
            if number:
                self.go_ahead.get(timeout=30)
            yield batch


def keys_title(app: StateApp) -> str:
    return str(app.query_one(KeyTree).border_title)


async def test_a_big_namespace_loads_in_batches_and_the_app_is_usable_meanwhile(
    redis_server: RedisServer,
) -> None:
    url = redis_server.url()
    other = open_redis(url)
    other.load({f"k:{n:02}": n for n in range(30)}, source="other")
    store = GatedStore(url, batch=10)
    app = make_app(store)
    async with app.run_test(size=(100, 40)) as pilot:
        await until(pilot, lambda: tree_lines(app) == ["k  10"], what="the first batch")
        assert keys_title(app) == "Keys · 10 · loading 33%"
        open_folder(app, "k:")
        await until(pilot, lambda: len(tree_lines(app)) == 11, what="the folder open")
        move_to_key(app, "k:03")
        await until(pilot, lambda: "3" in value_text(app), what="a value shown while loading")
        # k:05 was in the first batch; k:15 is in the second, read and not yet handed on:
        # the change feed knows better than the batch.
        other.delete("k:05", source="other")
        other.delete("k:15", source="other")
        other.set("k:99", 99, source="other")
        await until(pilot, lambda: "  99" in tree_lines(app), what="the feed")
        assert "  05" not in tree_lines(app) and tree_lines(app)[0] == "k  10"
        for _ in range(3):  # k:10-19, k:20-29, k:99
            store.go_ahead.put(None)
        await until(pilot, lambda: keys_title(app) == "Keys · 29", what="the load's end")
        keys = [line.strip() for line in tree_lines(app)[1:]]
        assert keys == [f"{n:02}" for n in range(30) if n not in (5, 15)] + ["99"]
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
            under_keys = app.query_one(KeyTree).border_subtitle
            assert str(under_keys).startswith("disconnected, retrying · redis://")
            server.start()
            other = open_redis(url)
            other.set("after", 2, source="other")
            await until(pilot, lambda: app.title == "stateui", what="the title back")
            assert str(app.query_one(KeyTree).border_subtitle).startswith("redis://")
            await until(pilot, lambda: tree_lines(app) == ["after", "before"], what="catch up")
            other.close()
    finally:
        store.close()
        server.stop()


async def test_a_server_back_without_its_data_is_read_again_and_said(tmp_path: Path) -> None:
    server = RedisServer(tmp_path)  # not durable: it comes back empty
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
            await until(pilot, lambda: tree_lines(app) == ["after"], what="the store read again")
            titles = [notice.title for notice in app._notifications]
            assert "Store reloaded" in titles and app.title == "stateui"
            other.close()
    finally:
        store.close()
        server.stop()


def test_a_key_load_that_cannot_reach_the_store_says_so_and_starts_over(tmp_path: Path) -> None:
    server = RedisServer(tmp_path, durable=True)
    store = open_redis(server.url())
    store.set("a", 1, source="t")
    server.stop()
    try:
        load = KeyLoad(store)
        deadline = time.monotonic() + 10
        while load.error is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert load.error is not None and "is unreachable" in load.error
        server.start()
        assert load.wait(10)
        assert load.take() == [["a"]] and load.error is None and load.loaded == 1
    finally:
        store.close()
        server.stop()


async def test_a_load_in_batches_goes_on_while_the_view_stands_in_the_past(
    redis_server: RedisServer,
) -> None:
    url = redis_server.url()
    store = GatedStore(url, batch=2)
    for key in ("a", "b", "c", "d"):
        store.set(key, key, source="t")
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: tree_lines(app) == ["a", "b"], what="the first batch")
        await pilot.press("[")  # one change back: d was not there yet
        await until(pilot, lambda: app.screen.has_class("travelling"), what="the past")
        for _ in range(2):  # c and d, read now: c is as it is, d as it was then; the end
            store.go_ahead.put(None)
        await until(pilot, lambda: "loading" not in keys_title(app), what="the load's end")
        assert tree_lines(app) == ["a", "b", "c"]
        for _ in range(3):
            store.go_ahead.put(None)  # for the load back in the present
        await pilot.press("escape")
        await until(pilot, lambda: tree_lines(app) == ["a", "b", "c", "d"], what="live again")
    store.close()


async def test_every_key_press_while_the_server_is_away_is_said_never_a_crash(
    tmp_path: Path,
) -> None:
    server = RedisServer(tmp_path, durable=True)
    store = open_redis(server.url())
    for key, value in (("a:1", 111), ("a:2", 222), ("b", 3)):
        store.set(key, value, source="t")
    app = make_app(store)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: tree_lines(app) == ["a  2", "b"])
            open_folder(app, "a:")
            await until(pilot, lambda: len(tree_lines(app)) == 4, what="the folder open")
            await pilot.press("down", "down")  # the folder, then a:1
            await until(pilot, lambda: "111" in value_text(app), what="a:1 shown")
            server.stop()
            await until(pilot, lambda: "disconnected" in app.title, what="the title")
            await pilot.press("down")  # onto a:2: its value cannot be read
            await until(pilot, lambda: "not read: the store at" in value_text(app))
            assert "111" not in value_text(app)  # nor a:1's value under its name
            presses = ["e", "escape", "d", "escape", "c", "h", "escape", "L", "escape"]
            presses += ["[", "]", "{", "}", "escape", "p", "/", "a", "enter", "escape"]
            for key in presses:
                await pilot.press(key)
                await pilot.pause(0.02)
            assert app.is_running and app.return_code is None
            assert tree_lines(app)[0] == "a  2"  # what it had: the filter waits for the store
            assert "not read again: store unreachable" in keys_title(app)
            titles = [notice.title for notice in app._notifications]
            assert "Store not read" in titles
            server.start()
            await until(pilot, lambda: app.title == "stateui", what="back")
            await until(pilot, lambda: tree_lines(app) == ["a  2", "b"], what="the keys again")
    finally:
        store.close()
        server.stop()


async def test_a_server_that_stopped_answering_freezes_no_key_press(tmp_path: Path) -> None:
    server = RedisServer(tmp_path)
    store = open_redis(server.url() + "&timeout=1")
    for number in range(6):
        store.set(f"k{number}", number, source="t")
    app = make_app(store)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: len(tree_lines(app)) == 6)
            os.kill(server.process.pid, signal.SIGSTOP)  # it takes connections, answers none
            await until(pilot, lambda: "disconnected" in app.title, what="the title")
            for key in ("down", "down", "down", "down", "e", "escape"):
                started = time.monotonic()
                await pilot.press(key)
                took = time.monotonic() - started
                assert took < 0.5, f"{key} took {took:.2f} s"  # not the 1 s timeout
            assert "not read: the store at" in value_text(app)
    finally:
        os.kill(server.process.pid, signal.SIGCONT)
        store.close()
        server.stop()


async def test_a_filter_on_a_namespace_opens_the_folders_of_its_few_matches(
    redis_server: RedisServer,
) -> None:
    store = open_redis(redis_server.url())
    store.load({f"live:n{n}": n for n in range(1, 6)} | {"other:x": 0}, source="t")
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: tree_lines(app) == ["live  5", "other  1"])
        await pilot.press("slash", *"n3")
        await until(pilot, lambda: tree_lines(app) == ["live  1", "  n3"], what="revealed")
        assert app.query_one(KeyTree).cursor_item == KeyItem("live:n3")
        assert keys_title(app) == "Keys · 1 of 6 · /n3"
    store.close()


async def test_a_save_while_the_server_is_away_is_not_saved_not_a_value_refused(
    tmp_path: Path,
) -> None:
    from tests.test_app_editing import problem, type_value

    server = RedisServer(tmp_path, durable=True)
    store = open_redis(server.url())
    store.set("k", 1, source="t")
    app = make_app(store)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: tree_lines(app) == ["k"])
            move_to_key(app, "k")
            await pilot.press("e")
            await until(pilot, lambda: app.screen.query(".problem"), what="the editor")
            server.stop()
            await until(pilot, lambda: store.link_error is not None, what="away")
            await type_value(app, pilot, "2")
            await pilot.press("ctrl+s")
            await until(pilot, lambda: problem(app).startswith("Not saved: the store at"))
            assert "is unreachable" in problem(app)
    finally:
        store.close()
        server.stop()
