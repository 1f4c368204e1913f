"""The `State` API from Lua: the guide's examples as written, the extensions, the errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import Lua
from tui.state import Store

GUIDE = Path(__file__).parents[1] / "docs" / "state-management-guide.md"
GUIDE_BLOCKS = re.findall(r"```lua\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.DOTALL)

# The guide calls one function it never defines; give it one, as a reader would.
GUIDE_PRELUDE = "function fetch_user_from_api(id) return {id = id, name = 'user ' .. id} end\n"


@pytest.fixture
def store(any_store: Store) -> Store:
    """Every test here runs on the memory store and on a file store."""
    return any_store


def test_the_guide_has_its_examples() -> None:
    assert len(GUIDE_BLOCKS) == 9


@pytest.mark.parametrize("block", GUIDE_BLOCKS, ids=lambda b: b.strip().splitlines()[0][:40])
def test_every_guide_example_runs_as_written(lua: Lua, block: str) -> None:
    # Verbatim, but for the one function the guide calls without defining.
    lua.run(GUIDE_PRELUDE + block if "fetch_user_from_api" in block else block)


def test_guide_examples_leave_the_state_they_describe(store: Store) -> None:
    lua = Lua(store)
    for block in GUIDE_BLOCKS:
        lua.run(GUIDE_PRELUDE + block)
    assert store.get("user_config") == {
        "name": "John",
        "retries": 3,
        "settings": {"timeout": 30, "verbose": True},
    }
    assert store.get("workflow:data_pipeline:status") == "running"
    assert store.get("workflow:data_pipeline:progress") == 0.5
    assert store.get("api_attempts") == 1
    assert store.get("cache:user_123") == {"id": 123, "name": "user 123"}
    progress = store.get("progress:import_job")
    assert (progress["current"], progress["total"], progress["percent"]) == (50, 100, 50.0)
    assert store.get("might_not_exist") == "default_value"
    assert store.get("key") is None  # basic usage deletes it again


def test_guide_prints_what_it_promises(lua: Lua) -> None:
    complex_data = next(b for b in GUIDE_BLOCKS if "Retries: " in b)
    concurrency = next(b for b in GUIDE_BLOCKS if "All branches complete" in b)
    assert lua.run(complex_data) == ["Retries: 3"]
    assert lua.run(concurrency) == ["All branches complete"]


def test_list_returns_every_key_sorted(lua: Lua) -> None:
    lua.run('State.set("b", 1) State.set("a", 2) State.set("c:1", 3)')
    assert lua.run("print(table.concat(State.list(), ','))") == ["a,b,c:1"]
    assert lua.run("print(#State.list(), #State.list('c:'), #State.list('zzz'))") == ["3\t1\t0"]


def test_set_nil_deletes(lua: Lua) -> None:
    lua.run('State.set("k", 1) State.set("k", nil)')
    assert not lua.store.exists("k")


def test_delete_says_whether_the_key_existed(lua: Lua) -> None:
    assert lua.run('State.set("k", 1) print(State.delete("k"), State.delete("k"))') == [
        "true\tfalse"
    ]


def test_exists(lua: Lua) -> None:
    assert lua.run('State.set("f", false) print(State.exists("f"), State.exists("no"))') == [
        "true\tfalse"
    ]


def test_incr(lua: Lua) -> None:
    assert lua.run('print(State.incr("n"), State.incr("n", 10), State.incr("n", -1))') == [
        "1\t11\t10"
    ]
    assert lua.run('print(State.incr("f", 0.5), math.type(State.get("n")))') == ["0.5\tinteger"]


def test_incr_of_a_non_number_is_an_error(lua: Lua) -> None:
    lua.store.set("s", {"a": 1}, source="cli")
    assert lua.run('print(pcall(State.incr, "s"))') == [
        "false\tState.incr: 's' holds an object, not a number"
    ]
    assert lua.run('print(pcall(State.incr, "n", "x"))') == [
        "false\tState.incr: increment must be a number, got string"
    ]
    assert lua.store.get("s") == {"a": 1} and not lua.store.exists("n")


def test_update_returns_and_stores_the_new_value(lua: Lua) -> None:
    lines = lua.run(
        """
        print(State.update("u", function(old) return (old or 0) + 5 end))
        print(State.update("u", function(old) return {was = old} end).was)
        print(State.update("u", function(old) return nil end), State.exists("u"))
        """
    )
    assert lines == ["5", "5", "nil\tfalse"]


def test_update_with_a_bad_result_is_an_error_and_changes_nothing(lua: Lua) -> None:
    lua.store.set("u", 1, source="cli")
    lines = lua.run('print(pcall(State.update, "u", function() return {f = print} end))')
    assert lines[0].startswith("false\tState.update: value at f is a function")
    assert lua.run('print(pcall(State.update, "u", 5))') == [
        "false\tState.update: second argument must be a function, got number"
    ]
    assert lua.store.get("u") == 1


def test_clear_deletes_a_prefix_and_counts(lua: Lua) -> None:
    lua.run('for i = 1, 5 do State.set("cache:" .. i, i) end State.set("keep", 1)')
    assert lua.run('print(State.clear("cache:"), #State.list())') == ["5\t1"]
    assert lua.run('print(State.clear(""), #State.list())') == ["1\t0"]
    assert lua.run("print(pcall(State.clear))") == [
        "false\tState.clear: prefix must be a string, got nil"
    ]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ('State.set("", 1)', "State.set: key must not be empty"),
        ("State.set(42, 1)", "State.set: key must be a string, got number"),
        ("State.get({})", "State.get: key must be a string, got table"),
        ('State.get("a\\nb")', "State.get: key contains a control character (\\n)"),
        ("State.delete(nil)", "State.delete: key must be a string, got nil"),
        ("State.exists(true)", "State.exists: key must be a string, got boolean"),
        ('State.set(string.rep("k", 513), 1)', "State.set: key is longer than 512 bytes"),
        ('State.set("\\xc3\\x28", 1)', "State.set: key is not valid UTF-8"),
        ('State.get("\\xff")', "State.get: key is not valid UTF-8"),
        ("State.list(5)", "State.list: prefix must be a string, got number"),
    ],
)
def test_bad_keys_raise_catchable_errors(lua: Lua, call: str, message: str) -> None:
    lua.store.set("keep", 1, source="cli")
    assert lua.run(f"print(select(2, pcall(function() local _ = {call} end)))") == [
        f"test.lua:1: {message}"
    ]
    assert lua.store.keys() == ["keep"]


def test_writes_carry_the_run_as_source(lua: Lua) -> None:
    lua.run('State.set("k", 1)')
    entry = lua.store.entry("k")
    assert entry is not None and entry.source == "test.lua#1"
