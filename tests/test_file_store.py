"""The file store's engine: what outlives the process, one owner, followers, the history."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tui.state import Op, StateError, Store
from tui.state.change_log import MemoryChangeLog
from tui.state.file import (
    StoreBusy,
    StoreFile,
    StoreFileError,
    current_owner,
    open_following,
    open_owned,
    take_ownership,
)
from tui.state.file.schema import APPLICATION_ID

VALUES = {
    "int:big": 2**63 - 1,
    "int:past_2_53": 2**53 + 1,
    "int:negative": -(2**63),
    "float": 0.1,
    "float:tiny": 5e-324,
    "text:unicode": "héllo ✓ 漢字 \U0001f600",
    "text:nul": "a\x00b",
    "bool": False,
    "list": [1, "two", [3.5, {"four": None}]],
    "deep": {"a": {"b": {"c": {"d": {"e": [[[[1]]]]}}}}},
    "empty:object": {},
    "empty:array": [],
}


def eventually(condition: Callable[[], object], within: float, what: str = "") -> None:
    """Wait until `condition()` holds (background work: a commit, a pruning, a follower);
    fail after `within` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, what or "it never happened"
        time.sleep(0.01)


def owned(path: Path, **options: object) -> Store:
    return open_owned(path, command="stateui test", **options)  # type: ignore[arg-type]


def test_every_value_survives_a_restart_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = owned(path)
    for key, value in VALUES.items():
        store.set(key, value, source="test")
    store.close()
    again = owned(path)
    try:
        assert again.snapshot() == dict(sorted(VALUES.items()))
        assert again.get_encoded("text:nul") == b'"a\\u0000b"'
    finally:
        again.close()


