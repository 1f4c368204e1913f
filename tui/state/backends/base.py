"""The interface every storage backend implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from typing import NamedTuple


class Entry(NamedTuple):
    """A stored value with what the store knows about its last change."""

    value: bytes
    """The value as JSON."""
    version: int
    """The store revision at which the key last changed."""
    time: float
    """When it last changed (seconds since the epoch)."""
    source: str
    """What changed it last (a script run, `console`, `editor`, `cli`)."""
    origin: str = ""
    """Where in Lua it was changed last (`jobs/import.lua:42`), if a script line did."""
    expires: float = 0.0
    """When the key expires (seconds since the epoch); 0 when it has no TTL. The store
    fills it in: backends leave it 0."""


class Backend(ABC):
    """Where the store keeps its entries.

    A backend is a plain mapping of key to Entry: the Store validates input, owns the
    write lock, numbers the versions and publishes changes, so a backend needs none of
    that. Writes and iteration happen under the store's lock; reads of one key
    (`get`, `value`, `in`) do not, so each must be atomic on its own.
    """

    @abstractmethod
    def get(self, key: str) -> Entry | None:
        """The entry of `key`, or None."""

    @abstractmethod
    def value(self, key: str) -> bytes | None:
        """Only the JSON of `key` (the read hot path), or None."""

    @abstractmethod
    def put(
        self, key: str, value: bytes, version: int, time: float, source: str, origin: str = ""
    ) -> None:
        """Insert or replace the entry of `key`."""

    @abstractmethod
    def delete(self, key: str) -> bool:
        """Remove `key`; True when it was there."""

    @abstractmethod
    def __contains__(self, key: str) -> bool: ...

    overhead = 0
    """Bytes `stored` adds to a value's JSON (the store counts only the JSON)."""

    def stored(self) -> Callable[[str], bytes | None]:
        """The fastest function from a key to its stored form, None when missing: its
        length, less `overhead`, is the value's. Writes call it."""
        return self.value

    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def __iter__(self) -> Iterator[str]:
        """Every key, in no particular order (the store consumes it under its lock)."""
