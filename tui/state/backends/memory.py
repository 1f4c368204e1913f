"""The in-memory backend: the default, and the one the benchmarks hold to 1M keys."""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Iterator

from tui.state.backends.base import Backend, Entry
from tui.state.writers import Writers

# Each entry is packed into one exact-size bytes object: version, time and writer
# number (its source and origin), then the JSON. One object a key instead of a tuple
# of four keeps a million small keys near 200 MB, and the copy drops orjson's over-allocated buffer.
_HEADER = struct.Struct("<QdI")
_SIZE = _HEADER.size
_pack = _HEADER.pack


class MemoryBackend(Backend):
    """Entries in a dict, each packed into a single bytes object.

    A read is one dict lookup of an immutable bytes object: atomic without a lock.
    """

    def __init__(self) -> None:
        self._entries: dict[str, bytes] = {}
        self._writers = Writers()

    def get(self, key: str) -> Entry | None:
        packed = self._entries.get(key)
        if packed is None:
            return None
        version, time, writer = _HEADER.unpack_from(packed)
        return Entry(packed[_SIZE:], version, time, *self._writers[writer])

    def value(self, key: str) -> bytes | None:
        packed = self._entries.get(key)
        return None if packed is None else packed[_SIZE:]

    def put(
        self, key: str, value: bytes, version: int, time: float, source: str, origin: str = ""
    ) -> None:
        last_source, last_origin, number = self._writers.last
        if source is not last_source or origin is not last_origin:
            number = self._writers.number(source, origin)
        self._entries[key] = _pack(version, time, number) + value

    overhead = _SIZE

    def stored(self) -> Callable[[str], bytes | None]:
        return self._entries.get

    def put_many(self, rows: Iterable[tuple[str, bytes, int, float, str, str]]) -> None:
        """`put` each (key, value, version, time, source, origin): loading a store file."""
        entries, number_of, pack = self._entries, self._writers.number, _pack
        for key, value, version, time, source, origin in rows:
            entries[key] = pack(version, time, number_of(source, origin)) + value

    def delete(self, key: str) -> bool:
        return self._entries.pop(key, None) is not None

    def __contains__(self, key: str) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)
