"""The file store: the store kept in one SQLite file that outlives the process.

One process owns a file and writes it (`open_owned`); others follow it read-only
(`open_following`) or read it directly (`StoreFile`). The owner answers reads from
memory and writes through to the file in batches (see journal.py).
"""

from __future__ import annotations

import contextlib
import dataclasses
import sqlite3
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from tui.state.backends import MemoryBackend
from tui.state.change_log import DEFAULT_HISTORY, ChangeLog
from tui.state.errors import StateError
from tui.state.file.follower import FileLog, Follower
from tui.state.file.journal import SYNC_MODES, FileChangeLog
from tui.state.file.owner import Owner, Ownership, StoreBusy, is_owned, recorded_owner
from tui.state.file.reader import Row, StoreFile
from tui.state.file.schema import StoreFileError, connect, file_size
from tui.state.limits import Limits
from tui.state.store import Store


def open_owned(
    path: Path,
    *,
    command: str,
    history: int | None = None,
    limits: Mapping[str, Any] | None = None,
    sync: str = "batch",
    window: float | None = None,
    on_failure: Callable[[str], None] | None = None,
    clock: Callable[[], float] = time.time,
) -> Store:
    """Become the owner of the store file at `path` (made when missing) and load it.

    `history` (versions kept of each key) and the limits are kept in the file: None
    keeps what the file says, and `limits` changes only the fields it names
    (`max_keys`, `max_bytes`, `when_full`). Raises StoreBusy when another process owns
    it, StoreFileError when the file is not a store this stateui can open. When the
    file can no longer be written (a full disk), the store refuses every write from
    then on, and `on_failure` hears why.
    """
    existed = path.exists()
    ownership = _claim(path)
    try:
        connection = connect(path, writable=True)
    except BaseException:
        ownership.release()
        if not existed:
            with contextlib.suppress(OSError):
                if path.stat().st_size == 0:
                    path.unlink()
        raise
    try:
        kept = _history(connection, history)
        bound = _limits(connection, limits)
        ownership.record(connection, command)
        loaded = _Loaded()
        reader = StoreFile(path)
        try:
            revision = loaded.scan(reader)
        finally:
            reader.close()
    except sqlite3.Error as error:
        connection.close()
        ownership.release()
        raise StoreFileError(f"{path}: {error}") from None
    # Read-only until the journal takes its changes: the sweeper starts then.
    store = Store(
        loaded.backend,
        log=ChangeLog(),
        revision=revision,
        expires=loaded.expires,
        limits=bound,
        read_only="the store is opening",
        clock=clock,
    )
    _write_through(
        store, connection, ownership, history=kept, sync=sync, window=window, on_failure=on_failure
    )
    return store


def take_ownership(store: Store, follower: Follower, *, command: str, sync: str = "batch") -> None:
    """Make a follower's store the owner of its file, now that nobody owns it.

    The follower stops, the file is claimed, and what was committed last is applied
    first, so the store goes on from the file's revision. Raises StoreBusy when another
    process got there first (the follower then goes on following it).
    """
    path = follower.path
    ownership = _claim(path)
    follower.stop()
    try:
        follower.catch_up()  # the file's last commits: nobody writes it now
        connection = connect(path, writable=True)
        kept = _history(connection, None)
        ownership.record(connection, command)
    except (StateError, sqlite3.Error) as error:
        ownership.release()
        follower.start()
        raise StoreFileError(f"{path}: {error}") from None
    _write_through(store, connection, ownership, history=kept, sync=sync)


def _claim(path: Path) -> Ownership:
    try:
        return Ownership.claim(path)
    except StoreBusy:
        raise StoreBusy(path, current_owner(path)) from None


