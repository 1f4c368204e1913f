"""Shared fixtures: a store, and a Lua runtime over it that collects printed lines."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tui.lua import LuaStateRuntime
from tui.state import Store

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


@pytest.fixture
def store() -> Store:
    return Store()


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
