"""The change log: every change the store made, kept as its history.

The store records each change here as it makes it, under its lock. A log answers
two questions: the versions of one key (newest first), and the changes since a
revision (oldest first). The memory log keeps them in memory, bounded; the file
store's log keeps them in its SQLite file (see tui/state/file/).
"""

from __future__ import annotations

import struct
from collections import deque

from tui.state.change import Change, Op
from tui.state.writers import Writers

DEFAULT_HISTORY = 100
"""Versions kept of each key by default (`--history N`; 0 keeps none)."""

MEMORY_HISTORY_BYTES = 64 * 2**20
"""What the memory log may hold in all: the oldest changes go first past it."""

_OVERHEAD = 100
"""Bytes a kept change costs besides its packed form (the object, its slots)."""

# A kept change: version, time, writer number (its source and origin), and its kind
# (_SET, _CREATE, or the op of a removal); the value follows. A key's TTL is not kept:
# the history is of values.
_HEADER = struct.Struct("<QdIB")
_HEADER_SIZE = _HEADER.size
_pack = _HEADER.pack
_unpack_header = _HEADER.unpack_from


_SET, _DELETE, _CREATE, _EXPIRE, _EVICT = 0, 1, 2, 3, 4
_REMOVALS = {Op.DELETE: _DELETE, Op.EXPIRE: _EXPIRE, Op.EVICT: _EVICT}
_OP_OF = {_DELETE: Op.DELETE, _EXPIRE: Op.EXPIRE, _EVICT: Op.EVICT}


def _version(packed: bytes) -> int:
    return int(_HEADER.unpack_from(packed)[0])


class ChangeLog:
    """Where a store keeps its changes. This base keeps none."""

    history = 0
    """Versions kept of each key (0: no history)."""

    in_memory = True
    """Whether the log is read under the store's lock: a log in memory has no lock of
    its own, which keeps writes fast (the file store's log reads its file)."""

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

    Past `max_bytes` the oldest changes of the whole store go first, whatever key. Each
    kept change is packed into one bytes object of its own (header, then the value):
    few objects for the collector, and no buffer of the writer's kept alive (orjson's
    output is over-allocated).
    """

    def __init__(self, history: int = DEFAULT_HISTORY, max_bytes: int = MEMORY_HISTORY_BYTES):
        self.history = history
        self._max_bytes = max_bytes
        # A key's kept changes: the packed change itself while there is one (most keys
        # of a big store are written once), a deque of them once there are more.
        self._by_key: dict[str, bytes | deque[bytes]] = {}
        # The key of each change in the order they came. A key's entries come in the
        # order of its changes, so the first `_gone[key]` of them are changes already
        # pushed out of its deque: skipped when they come up, and compacted away.
        self._order: deque[str] = deque()
        self._gone: dict[str, int] = {}
        self._writers = Writers()
        self._kept = 0
        self._bytes = 0

    def record(self, change: Change) -> None:
        # Called under the store's lock, so it needs no lock of its own; the queries,
        # from other threads, copy what they read in single steps (see `_kept_of`).
        if not self.history:
            return
        op, key, version, source, when, value, origin, created, _ = change
        last_source, last_origin, number = self._writers.last
        if source is not last_source or origin is not last_origin:
            number = self._writers.number(source, origin)
        if value is None:
            packed = _pack(version, when, number, _REMOVALS[op])
        else:
            packed = _pack(version, when, number, _CREATE if created else _SET) + value
        kept = self._by_key.get(key)
        if kept is None:
            self._by_key[key] = packed
        else:
            self._add(key, kept, packed)
        self._order.append(key)
        self._kept += 1
        self._bytes += _OVERHEAD + len(key) + len(packed)
        if self._bytes > self._max_bytes:
            self._shrink()

    def _add(self, key: str, kept: bytes | deque[bytes], packed: bytes) -> None:
        if type(kept) is not deque:
            kept = self._by_key[key] = deque((kept,))  # type: ignore[arg-type]
        if len(kept) == self.history:
            self._bytes -= _OVERHEAD + len(key) + len(kept.popleft())
            self._kept -= 1
            self._gone[key] = self._gone.get(key, 0) + 1
            self._compact_if_sparse()
        kept.append(packed)

    def _compact_if_sparse(self) -> None:
        if len(self._order) > 2 * self._kept + 1024:
            self._compact()

    def _packed_of(self, key: str) -> list[bytes]:
        # Each read here is one step of C (a dict lookup, a deque copied whole), which
        # no writer can come between.
        kept = self._by_key.get(key)
        if kept is None:
            return []
        return list(kept) if type(kept) is deque else [kept]  # type: ignore[list-item]

    def _unpack(self, key: str, packed: bytes) -> Change:
        version, when, number, kind = _unpack_header(packed)
        source, origin = self._writers[number]
        removal = _OP_OF.get(kind)
        if removal is not None:
            return Change(removal, key, version, source, when, None, origin)
        value = packed[_HEADER_SIZE:]
        return Change(Op.SET, key, version, source, when, value, origin, kind == _CREATE)

    def _shrink(self) -> None:
        # Down to 15/16 of the bound at once: the work is done every few thousand
        # changes rather than at every one.
        target = self._max_bytes - self._max_bytes // 16
        while self._bytes > target and self._order:
            self._drop_oldest()
        self._compact_if_sparse()

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
            self._bytes -= _OVERHEAD + len(key) + len(kept.popleft())
            if kept:
                self._kept -= 1
                return
        else:
            self._bytes -= _OVERHEAD + len(key) + len(kept)
        self._kept -= 1
        del self._by_key[key]

    def _compact(self) -> None:
        # One pass over the order: the first `_gone[key]` entries of a key are of
        # changes already pushed out of its deque. Linear, with no version unpacked:
        # it runs under the store's lock, so a writer waits for it.
        gone = self._gone
        order: deque[str] = deque()
        append = order.append
        for key in self._order:
            skip = gone.get(key)
            if skip:
                if skip == 1:
                    del gone[key]
                else:
                    gone[key] = skip - 1
            else:
                append(key)
        self._order = order

    def versions(self, key: str, limit: int | None = None) -> list[Change]:
        packed = self._packed_of(key)
        if limit is not None:
            packed = packed[-limit:] if limit > 0 else []
        kept = [self._unpack(key, one) for one in packed]
        kept.reverse()
        return kept

    def since(self, revision: int, limit: int | None = None) -> list[Change]:
        # From the newest change back to `revision`: the n-th entry of a key from the
        # end of the order is its n-th newest kept change; past its kept ones, the
        # entries are of changes already dropped.
        found: list[Change] = []
        seen: dict[str, int] = {}
        kept_of: dict[str, list[bytes]] = {}
        for key in reversed(self._order):
            back = seen.get(key, 0)
            seen[key] = back + 1
            kept = kept_of.get(key)
            if kept is None:
                kept = kept_of[key] = self._packed_of(key)
            if back >= len(kept):
                continue
            packed = kept[-1 - back]
            if _version(packed) <= revision:
                break
            found.append(self._unpack(key, packed))
        found.reverse()
        return found if limit is None else found[:limit]