def _write_through(
    store: Store,
    connection: sqlite3.Connection,
    ownership: Ownership,
    *,
    history: int,
    sync: str,
    window: float | None = None,
    on_failure: Callable[[str], None] | None = None,
) -> None:
    """Make `store` keep its changes in its file from now on, through a journal on
    `connection`; closing the store lets go of the file."""
    path = ownership.path

    def failed(reason: str) -> None:
        message = f"the store cannot be written: {reason}"
        store.refuse_writes(message)
        if on_failure is not None:
            on_failure(message)

    options = {} if window is None else {"window": window}
    log = FileChangeLog(connection, path, history=history, sync=sync, on_failure=failed, **options)
    store.take_log(log, str(path))

    def let_go() -> None:
        store.refuse_writes(f"the store is closed: {path} is no longer written by this process")
        with contextlib.suppress(sqlite3.Error):
            connection.execute("DELETE FROM meta WHERE name = 'owner'")
        connection.close()
        ownership.release()

    store.on_close(let_go)


def _history(connection: sqlite3.Connection, history: int | None) -> int:
    row = connection.execute("SELECT value FROM meta WHERE name = 'history'").fetchone()
    if history is None:
        return DEFAULT_HISTORY if row is None else int(row[0])
    connection.execute("INSERT OR REPLACE INTO meta VALUES ('history', ?)", (history,))
    return history


class _Loaded:
    """The entries of a file as a store loads them: a backend, and the keys' expiries."""

    def __init__(self) -> None:
        self.backend = MemoryBackend()
        self.expires: dict[str, float] = {}

    def add(self, rows: list[Row]) -> None:
        self.backend.put_many(row[:6] for row in rows)
        self.expires.update((row[0], row[6]) for row in rows if row[6])

    def scan(self, reader: StoreFile) -> int:
        """Load every entry of the file (expired ones too: the store sweeps them as
        changes); return the file's revision."""
        return reader.scan(self.add, every=True)


_LIMITS = ("max_keys", "max_bytes", "when_full")


def _limits(connection: sqlite3.Connection, changes: Mapping[str, Any] | None) -> Limits:
    kept = limits_of(
        lambda name: connection.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
    )
    if not changes:
        return kept
    limits = dataclasses.replace(kept, **changes)
    connection.executemany(
        "INSERT OR REPLACE INTO meta VALUES (?, ?)",
        [(name, getattr(limits, name)) for name in _LIMITS],
    )
    return limits


def limits_of(row_of: Callable[[str], tuple[object] | None]) -> Limits:
    """The limits a file keeps, read with `row_of(name)` (none when it keeps none)."""
    found = {name: row[0] for name in _LIMITS if (row := row_of(name)) is not None}
    return Limits(
        int(found.get("max_keys") or 0),  # type: ignore[call-overload]
        int(found.get("max_bytes") or 0),  # type: ignore[call-overload]
        str(found.get("when_full") or "error"),
    )


def current_owner(path: Path) -> Owner | None:
    """Who owns the file, as it records it; None when nobody does (or it cannot say)."""
    if not is_owned(path):
        return None
    try:
        reader = StoreFile(path)
    except StateError:
        return None
    try:
        return recorded_owner(reader.meta("owner"))
    except sqlite3.Error:
        return None
    finally:
        reader.close()


def open_following(path: Path) -> tuple[Store, Follower]:
    """Load the store file read-only and follow its owner's changes (call `start`)."""
    reader = StoreFile(path)
    try:
        loaded = _Loaded()
        revision = loaded.scan(reader)
        history = reader.meta("history")
        bound = limits_of(lambda name: None if (v := reader.meta(name)) is None else (v,))
    except sqlite3.Error as error:
        reader.close()
        raise StoreFileError(f"{path}: {error}") from None
    owner = current_owner(path)
    who = str(owner) if owner is not None else "another process"
    store = Store(
        loaded.backend,
        log=FileLog(reader, DEFAULT_HISTORY if history is None else int(history)),
        revision=revision,
        expires=loaded.expires,
        limits=bound,
        read_only=f"the store is read-only here: {path} is owned by {who}",
        location=str(path),
    )
    follower = Follower(store, reader)
    store.on_close(reader.close)
    store.on_close(follower.stop)
    return store, follower


__all__ = [
    "SYNC_MODES",
    "Follower",
    "Owner",
    "Row",
    "StoreBusy",
    "StoreFile",
    "StoreFileError",
    "current_owner",
    "file_size",
    "is_owned",
    "limits_of",
    "open_following",
    "open_owned",
    "take_ownership",
]
