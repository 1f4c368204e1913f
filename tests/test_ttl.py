"""Keys that expire: the TTL each operation keeps or drops, exact expiry for every
reader, the sweeper's changes, and the file store's absolute expiry times."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import Lua
from tests.test_cli import stateui
from tui.state import Op, StateError, Store
from tui.state.file import open_owned


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["memory", "file"])
def timed(request: pytest.FixtureRequest, tmp_path: Path, clock: Clock) -> Iterator[Store]:
    """A store on the test's clock, with no background sweeper: the memory store, then
    a file store."""
    if request.param == "memory":
        yield Store(clock=clock, sweep=False)
        return
    store = open_owned(tmp_path / "store.db", command="stateui test", clock=clock)
    store._sweeps = False  # the test sweeps by hand
    yield store
    store.close()


def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never came true"
        time.sleep(0.005)


# -- expiry is exact ------------------------------------------------------------------


def test_a_key_is_there_until_its_ttl_runs_out_and_gone_at_that_instant(
    timed: Store, clock: Clock
) -> None:
    timed.set("cache:user", {"name": "Ada"}, source="cli", ttl=10)
    clock.advance(9.999)
    assert timed.get("cache:user") == {"name": "Ada"}
    assert timed.ttl("cache:user") == 0.001
    clock.advance(0.001)
    assert timed.get("cache:user") is None
    assert timed.get_encoded("cache:user") is None
    assert timed.entry("cache:user") is None
    assert not timed.exists("cache:user")
    assert timed.keys() == []
    assert timed.snapshot() == {}
    assert timed.ttl("cache:user") is None
    assert timed.dump_json() == b"{}"


def test_the_ttl_counts_down_to_the_millisecond(timed: Store, clock: Clock) -> None:
    timed.set("k", 1, source="cli", ttl=1.5)
    assert timed.ttl("k") == 1.5
    clock.advance(0.2504)
    assert timed.ttl("k") == 1.25
    entry = timed.entry("k")
    assert entry is not None
    assert entry.expires == clock.now - 0.2504 + 1.5


def test_a_key_without_a_ttl_has_none(timed: Store) -> None:
    timed.set("k", 1, source="cli")
    assert timed.ttl("k") is None
    assert timed.ttl("missing") is None
    entry = timed.entry("k")
    assert entry is not None
    assert entry.expires == 0.0


def test_the_sweeper_removes_expired_keys_as_changes(timed: Store, clock: Clock) -> None:
    timed.set("a", 1, source="cli", ttl=1)
    timed.set("b", 2, source="cli", ttl=2)
    timed.set("c", 3, source="cli")
    with timed.subscribe() as feed:
        clock.advance(1.5)
        assert timed.sweep() == 1
        changes, _ = feed.drain()
    assert [(c.op, c.key, c.source, c.value) for c in changes] == [(Op.EXPIRE, "a", "ttl", None)]
    assert changes[0].version == 4
    assert timed.versions("a")[0].op is Op.EXPIRE
    assert [c.op for c in timed.changes_since(3)] == [Op.EXPIRE]
    assert sorted(timed.keys()) == ["b", "c"]
    assert timed.sweep() == 0


def test_a_write_to_an_expired_key_not_swept_yet_sees_it_missing(
    timed: Store, clock: Clock
) -> None:
    timed.set("n", 41, source="cli", ttl=1)
    clock.advance(1)
    assert timed.incr("n", source="cli") == 1  # from 0, not 41
    assert timed.ttl("n") is None  # a new key: no TTL
    ops = [(c.op, c.source) for c in timed.changes_since(1)]
    assert ops == [(Op.EXPIRE, "ttl"), (Op.SET, "cli")]
    assert timed.changes_since(2)[0].created
    timed.set("d", 1, source="cli", ttl=1)
    clock.advance(2)
    assert not timed.delete("d", source="cli")


# -- which operations keep the TTL ---------------------------------------------------


def test_set_without_a_ttl_makes_the_key_permanent(timed: Store, clock: Clock) -> None:
    timed.set("k", 1, source="cli", ttl=5)
    timed.set("k", 2, source="cli")
    assert timed.ttl("k") is None
    clock.advance(10)
    assert timed.get("k") == 2


def test_set_with_a_ttl_replaces_the_old_one(timed: Store, clock: Clock) -> None:
    timed.set("k", 1, source="cli", ttl=5)
    timed.set("k", 2, source="cli", ttl=60)
    clock.advance(10)
    assert timed.ttl("k") == 50


def test_incr_and_update_keep_the_ttl(timed: Store, clock: Clock) -> None:
    timed.set("n", 1, source="cli", ttl=10)
    timed.incr("n", 5, source="cli")
    assert timed.ttl("n") == 10
    _, version = timed.versioned("n")
    assert timed.compare_and_set("n", 100, version, source="cli")
    assert timed.ttl("n") == 10
    clock.advance(10)
    assert timed.get("n") is None


def test_expire_sets_or_replaces_a_ttl_and_says_whether_the_key_exists(
    timed: Store, clock: Clock
) -> None:
    timed.set("k", "v", source="cli")
    assert timed.expire("k", 3, source="cli")
    assert timed.ttl("k") == 3
    assert timed.expire("k", 30, source="cli")
    assert timed.ttl("k") == 30
    assert not timed.expire("missing", 3, source="cli")
    assert not timed.exists("missing")
    assert timed.get("k") == "v"
    clock.advance(30)
    assert not timed.expire("k", 3, source="cli")  # expired: missing


def test_persist_removes_the_ttl(timed: Store, clock: Clock) -> None:
    timed.set("k", "v", source="cli", ttl=3)
    revision = timed.revision
    assert timed.persist("k", source="cli")
    assert timed.revision == revision + 1  # a change, the value as it was
    assert timed.versions("k")[0].value == b'"v"'
    assert not timed.persist("k", source="cli")  # no TTL left to remove
    assert timed.revision == revision + 1
    assert not timed.persist("missing", source="cli")
    clock.advance(100)
    assert timed.get("k") == "v"


@pytest.mark.parametrize("ttl", [0, -1, -0.5, float("nan"), float("inf"), "5", True, 0.0001, 2e9])
def test_a_bad_ttl_is_refused_and_the_store_is_unchanged(timed: Store, ttl: object) -> None:
    timed.set("k", 1, source="cli")
    revision = timed.revision
    with pytest.raises(StateError, match="ttl must be"):
        timed.set("k", 2, source="cli", ttl=ttl)  # type: ignore[arg-type]
    with pytest.raises(StateError, match="ttl must be"):
        timed.expire("k", ttl, source="cli")  # type: ignore[arg-type]
    assert timed.get("k") == 1
    assert timed.revision == revision


def test_clear_and_delete_forget_the_ttl(timed: Store, clock: Clock) -> None:
    timed.set("a:1", 1, source="cli", ttl=5)
    timed.clear("a:", source="cli")
    timed.set("a:1", 2, source="cli")
    clock.advance(10)
    assert timed.get("a:1") == 2


# -- the sweeper thread -----------------------------------------------------------------


def test_the_background_sweeper_removes_keys_as_they_come_due() -> None:
    store = Store()
    with store.subscribe() as feed:
        store.set("soon", 1, source="cli", ttl=0.05)
        store.set("later", 1, source="cli", ttl=60)
        started = time.monotonic()
        until(lambda: "soon" not in store._backend)
        took = time.monotonic() - started
        changes, _ = feed.drain()
    assert [c.op for c in changes] == [Op.SET, Op.SET, Op.EXPIRE]
    assert took < 1.0
    assert store.exists("later")
    store.close()


def test_the_sweeper_wakes_for_a_key_due_sooner_than_it_waits_for() -> None:
    store = Store()
    store.set("far", 1, source="cli", ttl=3600)
    time.sleep(0.05)  # the sweeper is now waiting for a second at most
    store.set("near", 1, source="cli", ttl=0.02)
    until(lambda: "near" not in store._backend, timeout=0.5)
    store.close()


def test_sweeping_many_keys_goes_in_slices_that_let_writers_in() -> None:
    clock = Clock()
    store = Store(clock=clock, sweep=False)
    for number in range(5_000):
        store.set(f"k{number}", number, source="cli", ttl=1)
    clock.advance(2)
    assert store.sweep(limit=1_000) == 1_000
    assert len(store) == 4_000
    writes = threading.Thread(target=lambda: store.set("w", 1, source="cli"))
    writes.start()
    while store.sweep(limit=1_000):
        pass
    writes.join()
    assert store.keys() == ["w"]


# -- through Lua ------------------------------------------------------------------------


def test_the_lua_api_for_ttls(clock: Clock) -> None:
    store = Store(clock=clock, sweep=False)
    lua = Lua(store)
    assert lua.run(
        """
        State.set("cache:a", {hits = 1}, {ttl = 2.5})
        print(State.ttl("cache:a"), State.ttl("nope"), State.ttl("plain"))
        State.incr("n")
        print(State.expire("n", 10), State.expire("nope", 10), State.ttl("n"))
        print(State.persist("n"), State.ttl("n"), State.persist("n"))
        """
    ) == ["2.5\tnil\tnil", "true\tfalse\t10.0", "true\tnil\tfalse"]
    clock.advance(2.5)
    assert lua.run('print(State.get("cache:a"), State.exists("cache:a"), #State.list())') == [
        "nil\tfalse\t1"
    ]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ("{ttl = -1}", "State.set: ttl must be a number of seconds above 0, got -1"),
        ("{ttl = 0}", "State.set: ttl must be a number of seconds above 0, got 0"),
        ("{ttl = 0/0}", "State.set: ttl must be a number of seconds above 0, got NaN"),
        ('{ttl = "5"}', "State.set: ttl must be a number of seconds, got string"),
        (
            "{ttl = 1e16}",
            "State.set: ttl must be at most 1,000,000,000 seconds (about 31 years), got 1e+16",
        ),
        ("{tll = 5}", "State.set: unknown option tll (the options are: ttl)"),
        ("5", "State.set: options must be a table such as {ttl = 60}, got number"),
    ],
)
def test_bad_ttls_from_lua_are_clear_errors(store: Store, options: str, message: str) -> None:
    lua = Lua(store)
    lines = lua.run(
        f"""
        State.set("k", 1)
        local ok, err = pcall(State.set, "k", 2, {options})
        print(ok, err, State.get("k"))
        """
    )
    assert lines == [f"false\t{message}\t1"]


def test_lua_expire_with_a_bad_number_is_a_clear_error(store: Store) -> None:
    lines = Lua(store).run(
        """
        State.set("k", 1)
        print(pcall(State.expire, "k", -5))
        print(pcall(State.expire, "k", "x"))
        """
    )
    assert lines == [
        "false\tState.expire: ttl must be a number of seconds above 0, got -5",
        "false\tState.expire: seconds must be a number, got string",
    ]


# -- the file store keeps absolute expiry times -------------------------------------------


def test_a_reopened_file_store_has_lost_the_keys_that_expired_meanwhile(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    clock = Clock(time.time())
    store = open_owned(path, command="stateui test", clock=clock)
    store.set("short", 1, source="cli", ttl=5)
    store.set("long", 2, source="cli", ttl=500)
    store.set("plain", 3, source="cli")
    store.close()
    clock.advance(10)
    reopened = open_owned(path, command="stateui test", clock=clock)
    try:
        assert reopened.keys() == ["long", "plain"]
        assert reopened.ttl("long") == 490
        until(lambda: "short" not in reopened._backend)  # swept, as a change
        assert reopened.versions("short")[0].op is Op.EXPIRE
    finally:
        reopened.close()


def test_an_expire_and_persist_reach_the_file(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    store = open_owned(path, command="stateui test")
    store.set("k", 1, source="cli")
    store.expire("k", 100, source="cli")
    store.close()
    store = open_owned(path, command="stateui test")
    ttl = store.ttl("k")
    assert ttl is not None and 99 < ttl <= 100
    store.persist("k", source="cli")
    store.close()
    store = open_owned(path, command="stateui test")
    assert store.ttl("k") is None
    store.close()


# -- the data commands ------------------------------------------------------------------------


def test_set_with_a_ttl_and_ttl_from_the_command_line(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    assert stateui("set", "--store", path, "cache:a", '{"n": 1}', "--ttl", "600").returncode == 0
    assert stateui("set", "--store", path, "plain", "1").returncode == 0
    left = stateui("ttl", "--store", path, "cache:a")
    assert left.returncode == 0
    assert 590 < float(left.stdout) <= 600
    assert stateui("ttl", "--store", path, "plain").stdout == "none\n"
    missing = stateui("ttl", "--store", path, "nope")
    assert (missing.returncode, missing.stderr) == (1, "no key nope\n")
    assert stateui("set", "--store", path, "plain", "2").returncode == 0


@pytest.mark.parametrize(
    ("ttl", "message"),
    [
        ("0", "above 0"),
        ("-5", "above 0"),
        ("nan", "above 0"),
        ("1e16", "at most 1,000,000,000 seconds"),
    ],
)
def test_set_with_a_bad_ttl_is_a_usage_error(tmp_path: Path, ttl: str, message: str) -> None:
    path = tmp_path / "store.db"
    done = stateui("set", "--store", path, "k", "1", "--ttl", ttl)
    assert done.returncode == 2
    assert "--ttl: ttl must be " in done.stderr and message in done.stderr
    assert not path.exists()


def test_expired_keys_are_never_read_by_the_data_commands(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    store = open_owned(path, command="stateui test")
    store._sweeps = False  # only exactness, not the sweeper, keeps it from readers
    store.set("gone", 1, source="cli", ttl=0.2)
    store.set("kept", 2, source="cli")
    store.flush()
    until(lambda: store.ttl("gone") is None)
    try:
        with contextlib.closing(sqlite3.connect(path)) as db:  # in the file: not swept
            assert db.execute("SELECT count(*) FROM entries").fetchone() == (2,)
        assert stateui("keys", "--store", path).stdout == "kept\n"
        assert stateui("get", "--store", path, "gone").returncode == 1
        assert stateui("ttl", "--store", path, "gone").returncode == 1
        assert stateui("export", "--store", path).stdout == '{\n  "kept": 2\n}\n'
        assert "keys:     1\n" in stateui("info", "--store", path).stdout
    finally:
        store.close()


def test_run_dump_leaves_out_expired_keys(tmp_path: Path) -> None:
    script = tmp_path / "cache.lua"
    script.write_text('State.set("brief", 1, {ttl = 0.05})\nState.set("kept", 2)\nsleep(0.1)\n')
    done = stateui("run", "--dump", "-", script)
    assert done.returncode == 0, done.stderr
    assert done.stdout == '{\n  "kept": 2\n}\n'


def test_restore_keeps_each_key_s_expiry_and_leaves_out_the_expired(tmp_path: Path) -> None:
    path, backup = tmp_path / "store.db", tmp_path / "backup.db"
    store = open_owned(path, command="stateui test")
    store.set("long", 1, source="cli", ttl=600)
    store.set("brief", 2, source="cli", ttl=0.3)
    store.set("plain", 3, source="cli")
    entry = store.entry("long")
    assert entry is not None
    store.close()
    assert stateui("backup", "--store", path, backup).returncode == 0
    until(lambda: time.time() > entry.expires - 600 + 0.35)  # `brief` has expired
    assert stateui("set", "--store", path, "other", "4").returncode == 0
    done = stateui("restore", "--store", path, backup)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("restored 2 keys")
    store = open_owned(path, command="stateui test")
    try:
        assert store.keys() == ["long", "plain"]
        restored = store.entry("long")
        assert restored is not None and restored.expires == entry.expires
        assert store.ttl("plain") is None
    finally:
        store.close()
