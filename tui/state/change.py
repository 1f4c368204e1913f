"""The change feed: one record per mutation, delivered to subscribers without blocking writers."""

from __future__ import annotations

import contextlib
import threading
from collections import deque
from collections.abc import Callable
from enum import StrEnum
from typing import NamedTuple


class Op(StrEnum):
    """What a change did to its key."""

    SET = "set"
    DELETE = "delete"
    EXPIRE = "expire"
    """Removed by the store when its TTL ran out (source `ttl`)."""
    EVICT = "evict"
    """Removed by the store to make room under its limits (source `limit`)."""

    @property
    def removes(self) -> bool:
        """Whether the change removed its key (a delete, an expiry or an eviction)."""
        return self is not Op.SET


class Change(NamedTuple):
    """One mutation of one key, as the store made it."""

    op: Op
    key: str
    version: int
    """The store revision of this change; for a set, the key's new version."""
    source: str
    """Who wrote: a script run (`name.lua#3`), `console`, `editor`, `cli`."""
    time: float
    """Wall-clock time of the change (seconds since the epoch)."""
    value: bytes | None
    """The new value as JSON for a set; None for a delete."""
    origin: str = ""
    """Where in Lua the write was made (`jobs/import.lua:42`); empty for a write that
    no script line made (the console, the editor, the command line)."""
    created: bool = False
    """A set of a key that did not exist just before: a step back over it removes it."""
    expires: float = 0.0
    """For a set, when the key expires (seconds since the epoch); 0 for a key with no TTL."""

    @property
    def writer(self) -> str:
        """Who wrote and where, for a person: `import.lua#3 jobs/import.lua:42`."""
        return f"{self.source} {self.origin}" if self.origin else self.source


DEFAULT_BUFFER = 65_536


class Subscription:
    """A subscriber's bounded buffer of changes.

    Writers append and never wait: when the buffer is full the oldest change is
    dropped and counted in `dropped`, which tells the subscriber to re-read the store.
    `on_ready` is called (from the writer's thread, so it must not block) each time
    the buffer goes from empty to non-empty; `wait` serves threads instead.

    The buffer has a lock of its own, so that `drain` never waits for a writer's
    long operation (clearing or loading many keys) to finish.
    """

    def __init__(
        self,
        unsubscribe: Callable[[Subscription], None],
        maxlen: int = DEFAULT_BUFFER,
        on_ready: Callable[[], None] | None = None,
    ) -> None:
        self._unsubscribe = unsubscribe
        self._maxlen = maxlen
        self._buffer: deque[Change] = deque(maxlen=maxlen)
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._on_ready = on_ready
        self.dropped = 0
        """Changes lost to a full buffer since the last `drain`."""
        self.closed = False
        self.after = 0
        """The store's revision when it subscribed, on a store whose changes reach it
        some time after they are made (one shared over the network): the changes up to
        it, still on their way, are not handed to it."""

    def push(self, change: Change) -> bool:
        """Add a change (the store calls this as it writes, under its own lock).

        True when the buffer was empty: the store then calls `notify` once it has
        let go of its lock.
        """
        with self._lock:
            buffer = self._buffer
            size = len(buffer)
            if size == self._maxlen:
                self.dropped += 1
            buffer.append(change)
        return not size

    def notify(self) -> None:
        """Wake `wait` and call `on_ready`; a failing callback never reaches the writer."""
        if self.closed:
            return
        self._ready.set()
        if self._on_ready is not None:
            # A failing callback is the subscriber's bug; it must not reach the writer.
            with contextlib.suppress(Exception):
                self._on_ready()

    def drain(self) -> tuple[list[Change], int]:
        """Take every buffered change, oldest first, and how many were dropped before them."""
        fresh: deque[Change] = deque(maxlen=self._maxlen)
        with self._lock:
            taken, self._buffer = self._buffer, fresh
            dropped, self.dropped = self.dropped, 0
            self._ready.clear()
        return list(taken), dropped

    def wait(self, timeout: float | None = None) -> bool:
        """Block until a change is buffered or `timeout` passes; True when one is."""
        return self._ready.wait(timeout)

    def close(self) -> None:
        """Stop receiving changes; `on_ready` is not called after this returns."""
        self.closed = True
        self._unsubscribe(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
