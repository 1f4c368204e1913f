"""Shared fixtures: a store, and a Lua runtime over it that collects printed lines."""

from __future__ import annotations

import gc
import shutil
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tui.lua import LuaStateRuntime, RunResult, ScriptRun
from tui.state import Store
from tui.state.file import open_owned
from tui.state.location import StoreLocation

STUCK_IN_C = 'string.find(string.rep("a", 25) .. "b", string.rep("a*", 10) .. "c")'
"""One long call into Lua's C library (a pattern that backtracks): a cancel cannot reach
it. It ends by itself after about 5 seconds, so that abandoned threads do not slow the
tests that follow."""

pytest_plugins = ["tests.redis_server"]  # the `redis_server` fixture

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "lua_examples"


class Lua:
    """Runs Lua source in one runtime against a store and keeps what it printed."""

    def __init__(self, store: Store, **options: object) -> None:
        self.store = store
        self.output: list[str] = []
        self.runtime = LuaStateRuntime(
            store, source="test.lua#1", on_output=self.output.append, **options
        )

    def run(self, source: str) -> list[str]:
        """Run `source` (as test.lua) and return the lines it printed."""
        del self.output[:]
        self.runtime.run_source(source, "test.lua")
        return "".join(self.output).splitlines()


def run_script(store: Store, script: Path, **options: Any) -> tuple[RunResult, list[str]]:
    """Run a script file to its end in its own thread: its result and printed lines."""
    lines: list[str] = []
    result = ScriptRun(store, script, on_line=lines.append, **options).start().wait(60)
    assert result is not None, "the run did not end"
    return result, lines


def start_script(store: Store, script: Path, body: str) -> ScriptRun:
    """Start `body` as a script and return once it is under way (it has printed)."""
    script.write_text(f'print("started")\n{body}\n')
    started = threading.Event()
    run = ScriptRun(store, script, on_line=lambda _: started.set()).start()
    assert started.wait(10), "the script never started"
    return run


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Collect the heap before a test that times a response.

    After a few hundred tests this process holds enough objects that one full collection
    takes about 200 ms, which is the test process's cost, not the code's under test. A
    collection first leaves nothing for one to do during the measured window.
    """
    if item.get_closest_marker("latency") is not None:
        gc.collect()


@pytest.fixture(autouse=True)
def state_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the console keeps its history: a fresh folder per test, never the user's."""
    home = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("XDG_STATE_HOME", str(home))
    return home


@pytest.fixture(autouse=True)
def no_store_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A STATEUI_STORE of the person running the tests never reaches them."""
    monkeypatch.delenv("STATEUI_STORE", raising=False)


@pytest.fixture
def store() -> Store:
    return Store()


@pytest.fixture(params=["memory", "file", "redis"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """The memory store, a file store, then a Redis store (a fresh namespace on the
    test run's own server): tests that use it run on each."""
    if request.param == "memory":
        yield Store()
        return
    if request.param == "redis":
        from tui.state.redis.connection import RedisConnection
        from tui.state.redis.store import RedisStore

        address = StoreLocation.parse(request.getfixturevalue("redis_server").url()).redis
        assert address is not None
        store: Store = RedisStore(RedisConnection(address))
    else:
        store = open_owned(tmp_path / "store.db", command="stateui test")
    yield store
    store.close()


@pytest.fixture
def lua(store: Store) -> Lua:
    return Lua(store)


@pytest.fixture
def make_lua(store: Store) -> Callable[..., Lua]:
    return lambda **options: Lua(store, **options)


def stateui_command() -> list[str]:
    """The installed `stateui` console script (the real entry point)."""
    script = Path(sys.executable).with_name("stateui")
    if script.exists():
        return [str(script)]
    found = shutil.which("stateui")
    assert found, "stateui is not installed: pip install -e '.[test]'"
    return [found]
