"""Reading a store file: its entries, its change log, and what it is, without loading it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tui.state.backends import Entry
from tui.state.change import Change, Op
from tui.state.file.schema import connect, format_of

Row = tuple[str, bytes, int, float, str, str]
"""An entry as the file holds it: key, value, version, time, source, origin."""


def _change(row: tuple[Any, ...]) -> Change:
    op, key, revision, source, time, value, origin, created = row
    return Change(Op(op), key, revision, source, time, value, origin, bool(created))


class StoreFile:
    """Read-only queries on a store file, from any thread (one at a time).

    Each query sees the file as the last commit left it.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._connection = connect(path, writable=False)
        self._lock = threading.Lock()
        # A file of format 1 (read-only here, so not upgraded) has no origins.
        old = format_of(self._connection) < 2
        self._origin = "'' AS origin" if old else "origin"
        self._changes = "op, key, revision, source, time, value, " + (
            "'', 0" if old else "origin, created"
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
            f"SELECT value, version, time, source, {self._origin} FROM entries WHERE key = ?",
            (key,),
        )
        return Entry(*rows[0]) if rows else None

    def keys(self) -> list[str]:
        """Every key, sorted."""
        return [row[0] for row in self._all("SELECT key FROM entries ORDER BY key")]

    def scan(self, on_rows: Callable[[list[Row]], None], batch: int = 10_000) -> int:
        """Hand every entry (a Row) to `on_rows`, a batch at a time, all read in one
        transaction (a consistent cut); return its revision."""
        with self._lock:
            cursor = self._connection.cursor()
            cursor.execute("BEGIN")
            try:
                revision = cursor.execute(
                    "SELECT value FROM meta WHERE name = 'revision'"
                ).fetchone()[0]
                cursor.execute(
                    f"SELECT key, value, version, time, source, {self._origin} FROM entries"
                )
                while rows := cursor.fetchmany(batch):
                    on_rows(rows)
            finally:
                cursor.execute("COMMIT")
                cursor.close()
        return int(revision)

    def count(self) -> int:
        return int(self._one("SELECT count(*) FROM entries"))

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
