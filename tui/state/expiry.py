"""Keys that expire: when each key with a TTL runs out, and the order they come due.

The store holds one `Expiry` and consults it under its lock: reads leave out keys
whose time has come, writes settle them first, and the `Sweeper` removes them in the
background, a slice at a time. Keys without a TTL are not in it at all, so a store
with no TTL pays one truth test of an empty dict a write.
"""

from __future__ import annotations

import heapq
import math
import threading
import time
import weakref
from collections.abc import Callable
from typing import Protocol

from tui.state.errors import StateError

SOURCE = "ttl"
"""The source of the changes that remove expired keys."""

SLICE = 500
"""Keys the sweeper removes at most while it holds the store's lock."""

MIN_TTL = 0.001
"""The shortest TTL, in seconds: TTLs have millisecond resolution."""

MAX_TTL = 1e9
"""The longest TTL, in seconds (about 31 years), the same on every store (Redis takes
no expiry time past 2**63 milliseconds)."""


def check_ttl(seconds: object) -> float:
    """`seconds` as a TTL, or StateError saying why it is not one."""
    if type(seconds) not in (int, float):
        raise StateError(f"ttl must be a number of seconds, got {_kind(seconds)}")
    ttl = float(seconds)  # type: ignore[arg-type]
    if math.isnan(ttl) or ttl <= 0 or math.isinf(ttl):
        raise StateError(f"ttl must be a number of seconds above 0, got {_number(ttl)}")
    if ttl < MIN_TTL:
        raise StateError(f"ttl must be at least {MIN_TTL} seconds (a millisecond), got {ttl}")
    if ttl > MAX_TTL:
        raise StateError(
            f"ttl must be at most 1,000,000,000 seconds (about 31 years), got {_number(ttl)}"
        )
    return ttl


def seconds_left(expires: float, now: float) -> float:
    """The TTL left at `now`, to the millisecond (never below a millisecond: a key
    whose time has come is gone, not at zero)."""
    return max(round(expires - now, 3), MIN_TTL)


def _kind(value: object) -> str:
    return "a boolean" if isinstance(value, bool) else type(value).__name__


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "infinity" if value > 0 else "-infinity"
    return f"{value:g}"


class Expiry:
    """When each key with a TTL expires (seconds since the epoch), due first.

    `at` is the truth; the heap is its order, with entries left behind by TTLs that
    were replaced or removed (skipped when they come up, and compacted away).
    """

    def __init__(self) -> None:
        self.at: dict[str, float] = {}
        self._heap: list[tuple[float, str]] = []

    def set(self, key: str, expires: float) -> None:
        self.at[key] = expires
        heapq.heappush(self._heap, (expires, key))
        if len(self._heap) > 2 * len(self.at) + 1024:
            self._heap = [(when, key) for key, when in self.at.items()]
            heapq.heapify(self._heap)

    def drop(self, key: str) -> None:
        self.at.pop(key, None)

    def expired(self, key: str, now: float) -> bool:
        """Whether `key` has a TTL that has run out."""
        expires = self.at.get(key)
        return expires is not None and expires <= now

    def next_due(self) -> float | None:
        """When the next key expires, or None when no key has a TTL."""
        heap, at = self._heap, self.at
        while heap and at.get(heap[0][1]) != heap[0][0]:
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def due(self, now: float, limit: int | None = None) -> list[str]:
        """Up to `limit` keys whose time has come, soonest first (they stay in `at`
        until the store removes them)."""
        heap, at = self._heap, self.at
        found: list[str] = []
        while heap and heap[0][0] <= now and (limit is None or len(found) < limit):
            expires, key = heapq.heappop(heap)
            if at.get(key) == expires:
                found.append(key)
        return found


class Sweepable(Protocol):
    def sweep(self, limit: int = SLICE) -> int: ...

    def next_expiry(self) -> float | None: ...


class Sweeper:
    """A background thread that removes expired keys from a store as they come due.

    Each slice takes the store's lock for at most SLICE removals, so writers wait a
    millisecond or two at most, and go on between slices. A store that cannot be
    reached (a Redis server away) is looked at again a second later. The thread holds the store
    weakly: a store dropped without being closed takes its sweeper with it.
    """

    def __init__(self, store: Sweepable, clock: Callable[[], float] = time.time) -> None:
        self._store = weakref.ref(store)
        self._clock = clock
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="stateui sweeper", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """A key now expires sooner than the sweeper was waiting for: look again."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not threading.current_thread():
            self._thread.join()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            store = self._store()
            if store is None:
                return
            try:
                removed = store.sweep()
                due = None if removed >= SLICE else store.next_expiry()
            except StateError:  # a server away (Redis): the next look is a second on
                removed, due = 0, None
            if removed >= SLICE:
                del store
                time.sleep(0)  # let waiting writers in between two slices
                continue
            del store  # not held while waiting
            wait = 1.0 if due is None else min(max(due - self._clock(), 0.0), 1.0)
            self._wake.wait(wait)
