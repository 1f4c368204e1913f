"""Reading a Redis store for the data commands, as `StoreFile` reads a file store."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tui.state.backends import Entry
from tui.state.change import Change
from tui.state.change_log import DEFAULT_HISTORY
from tui.state.file.reader import Row
from tui.state.redis.connection import RedisConnection

SCAN_BATCH = 5_000
"""Keys read a round trip."""


class RedisReader:
    """The queries the data commands make of a store, answered by a Redis namespace."""

    def __init__(self, connection: RedisConnection) -> None:
        self.connection = connection
        self.path = connection.address.shown

    def close(self) -> None:
        self.connection.close()

    def entry(self, key: str) -> Entry | None:
        return self.connection.entry(key)

    def keys(self) -> list[str]:
        return self.connection.keys()  # in key order

    def scan(
        self, on_rows: Callable[[list[Row]], None], batch: int = SCAN_BATCH, *, every: bool = False
    ) -> int:
        """Hand every entry to `on_rows`, a batch at a time; the revision before the
        first (a store other processes write has no single cut: each key is read as it
        is when its batch is)."""
        connection = self.connection
        revision = connection.revision()
        for keys in connection.key_batches(size=batch):
            found = zip(keys, connection.entries(keys), strict=True)
            rows: list[Row] = [(key, *entry) for key, entry in found if entry is not None]
            if rows:
                on_rows(rows)
        return revision

    def count(self) -> int:
        return self.connection.size()[0]

    def revision(self) -> int:
        return self.connection.revision()

    def meta(self, name: str) -> Any:
        if name in ("max_keys", "max_bytes", "when_full"):
            max_keys, max_bytes, when_full = self.connection.limits()
            return {"max_keys": max_keys, "max_bytes": max_bytes, "when_full": when_full}[name]
        if name == "history":
            found = self.connection.history()
            return DEFAULT_HISTORY if found is None else found
        return None

    def versions(self, key: str, limit: int | None = None) -> list[Change]:
        history = self.meta("history")
        return self.connection.versions(key, history if limit is None else limit)

    def since(self, revision: int, limit: int | None = None) -> list[Change]:
        return self.connection.since(revision, limit)