def test_versions_go_on_from_where_they_stopped(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = owned(path)
    store.set("a", 1, source="test")
    store.set("b", 1, source="test")
    store.delete("b", source="test")
    assert store.revision == 3
    store.close()
    again = owned(path)
    try:
        assert again.revision == 3
        entry = again.entry("a")
        assert entry is not None and (entry.version, entry.source) == (1, "test")
        assert again.set("b", 2, source="test") == 4, "a key's version never repeats"
        assert [c.version for c in again.versions("b")] == [4, 3, 2]
    finally:
        again.close()


def test_a_second_owner_is_refused_naming_the_first(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = owned(path)
    try:
        with pytest.raises(StoreBusy) as refused:
            owned(path)
        assert refused.value.owner is not None
        assert str(refused.value.owner).endswith("(stateui test)")
        assert current_owner(path) == refused.value.owner
    finally:
        store.close()
    assert current_owner(path) is None
    owned(path).close()  # free again once the owner let go


def test_owners_racing_for_a_file_one_wins(tmp_path: Path) -> None:
    path = tmp_path / "race.db"
    winners: list[Store] = []
    losers: list[StoreBusy] = []
    start = threading.Barrier(6)

    def claim() -> None:
        start.wait()
        try:
            winners.append(owned(path))
        except StoreBusy as busy:
            losers.append(busy)

    threads = [threading.Thread(target=claim) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (len(winners), len(losers)) == (1, 5)
    winners[0].close()


@pytest.mark.parametrize(
    "content, message",
    [
        (b"hello, not a database\n" * 100, "is not a stateui store (file is not a database)"),
        (None, "is not a stateui store (an SQLite database of something else)"),
    ],
    ids=["not SQLite", "foreign SQLite"],
)
def test_a_file_that_is_not_a_store_is_refused_untouched(
    tmp_path: Path, content: bytes | None, message: str
) -> None:
    path = tmp_path / "other.db"
    if content is None:
        with sqlite3.connect(path) as other:
            other.execute("CREATE TABLE notes (text)")
        other.close()
    else:
        path.write_bytes(content)
    before = path.read_bytes()
    with pytest.raises(StoreFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        owned(path)
    with pytest.raises(StoreFileError):
        StoreFile(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.db"]


def test_a_store_from_a_newer_stateui_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    owned(path).close()
    with sqlite3.connect(path) as newer:
        newer.execute("PRAGMA user_version = 99")
    newer.close()
    before = path.read_bytes()
    with pytest.raises(StoreFileError, match="made by a newer stateui"):
        owned(path)
    assert path.read_bytes() == before


def test_the_file_says_what_it_is(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    owned(path).close()
    with sqlite3.connect(path) as check:
        assert check.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert check.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    check.close()


def test_writes_reach_the_file_within_the_batch_window(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = owned(path)
    reader = StoreFile(path)
    try:
        store.set("k", 1, source="test")
        eventually(lambda: reader.entry("k") is not None, 1, "not committed")
        assert reader.revision() == 1
    finally:
        reader.close()
        store.close()


def test_sync_always_commits_before_the_write_returns(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = owned(path, sync="always")
    reader = StoreFile(path)
    try:
        for i in range(20):
            store.set("k", i, source="test")
            entry = reader.entry("k")
            assert entry is not None and entry.value == str(i).encode()
    finally:
        reader.close()
        store.close()


def test_the_history_keeps_the_last_n_versions_of_each_key(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = owned(path, history=3)
    try:
        for i in range(10):
            store.set("k", i, source="test")
        store.set("other", 1, source="test")
        assert [c.value for c in store.versions("k", 2)] == [b"9", b"8"]
        store.flush()
        reader = StoreFile(path)
        try:
            eventually(lambda: len(reader.versions("k")) <= 3, 5, "never pruned in the background")
            assert [c.value for c in reader.versions("k")] == [b"9", b"8", b"7"]
            assert [c.key for c in reader.versions("other")] == ["other"]
        finally:
            reader.close()
    finally:
        store.close()
    again = owned(path)
    try:
        assert again.history == 3, "the setting is kept in the file"
    finally:
        again.close()


def test_the_memory_log_is_bounded_per_key_and_in_all() -> None:
    log = MemoryChangeLog(history=3, max_bytes=50_000)
    store = Store(log=log)
    for i in range(10):
        store.set("k", i, source="test")
    assert [c.value for c in store.versions("k")] == [b"9", b"8", b"7"]
    for i in range(1000):
        store.set(f"many:{i}", "x" * 100, source="test")
    kept = store.changes_since(0)
    assert 150 < len(kept) < 300, "about 50,000 bytes of changes"
    assert kept[-1].key == "many:999", "the newest are kept, the oldest went"
    assert [c.version for c in kept] == sorted(c.version for c in kept)


def test_the_memory_log_stays_exact_as_it_compacts_its_order() -> None:
    log = MemoryChangeLog(history=2)
    store = Store(log=log)
    for number in range(5_000):  # the hot key's old changes pile up in the order
        store.set("hot", number, source="t")
        if number % 5 == 0:
            store.set(f"cold:{number}", number, source="t")
    kept = store.changes_since(0)
    assert [c.key for c in kept if c.key == "hot"] == ["hot", "hot"]
    assert [c.value for c in store.versions("hot")] == [b"4999", b"4998"]
    assert sum(c.key.startswith("cold:") for c in kept) == 1_000
    assert [c.version for c in kept] == sorted(c.version for c in kept)
    assert store.changes_since(kept[-3].version) == kept[-2:]


@pytest.mark.latency
def test_a_follower_sees_the_owners_commits(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    owner = owned(path)
    owner.set("before", 1, source="test")
    owner.flush()
    follower_store, follower = open_following(path)
    changes = follower_store.subscribe()
    follower.start()
    try:
        assert follower_store.get("before") == 1
        with pytest.raises(StateError, match=r"read-only here: .* is owned by process"):
            follower_store.set("x", 1, source="test")
        owner.set("live", {"n": 1}, source="job.lua#1")
        owner.delete("before", source="job.lua#1")
        started = time.monotonic()
        seen: list[tuple[Op, str]] = []
        while len(seen) < 2:
            assert changes.wait(1), "nothing came"
            seen += [(c.op, c.key) for c in changes.drain()[0]]
        assert time.monotonic() - started < 0.25 + 0.05
        assert seen == [(Op.SET, "live"), (Op.DELETE, "before")]
        assert follower_store.get("live") == {"n": 1}
        assert follower_store.revision == owner.revision
        assert follower.owned
        owner.close()
        eventually(lambda: not follower.owned, 2, "the owner's end went unseen")
    finally:
        follower_store.close()
        owner.close()


def test_a_file_that_cannot_be_written_refuses_further_writes(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = owned(path)
    try:
        store.set("kept", 1, source="test")
        store.flush()
        # The owner's connection can no longer write (as after a disk error; a real
        # full disk is in test_data_commands.py).
        store._log._connection.execute("PRAGMA query_only = 1")  # type: ignore[attr-defined]
        store.set("lost", 1, source="test")
        eventually(lambda: store.read_only is not None, 2, "the failure went unseen")
        assert "the store cannot be written" in store.read_only
        with pytest.raises(StateError, match="the store cannot be written"):
            store.set("refused", 1, source="test")
    finally:
        store.close()
    reader = StoreFile(path)
    try:
        assert reader.keys() == ["kept"], "what was committed is still there"
    finally:
        reader.close()


def test_a_follower_takes_ownership_once_the_owner_ends(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    owner = owned(path)
    owner.set("a", 1, source="first")
    store, follower = open_following(path)
    follower.start()
    try:
        with pytest.raises(StoreBusy):
            take_ownership(store, follower, command="stateui second")
        owner.set("b", 2, source="first")  # committed at close: the follower never saw it
        owner.close()
        take_ownership(store, follower, command="stateui second")
        assert store.read_only is None
        assert store.get("b") == 2 and store.revision == 2
        assert store.set("c", 3, source="second") == 3, "versions go on from the file's"
        assert current_owner(path) is not None
        assert str(current_owner(path)).endswith("(stateui second)")
    finally:
        store.close()
    again = owned(path)
    try:
        assert again.snapshot() == {"a": 1, "b": 2, "c": 3}
        assert [c.source for c in again.versions("c")] == ["second"]
    finally:
        again.close()


def test_a_store_file_deleted_under_its_owner_refuses_writes(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = owned(path)
    try:
        store.set("k", 1, source="test")
        path.unlink()
        eventually(lambda: store.read_only is not None, 3, "the deletion went unseen")
        assert "the store file was deleted or replaced" in store.read_only
        with pytest.raises(StateError, match="deleted or replaced"):
            store.set("k", 2, source="test")
    finally:
        store.close()


def test_a_follower_catches_up_with_commits_made_before_it_started(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    owner = owned(path)
    try:
        owner.set("a", 1, source="test")
        owner.flush()
        store, follower = open_following(path)
        owner.set("a", 2, source="test")  # after the load, before the follower starts
        owner.flush()
        follower.start()
        eventually(lambda: store.get("a") == 2, 1, "a commit before start() was missed")
        store.close()
    finally:
        owner.close()


def test_the_owner_still_follows_after_the_owner_changes(tmp_path: Path) -> None:
    # Looking whether a file is owned must never close a descriptor of it: that drops
    # SQLite's own locks in this process, and the next owner deletes the WAL under us.
    path = tmp_path / "s.db"
    first = owned(path)
    first.set("n", 1, source="first")
    store, follower = open_following(path)
    follower.start()
    try:
        first.close()
        eventually(lambda: not follower.owned, 2)
        second = owned(path)
        second.set("n", 2, source="second")
        second.close()
        eventually(lambda: store.get("n") == 2, 2, "the follower no longer sees commits")
    finally:
        store.close()


def test_writes_after_close_are_refused_not_lost(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = owned(path)
    accepted: list[int] = []
    refused: list[str] = []

    def write() -> None:
        for i in range(1, 200_000):
            try:
                accepted.append(store.set("k", i, source="test"))
            except StateError as error:
                refused.append(str(error))
                return

    thread = threading.Thread(target=write)
    thread.start()
    while len(accepted) < 1000:
        time.sleep(0.001)
    store.close()
    thread.join()
    assert refused and "the store is closed" in refused[0]
    reader = StoreFile(path)
    try:
        assert reader.revision() == accepted[-1], "every accepted write is in the file"
    finally:
        reader.close()


def test_a_follower_that_fell_behind_a_pruned_log_reloads_to_the_files_revision(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tui.state.file import journal

    monkeypatch.setattr(journal, "FOLLOW_TAIL", 0.0)  # history off keeps no tail at all
    monkeypatch.setattr(journal, "PRUNE_EVERY", 0.05)
    path = tmp_path / "s.db"
    owner = owned(path, history=0)
    owner.set("kept", 1, source="test")
    owner.set("other", 1, source="test")
    owner.flush()
    store, follower = open_following(path)  # not started: it falls behind
    try:
        owner.set("kept", 2, source="test")
        owner.set("new", 1, source="test")
        owner.delete("new", source="test")  # made and deleted while it was behind
        owner.flush()
        reader = StoreFile(path)
        try:
            eventually(lambda: reader.log_start() > owner.revision, 3, "the log was never pruned")
        finally:
            reader.close()
        follower.catch_up()
        assert store.snapshot() == {"kept": 2, "other": 1}
        assert store.revision == owner.revision == 5
    finally:
        store.close()
        owner.close()
