"""A store with limits: writes past them refused (the store unchanged) or making room by
evicting the least recently written keys; deletes always work; a file store keeps them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Lua
from tests.test_cli import stateui
from tui.state import Change, Op, StateError, Store
from tui.state.file import open_owned
from tui.state.limits import MB, Limits


@pytest.fixture(params=["memory", "file"])
def limited(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A store of at most 3 keys that refuses writes past it: in memory, then a file."""
    limits = Limits(max_keys=3)
    if request.param == "memory":
        yield Store(limits=limits)
        return
    store = open_owned(tmp_path / "store.db", command="stateui test", limits={"max_keys": 3})
    yield store
    store.close()


def fill(store: Store, count: int = 3) -> None:
    for number in range(1, count + 1):
        store.set(f"k{number}", number, source="cli")


def test_a_new_key_past_the_key_limit_is_refused(limited: Store) -> None:
    fill(limited)
    revision = limited.revision
    with pytest.raises(StateError, match=r"^the store is full: 3 keys, the limit is 3$"):
        limited.set("k4", 4, source="cli")
    with pytest.raises(StateError, match="the store is full"):
        limited.incr("k4", source="cli")
    with pytest.raises(StateError, match="the store is full"):
        limited.compare_and_set("k4", 4, 0, source="cli")
    with pytest.raises(StateError, match="the store is full"):
        limited.load({"k4": 4}, source="import")
    assert limited.revision == revision
    assert limited.keys() == ["k1", "k2", "k3"]


def test_existing_keys_can_still_change_and_deletes_always_work(limited: Store) -> None:
    fill(limited)
    limited.set("k1", "changed", source="cli")
    limited.incr("k2", source="cli")
    assert limited.delete("k3", source="cli")
    limited.set("k4", 4, source="cli")
    assert limited.keys() == ["k1", "k2", "k4"]


def test_an_import_that_would_go_over_writes_nothing(limited: Store) -> None:
    limited.set("k1", 1, source="cli")
    with pytest.raises(StateError, match="the store is full"):
        limited.load({"k1": 10, "a": 1, "b": 2, "c": 3}, source="import")
    assert limited.snapshot() == {"k1": 1}
    assert limited.load({"k1": 10, "a": 1, "b": 2}, source="import") == 3


def test_the_size_limit_counts_keys_and_values() -> None:
    store = Store(limits=Limits(max_bytes=100))
    store.set("a", "x" * 80, source="cli")  # 1 + 82 bytes
    assert store.size == 83
    with pytest.raises(StateError, match=r"the store is full: .* MB, the limit is .* MB"):
        store.set("b", "x" * 20, source="cli")
    store.set("a", "x" * 90, source="cli")  # 93: still fits
    assert store.size == 93
    store.delete("a", source="cli")
    assert store.size == 0
    store.set("b", "x" * 20, source="cli")
    assert store.keys() == ["b"]


def test_the_size_is_counted_for_a_store_loaded_before_its_limits() -> None:
    store = Store()
    store.set("key", [1, 2, 3], source="cli")  # 3 + 7
    store.set("ü", "é", source="cli")  # 2 + 4 (UTF-8)
    store.set_limits(Limits(max_bytes=17))
    assert store.size == 16
    with pytest.raises(StateError, match="the store is full"):
        store.set("x", 1, source="cli")


def test_evicting_makes_room_with_the_least_recently_written_keys() -> None:
    store = Store(limits=Limits(max_keys=3, when_full="evict-oldest"))
    fill(store)
    store.set("k1", "rewritten", source="cli")  # now k2 is the least recently written
    with store.subscribe() as feed:
        store.set("k4", 4, source="cli")
        store.incr("k5", source="cli")
        changes, _ = feed.drain()
    assert [(c.op, c.key, c.source) for c in changes] == [
        (Op.EVICT, "k2", "limit"),
        (Op.SET, "k4", "cli"),
        (Op.EVICT, "k3", "limit"),
        (Op.SET, "k5", "cli"),
    ]
    assert store.keys() == ["k1", "k4", "k5"]
    assert store.versions("k2")[0].op is Op.EVICT


def test_evicting_for_size_evicts_as_many_keys_as_it_takes() -> None:
    store = Store(limits=Limits(max_bytes=60, when_full="evict-oldest"))
    for name in "abcde":
        store.set(name, "x" * 8, source="cli")  # 11 bytes each
    store.set("big", "y" * 30, source="cli")  # 35: three must go
    assert store.keys() == ["big", "d", "e"]
    with pytest.raises(StateError, match="more than the store's whole limit"):
        store.set("huge", "z" * 100, source="cli")
    assert store.keys() == ["big", "d", "e"]


