"""The change log: every change the store made, kept as its history.

The store records each change here as it makes it, under its lock. A log answers
two questions: the versions of one key (newest first), and the changes since a
revision (oldest first). The memory log keeps them in memory, bounded; the file
store's log keeps them in its SQLite file (see tui/state/file/).
"""

from __future__ import annotations

import heapq
import threading
from collections import deque
from collections.abc import Iterable

from tui.state.change import Change

DEFAULT_HISTORY = 100
"""Versions kept of each key by default (`--history N`; 0 keeps none)."""

MEMORY_HISTORY_BYTES = 64 * 2**20
"""What the memory log may hold in all: the oldest changes go first past it."""

_OVERHEAD = 200
"""Bytes a kept change costs besides its key and value (the tuple, the deque slot)."""


def _cost(change: Change) -> int:
    value = change.value
    return _OVERHEAD + len(change.key) + (0 if value is None else len(value))


class ChangeLog:
    """Where a store keeps its changes. This base keeps none."""

    history = 0
    """Versions kept of each key (0: no history)."""

    def record(self, change: Change) -> None:
        """Keep a change (called by the store, under its lock, in revision order)."""

    def versions(self, key: str, limit: int | None = None) -> list[Change]:
        """The kept changes of `key`, newest first, at most `limit` of them."""
        return []

    def since(self, revision: int, limit: int | None = None) -> list[Change]:
        """The kept changes after `revision`, oldest first, at most `limit` of them."""
        return []

    def flush(self) -> None:
        """Make every recorded change durable (a no-op for a log in memory)."""

    def close(self) -> None:
        """Flush, and let go of what the log holds open."""


class MemoryChangeLog(ChangeLog):
    """The last `history` versions of each key, in memory, at most `max_bytes` in all.

    Past `max_bytes` the oldest changes of the whole store go first, whatever key.
    """

    def __init__(self, history: int = DEFAULT_HISTORY, max_bytes: int = MEMORY_HISTORY_BYTES):
        self.history = history
        self._max_bytes = max_bytes
        # A key's kept changes: the Change itself while there is one (most keys of a
        # big store are written once), a deque once there are more.
        self._by_key: dict[str, Change | deque[Change]] = {}
        # The key of each change in the order they came. A key's entries come in the
        # order of its changes, so the first `_gone[key]` of them are changes already
        # pushed out of its deque: skipped when they come up, and compacted away.
        self._order: deque[str] = deque()
        self._gone: dict[str, int] = {}
        self._kept = 0
        self._bytes = 0
        self._lock = threading.Lock()  # queries come from other threads than writers

    def record(self, change: Change) -> None:
        if not self.history:
            return
        key = change.key
        with self._lock:
            kept = self._by_key.get(key)
            if kept is None:
                self._by_key[key] = change
            else:
                if type(kept) is not deque:
                    kept = self._by_key[key] = deque((kept,))  # type: ignore[arg-type]
                if len(kept) == self.history:
                    self._bytes -= _cost(kept.popleft())
                    self._kept -= 1
                    self._gone[key] = self._gone.get(key, 0) + 1
                kept.append(change)
            self._order.append(key)
            self._kept += 1
            self._bytes += _cost(change)
            while self._bytes > self._max_bytes and self._order:
                self._drop_oldest()
            if len(self._order) > 2 * self._kept + 1024:
                self._compact()

    def _kept_of(self, key: str) -> list[Change]:
        kept = self._by_key.get(key)
        if kept is None:
            return []
        return list(kept) if type(kept) is deque else [kept]  # type: ignore[list-item]

    def _drop_oldest(self) -> None:
        key = self._order.popleft()
        gone = self._gone.get(key)
        if gone:
            if gone == 1:
                del self._gone[key]
            else:
                self._gone[key] = gone - 1
            return
        kept = self._by_key.get(key)
        if kept is None:
            return
        if type(kept) is deque:
            self._bytes -= _cost(kept.popleft())
            if kept:
                self._kept -= 1
                return
        else:
            self._bytes -= _cost(kept)  # type: ignore[arg-type]
        self._kept -= 1
        del self._by_key[key]

    def _compact(self) -> None:
        merged = heapq.merge(
            *(self._kept_of(key) for key in self._by_key), key=lambda change: change.version
        )
        self._order = deque(change.key for change in merged)
        self._gone.clear()

    def versions(self, key: str, limit: int | None = None) -> list[Change]:
        with self._lock:
            kept = self._kept_of(key)
        kept.reverse()
        return kept if limit is None else kept[:limit]

    def since(self, revision: int, limit: int | None = None) -> list[Change]:
        with self._lock:
            chosen = [
                [change for change in self._kept_of(key) if change.version > revision]
                for key in self._by_key
            ]
        merged: Iterable[Change] = heapq.merge(*chosen, key=lambda change: change.version)
        found = list(merged)
        return found if limit is None else found[:limit]
