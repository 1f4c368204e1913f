"""A new store file written from a store of another kind: how a Redis namespace is
backed up, into a file that any store restores from.

The copy is an ordinary store file (see schema.py): the entries with their versions,
sources and expiries, the change log as far back as the source keeps it, the revision
and the limits, and no owner. A store file itself is copied with SQLite's backup API
instead (`stateui backup`), which this does not replace.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from tui.state.change import Change
from tui.state.file.reader import Row
from tui.state.file.schema import StoreFileError, connect

_BATCH = 10_000
"""Changes read from the source a query."""

_COPIED_META = ("history", "max_keys", "max_bytes", "when_full")


class CopySource(Protocol):
    """What a copy reads of a store (a RedisReader; a StoreFile would do too)."""

    def scan(
        self, on_rows: Callable[[list[Row]], None], batch: int = ..., *, every: bool = False
    ) -> int: ...

    def since(self, revision: int, limit: int | None = None) -> list[Change]: ...

    def meta(self, name: str) -> Any: ...


def write_copy(source: CopySource, path: Path) -> int:
    """Write what `source` holds to a new store file at `path`; how many keys.

    Keys whose TTL has run out are left out. Raises StoreFileError when the file cannot
    be written, and whatever the source raises (StateError) when it cannot be read; a
    copy that failed is removed.
    """
    if path.exists():
        raise StoreFileError(f"{path}: the file exists")
    try:
        connection = connect(path, writable=True)
    except BaseException:
        _remove(path)
        raise
    try:
        connection.execute("BEGIN IMMEDIATE")
        count = _fill(connection, source)
        connection.execute("COMMIT")
    except BaseException as error:
        connection.close()
        _remove(path)
        if isinstance(error, sqlite3.Error):
            raise StoreFileError(f"{path}: {error}") from None
        raise
    connection.close()
    return count


def _fill(connection: sqlite3.Connection, source: CopySource) -> int:
    count = 0
    newest = 0

    def take(rows: list[Row]) -> None:
        nonlocal count, newest
        connection.executemany("INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        count += len(rows)
        newest = max(newest, *(row[2] for row in rows))

    revision = source.scan(take)
    since = 0
    while changes := source.since(since, _BATCH):
        connection.executemany(
            "INSERT OR REPLACE INTO changes "
            "(revision, key, op, value, time, source, origin, created, expires) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [_change_row(change) for change in changes],
        )
        since = changes[-1].version
    # Other processes may write a shared store while it is read: the copy's revision
    # is past everything it holds, so that the writes made on it take new numbers.
    connection.execute(
        "UPDATE meta SET value = ? WHERE name = 'revision'", (max(revision, newest, since),)
    )
    for name in _COPIED_META:
        value = source.meta(name)
        if value is not None:
            connection.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (name, value))
    return count


def _change_row(c: Change) -> tuple[Any, ...]:
    return (c.version, c.key, c.op.value, c.value, c.time, c.source, c.origin, c.created, c.expires)


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(OSError):
            Path(f"{path}{suffix}").unlink()