def test_evicting_order_survives_a_reopened_file(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    store = open_owned(path, command="stateui test")
    for name in ("c", "a", "b"):
        store.set(name, 1, source="cli")
    store.set("c", 2, source="cli")
    store.close()
    store = open_owned(
        path, command="stateui test", limits={"max_keys": 3, "when_full": "evict-oldest"}
    )
    store.set("d", 1, source="cli")
    assert store.keys() == ["b", "c", "d"]  # a was the least recently written
    store.close()


def test_a_file_store_keeps_its_limits(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    open_owned(path, command="stateui test", limits={"max_keys": 2, "max_bytes": MB}).close()
    store = open_owned(path, command="stateui test")
    assert store.limits == Limits(max_keys=2, max_bytes=MB)
    store.close()
    store = open_owned(path, command="stateui test", limits={"when_full": "evict-oldest"})
    assert store.limits == Limits(2, MB, "evict-oldest")
    store.close()
    store = open_owned(path, command="stateui test", limits={"max_keys": 0})
    assert store.limits == Limits(0, MB, "evict-oldest")
    store.close()


def test_expired_keys_make_room_before_the_limit_refuses() -> None:
    now = [100.0]
    store = Store(limits=Limits(max_keys=2), clock=lambda: now[0], sweep=False)
    store.set("a", 1, source="cli", ttl=1)
    store.set("b", 1, source="cli")
    now[0] += 5
    store.set("c", 1, source="cli")
    assert store.keys() == ["b", "c"]


def test_the_limit_error_reaches_lua_with_the_function_named() -> None:
    store = Store(limits=Limits(max_keys=2))
    lines = Lua(store).run(
        """
        State.set("a", 1)
        State.set("b", 1)
        print(pcall(State.set, "c", 1))
        print(pcall(State.incr, "c"))
        print(pcall(State.update, "c", function() return 1 end))
        print(State.delete("a"), pcall(State.set, "c", 1))
        """
    )
    assert lines == [
        "false\tState.set: the store is full: 2 keys, the limit is 2",
        "false\tState.incr: the store is full: 2 keys, the limit is 2",
        "false\tState.update: the store is full: 2 keys, the limit is 2",
        "true\ttrue",
    ]


# -- the command line -----------------------------------------------------------------------


def test_run_with_a_key_limit_fails_the_write_that_goes_over(tmp_path: Path) -> None:
    script = tmp_path / "fill.lua"
    script.write_text('for i = 1, 5 do State.set("k" .. i, i) end\n')
    done = stateui("run", "--max-keys", "3", "--dump", "-", script)
    assert done.returncode == 1
    assert "fill.lua:1: State.set: the store is full: 3 keys, the limit is 3" in done.stderr
    assert '"k3": 3' in done.stdout and "k4" not in done.stdout


def test_run_evicting_keeps_the_newest_keys(tmp_path: Path) -> None:
    script = tmp_path / "fill.lua"
    script.write_text('for i = 1, 5 do State.set("k" .. i, i) end\n')
    done = stateui("run", "--max-keys", "2", "--when-full", "evict-oldest", "--dump", "-", script)
    assert done.returncode == 0, done.stderr
    assert done.stdout == '{\n  "k4": 4,\n  "k5": 5\n}\n'


def test_a_file_store_keeps_the_limits_run_gave_it(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    script = tmp_path / "one.lua"
    script.write_text('State.set("a", 1)\n')
    assert (
        stateui(
            "run", "--store", path, "--max-keys", "1", "--max-store-mb", "0.5", script
        ).returncode
        == 0
    )
    assert "limits:   1 key, 0.5 MB; when full: error\n" in stateui("info", "--store", path).stdout
    refused = stateui("set", "--store", path, "b", "2")
    assert refused.returncode == 2
    assert "set b: the store is full: 1 key, the limit is 1" in refused.stderr
    assert stateui("del", "--store", path, "a").stdout == "1\n"
    assert stateui("set", "--store", path, "b", "2").returncode == 0


def test_bad_limit_options_are_usage_errors(tmp_path: Path) -> None:
    script = tmp_path / "one.lua"
    script.write_text("")
    for args in (("--max-keys", "-1"), ("--max-store-mb", "x"), ("--when-full", "drop")):
        done = stateui("run", *args, script)
        assert done.returncode == 2, args
        assert args[0] in done.stderr


def test_a_followed_store_keeps_its_size_exact_as_changes_are_applied() -> None:
    store = Store()
    store.set("a", "x", source="t")
    assert store.size == 1 + 3
    store.apply(
        [
            Change(Op.SET, "bé", 2, "t", 0.0, b'"yy"'),
            Change(Op.SET, "a", 3, "t", 0.0, b"12"),
            Change(Op.DELETE, "bé", 4, "t", 0.0, None),
            Change(Op.SET, "c", 5, "t", 0.0, b"[]", expires=9e9),
        ]
    )
    assert store.size == (1 + 2) + (1 + 2)
    assert store.ttl("c") is not None
