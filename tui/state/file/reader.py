"""Reading a store file: its entries, its change log, and what it is, without loading it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tui.state.backends import Entry
from tui.state.change import Change, Op
from tui.state.file.schema import connect, format_of

Row = tuple[str, bytes, int, float, str, str, float]
"""An entry as the file holds it: key, value, version, time, source, origin, expires."""


def _change(row: tuple[Any, ...]) -> Change:
    op, key, revision, source, time, value, origin, created, expires = row
    return Change(Op(op), key, revision, source, time, value, origin, bool(created), expires)


_LIVE = "(expires = 0 OR expires > ?)"
"""Leaves out the entries whose TTL has run out, given the time now."""


class StoreFile:
    """Read-only queries on a store file, from any thread (one at a time).

    Each query sees the file as the last commit left it. Keys whose TTL has run out
    are left out at once, before the owner sweeps them (except by `scan(every=True)`,
    which loads a store).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._connection = connect(path, writable=False)
        self._lock = threading.Lock()
        # An older file (read-only here, so not upgraded) lacks the newer columns.
        version = format_of(self._connection)
        origin = "origin" if version >= 2 else "''"
        expires = "expires" if version >= 3 else "0.0"
        self._entry = f"value, version, time, source, {origin}, {expires}"
        self._live = _LIVE if version >= 3 else "? IS NOT NULL"
        self._changes = "op, key, revision, source, time, value, " + (
            f"{origin}, created, {expires}" if version >= 2 else "'', 0, 0.0"
        )

    def close(self) -> None:
        with self._lock:
            self._connection.close()

    def _all(self, sql: str, parameters: tuple[Any, ...] = ()) -> list[Any]:
        with self._lock:
            return self._connection.execute(sql, parameters).fetchall()

    def _one(self, sql: str, parameters: tuple[Any, ...] = ()) -> Any:
        with self._lock:
            row = self._connection.execute(sql, parameters).fetchone()
        return None if row is None else row[0]

    # -- the store as it is -----------------------------------------------------

    def entry(self, key: str) -> Entry | None:
        rows = self._all(
            f"SELECT {self._entry} FROM entries WHERE key = ? AND {self._live}",
            (key, time.time()),
        )
        return Entry(*rows[0]) if rows else None

    def keys(self) -> list[str]:
        """Every key, sorted."""
        rows = self._all(f"SELECT key FROM entries WHERE {self._live} ORDER BY key", (time.time(),))
        return [row[0] for row in rows]

    def scan(
        self, on_rows: Callable[[list[Row]], None], batch: int = 10_000, *, every: bool = False
    ) -> int:
        """Hand every entry (a Row) to `on_rows`, a batch at a time, all read in one
        transaction (a consistent cut); return its revision. Expired entries are left
        out, unless `every` (a store loading the file sweeps them itself)."""
        with self._lock:
            cursor = self._connection.cursor()
            cursor.execute("BEGIN")
            try:
                revision = cursor.execute(
                    "SELECT value FROM meta WHERE name = 'revision'"
                ).fetchone()[0]
                if every:
                    cursor.execute(f"SELECT key, {self._entry} FROM entries")
                else:
                    cursor.execute(
                        f"SELECT key, {self._entry} FROM entries WHERE {self._live}",
                        (time.time(),),
                    )
                while rows := cursor.fetchmany(batch):
                    on_rows(rows)
            finally:
                cursor.execute("COMMIT")
                cursor.close()
        return int(revision)

    def count(self) -> int:
        return int(self._one(f"SELECT count(*) FROM entries WHERE {self._live}", (time.time(),)))

    def revision(self) -> int:
        return int(self._one("SELECT value FROM meta WHERE name = 'revision'"))

    def meta(self, name: str) -> Any:
        return self._one("SELECT value FROM meta WHERE name = ?", (name,))

    # -- the change log -------------------------------------------------------------

    def versions(self, key: str, limit: int | None = None) -> list[Change]:
        rows = self._all(
            f"SELECT {self._changes} FROM changes WHERE key = ? ORDER BY revision DESC LIMIT ?",
            (key, -1 if limit is None else limit),
        )
        return [_change(row) for row in rows]

    def since(self, revision: int, limit: int | None = None) -> list[Change]:
        rows = self._all(
            f"SELECT {self._changes} FROM changes WHERE revision > ? ORDER BY revision LIMIT ?",
            (revision, -1 if limit is None else limit),
        )
        return [_change(row) for row in rows]

    def data_version(self) -> int:
        """A number that changes when another connection commits (see NOTES.md)."""
        return int(self._one("PRAGMA data_version"))

    def log_start(self) -> int:
        """The first revision from which the change log is whole (older ones were pruned)."""
        value = self.meta("log_start")
        return 0 if value is None else int(value)
