"""The in-memory backend: the default, and the one the benchmarks hold to 1M keys."""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator

from tui.state.backends.base import Backend, Entry

# Each entry is packed into one exact-size bytes object: version, time and source
# number, then the JSON. One object a key instead of a tuple of four keeps a million
# small keys near 200 MB, and the copy drops orjson's over-allocated buffer.
_HEADER = struct.Struct("<QdI")
_SIZE = _HEADER.size
_pack = _HEADER.pack


class MemoryBackend(Backend):
    """Entries in a dict, each packed into a single bytes object.

    A read is one dict lookup of an immutable bytes object: atomic without a lock.
    """

    def __init__(self) -> None:
        self._entries: dict[str, bytes] = {}
        self._sources: list[str] = []
        self._source_ids: dict[str, int] = {}

    def get(self, key: str) -> Entry | None:
        packed = self._entries.get(key)
        if packed is None:
            return None
        version, time, source = _HEADER.unpack_from(packed)
        return Entry(packed[_SIZE:], version, time, self._sources[source])

    def value(self, key: str) -> bytes | None:
        packed = self._entries.get(key)
        return None if packed is None else packed[_SIZE:]

    def put(self, key: str, value: bytes, version: int, time: float, source: str) -> None:
        number = self._source_ids.get(source)
        if number is None:
            number = self._source_ids[source] = len(self._sources)
            self._sources.append(source)

        self._entries[key] = _pack(version, time, number) + value

    def put_many(self, rows: Iterable[tuple[str, bytes, int, float, str]]) -> None:
        """`put` each (key, value, version, time, source): loading a store file."""
        entries, ids, sources, pack = self._entries, self._source_ids, self._sources, _pack
        for key, value, version, time, source in rows:
            number = ids.get(source)
            if number is None:
                number = ids[source] = len(sources)
                sources.append(source)
            entries[key] = pack(version, time, number) + value

    def delete(self, key: str) -> bool:
        return self._entries.pop(key, None) is not None

    def __contains__(self, key: str) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)
