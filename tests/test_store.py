"""The store's Python API: values, versions, key rules, atomic operations, the change feed."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from tui.state import MISSING, Op, StateError, Store, Subscription
from tui.state.codec import MAX_DEPTH


@pytest.fixture
def store(any_store: Store) -> Store:
    """Every test here runs on the memory store, a file store and a Redis store."""
    return any_store


def test_values_round_trip_as_fresh_copies(store: Store) -> None:
    store.set("user_config", {"name": "John", "settings": {"timeout": 30}}, source="cli")
    first = store.get("user_config")
    first["settings"]["timeout"] = 99
    assert store.get("user_config") == {"name": "John", "settings": {"timeout": 30}}


def test_missing_key_reads_as_none(store: Store) -> None:
    assert store.get("nope") is None
    assert store.entry("nope") is None
    assert not store.exists("nope")


def test_every_change_gets_the_next_version(store: Store) -> None:
    first = store.set("a", 1, source="cli")
    second = store.set("b", 2, source="cli")
    third = store.set("a", 3, source="cli")
    assert (first, second, third) == (1, 2, 3)
    entry = store.entry("a")
    assert entry is not None
    assert (entry.version, entry.source, entry.value) == (3, "cli", b"3")


def test_entry_records_time_and_source() -> None:
    store = Store(clock=lambda: 1234.5)
    store.set("k", True, source="editor")
    entry = store.entry("k")
    assert entry is not None
    assert (entry.time, entry.source) == (1234.5, "editor")


def test_setting_none_deletes(store: Store) -> None:
    store.set("k", 1, source="cli")
    store.set("k", None, source="cli")
    assert not store.exists("k")


def test_delete_says_whether_the_key_existed(store: Store) -> None:
    store.set("k", 1, source="cli")
    assert store.delete("k", source="cli") is True
    assert store.delete("k", source="cli") is False


def test_keys_are_sorted_and_filtered_by_prefix(store: Store) -> None:
    for key in ["cache:b", "workflow:x", "cache:a", "cachet"]:
        store.set(key, 1, source="cli")
    assert store.keys() == ["cache:a", "cache:b", "cachet", "workflow:x"]
    assert store.keys("cache:") == ["cache:a", "cache:b"]


def test_clear_removes_a_prefix_and_counts(store: Store) -> None:
    for key in ["cache:a", "cache:b", "keep"]:
        store.set(key, 1, source="cli")
    assert store.clear("cache:", source="cli") == 2
    assert store.keys() == ["keep"]
    assert store.clear("", source="cli") == 1
    assert len(store) == 0


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("", "key must not be empty"),
        (5, "key must be a string, got number"),
        (None, "key must be a string, got nil"),
        ("a\nb", "key contains a control character (\\n)"),
        ("a\x7fb", "key contains a control character (\\x7f)"),
        ("k" * 513, "key is longer than 512 bytes"),
        ("é" * 257, "key is longer than 512 bytes"),
        ("\ud800", "key is not valid UTF-8"),
    ],
)
def test_bad_keys_are_refused_with_a_message(store: Store, key: object, message: str) -> None:
    with pytest.raises(StateError) as raised:
        store.set(key, 1, source="cli")  # type: ignore[arg-type]
    assert str(raised.value) == message
    assert len(store) == 0


def test_long_and_unicode_keys_within_the_limit_are_fine(store: Store) -> None:
    for key in ["k" * 512, "é" * 256, "ключ:値:🔑", "user[1]", "[b]x[/b]", "with space"]:
        store.set(key, 1, source="cli")
        assert store.get(key) == 1


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (float("nan"), "value is NaN; numbers must be finite"),
        ({"a": [1, float("inf")]}, "value at a[1] is infinite; numbers must be finite"),
        (2**63, "value does not fit in a 64-bit integer"),
        ({"f": object()}, "value at f is a userdata"),
    ],
)
def test_bad_values_are_refused_and_the_store_is_unchanged(
    store: Store, value: object, message: str
) -> None:
    store.set("k", "before", source="cli")
    with pytest.raises(StateError) as raised:
        store.set("k", value, source="cli")
    assert str(raised.value).startswith(message)
    assert store.get("k") == "before"


def test_nesting_is_limited_to_max_depth(store: Store) -> None:
    deep: object = 1
    for _ in range(MAX_DEPTH):
        deep = [deep]
    store.set("ok", deep, source="cli")
    with pytest.raises(StateError, match="nested deeper than 100 levels"):
        store.set("too_deep", [deep], source="cli")


def test_value_size_limit_is_configurable() -> None:
    store = Store(max_value_bytes=100)
    store.set("small", "x" * 90, source="cli")
    with pytest.raises(StateError) as raised:
        store.set("big", "x" * 200, source="cli")
    assert str(raised.value) == "value is 202 B as JSON, over the limit of 100 B"
    assert not store.exists("big")


def test_incr_counts_from_zero_and_keeps_number_types(store: Store) -> None:
    assert store.incr("n", source="cli") == 1
    assert store.incr("n", 5, source="cli") == 6
    assert store.incr("f", 0.5, source="cli") == 0.5
    assert isinstance(store.get("n"), int)


def test_incr_refuses_what_is_not_a_number(store: Store) -> None:
    store.set("s", "x", source="cli")
    with pytest.raises(StateError, match="'s' holds a string, not a number"):
        store.incr("s", source="cli")
    with pytest.raises(StateError, match="increment must be a number, got boolean"):
        store.incr("n", True, source="cli")  # type: ignore[arg-type]
    store.set("big", 2**63 - 1, source="cli")
    with pytest.raises(StateError, match="does not fit in a 64-bit integer"):
        store.incr("big", source="cli")
    assert store.get("big") == 2**63 - 1


def test_compare_and_set_refuses_a_stale_version(store: Store) -> None:
    assert store.compare_and_set("k", 1, MISSING, source="editor")
    _, version = store.versioned("k")
    store.set("k", 2, source="script")
    assert not store.compare_and_set("k", 3, version, source="editor")
    assert store.get("k") == 2
    with pytest.raises(StateError, match="value is NaN"):
        store.compare_and_set("k", float("nan"), store.versioned("k")[1], source="editor")
    assert store.compare_and_set("k", None, store.versioned("k")[1], source="editor")
    assert not store.exists("k")


def test_load_checks_everything_before_writing(store: Store) -> None:
    with pytest.raises(StateError, match="'b': value is NaN"):
        store.load({"a": 1, "b": float("nan")}, source="cli")
    assert len(store) == 0
    assert store.load({"a": 1, "b": [1, 2]}, source="cli") == 2


def test_dump_json_is_sorted_and_complete(store: Store) -> None:
    store.set("b", {"y": 1, "x": 2}, source="cli")
    store.set("a", [1.5, None, "s"], source="cli")
    assert store.dump_json().decode() == (
        '{\n  "a": [\n    1.5,\n    null,\n    "s"\n  ],\n  "b": {\n    "x": 2,\n    "y": 1\n  }\n}'
    )


def test_subscribers_receive_every_change_in_order(store: Store) -> None:
    with store.subscribe() as feed:
        store.set("a", 1, source="x.lua#1")
        store.set("a", 2, source="console")
        store.delete("a", source="editor")
        assert store.in_step()
        changes, dropped = feed.drain()
    assert dropped == 0
    assert [(c.op, c.key, c.version, c.source, c.value) for c in changes] == [
        (Op.SET, "a", 1, "x.lua#1", b"1"),
        (Op.SET, "a", 2, "console", b"2"),
        (Op.DELETE, "a", 3, "editor", None),
    ]
    store.set("b", 1, source="cli")
    assert feed.drain() == ([], 0)  # closed: nothing more arrives


def test_a_full_feed_drops_the_oldest_and_counts_them(store: Store) -> None:
    feed = store.subscribe(maxlen=10)
    for i in range(25):
        store.set("k", i, source="cli")
    assert store.in_step()
    changes, dropped = feed.drain()
    assert dropped == 15
    assert [c.value for c in changes] == [str(i).encode() for i in range(15, 25)]


def test_a_subscriber_that_never_drains_stays_bounded(store: Store) -> None:
    feed = store.subscribe(maxlen=1000)
    for i in range(50_000):
        store.set("k", i, source="cli")
    assert store.get("k") == 49_999
    assert store.in_step()
    changes, dropped = feed.drain()
    assert len(changes) == 1000 and dropped == 49_000
    assert changes[-1].value == b"49999"


def test_on_ready_fires_once_per_batch_and_wait_wakes(store: Store) -> None:
    calls: list[int] = []
    feed = store.subscribe(on_ready=lambda: calls.append(1))
    woke = threading.Event()

    def waiter() -> None:
        if feed.wait(5):
            woke.set()

    thread = threading.Thread(target=waiter)
    thread.start()
    store.set("a", 1, source="cli")
    store.set("a", 2, source="cli")
    thread.join(5)
    assert woke.is_set()
    assert calls == [1]
    feed.drain()
    store.set("a", 3, source="cli")
    assert store.in_step()
    assert calls == [1, 1]


def test_store_is_safe_under_threads(store: Store) -> None:
    def writer(n: int) -> None:
        for i in range(2000):
            store.set(f"t{n}:{i}", i, source="cli")
            store.incr("total", source="cli")

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.get("total") == 8000
    assert len(store) == 8001


def test_a_failing_subscriber_callback_never_reaches_the_writer(store: Store) -> None:
    def broken() -> None:
        raise RuntimeError("subscriber bug")

    first = store.subscribe(on_ready=broken)
    second = store.subscribe()
    store.set("k", 1, source="cli")
    assert store.get("k") == 1
    assert store.in_step()
    assert [c.key for c in first.drain()[0]] == ["k"]
    assert [c.key for c in second.drain()[0]] == ["k"]


def test_a_subscriber_callback_may_read_the_store(store: Store) -> None:
    seen: list[list[str]] = []
    store.subscribe(on_ready=lambda: seen.append(store.keys()))
    done = threading.Event()

    def write() -> None:
        store.set("k", 1, source="cli")
        done.set()

    threading.Thread(target=write, daemon=True).start()
    assert done.wait(5), "the writer deadlocked on its own subscriber"
    assert store.in_step()
    assert seen == [["k"]]


def test_no_callback_after_close(store: Store) -> None:
    calls: list[str] = []
    holder: list[Subscription] = []
    store.subscribe(on_ready=lambda: (calls.append("first"), holder[0].close()))
    holder.append(store.subscribe(on_ready=lambda: calls.append("second")))
    store.set("k", 1, source="cli")  # the first callback closes the second subscription
    assert store.in_step()
    assert calls == ["first"]
    store.set("k", 2, source="cli")
    assert store.in_step()
    assert calls == ["first"]


def test_draining_never_waits_for_a_writer_holding_the_store(store: Store) -> None:
    feed = store.subscribe()
    store.set("k", 1, source="test")
    drained = threading.Event()
    with store._lock:  # a writer in the middle of a long clear or load
        thread = threading.Thread(target=lambda: (feed.drain(), drained.set()))
        thread.start()
        assert drained.wait(5), "drain waited for the store's lock"
    thread.join()


def test_delete_many_removes_the_keys_that_exist_in_one_go(store: Store) -> None:
    for key in ("a", "b", "c"):
        store.set(key, 1, source="test")
    feed = store.subscribe()
    assert store.delete_many(["a", "c", "missing"], source="editor") == 2
    assert store.keys() == ["b"]
    assert store.in_step()
    changes, _ = feed.drain()
    assert [(c.op, c.key, c.source) for c in changes] == [
        (Op.DELETE, "a", "editor"),
        (Op.DELETE, "c", "editor"),
    ]


def test_a_dump_file_is_on_disk_before_it_replaces_the_old_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store()
    store.set("k", [1, 2], source="test")
    target = tmp_path / "dump.json"
    target.write_text("old")
    steps: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(descriptor: int) -> None:
        synced = os.fstat(descriptor)
        if stat.S_ISDIR(synced.st_mode):
            steps.append("sync folder" if os.path.samestat(synced, tmp_path.stat()) else "?")
        else:
            (partial,) = tmp_path.glob(".dump.json.*.partial")
            is_partial = os.path.samestat(synced, partial.stat())
            whole = synced.st_size == len(store.dump_json()) + 1
            steps.append("sync partial" if is_partial and whole else "sync something else")
        real_fsync(descriptor)

    def replace(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
        steps.append("replace")
        real_replace(source, target)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    store.write_dump(target)
    expected = ["sync partial", "replace"] + (["sync folder"] if os.name == "posix" else [])
    assert steps == expected
    assert target.read_bytes() == store.dump_json() + b"\n"
    assert [file.name for file in tmp_path.iterdir()] == ["dump.json"]
