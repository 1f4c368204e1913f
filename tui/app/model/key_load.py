"""Listing a store read over the network, a batch at a time, while the app goes on."""

from __future__ import annotations

import threading
from collections import deque

from tui.state import StateError, Store

RETRY_SECONDS = 1.0
"""How long the load waits after the store could not be reached, before it starts over."""


class KeyLoad:
    """Reads every key of a store on a thread of its own, in the store's batches, and
    keeps them for the app to `take` between two screen updates.

    Meant for a store whose reads are round trips (`Store.remote`): a namespace of a
    million keys takes seconds to list, and the app shows the first batch at once. When
    the store cannot be reached, the load starts over a second later (a key is added to
    the index twice at worst, which it takes in its stride); `cancel` ends it.
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self.total: int | None = None
        """How many keys the store said it had when the load began (None until then)."""
        self.loaded = 0
        """Keys read so far."""
        self.expires: dict[str, float] | None = None
        """Every key's expiry, read once the keys are (None until then)."""
        self.error: str | None = None
        """Why the last try failed, while the load waits to start over."""
        self._batches: deque[list[str]] = deque()
        self._cancelled = threading.Event()
        self._finished = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stateui key load", daemon=True)
        self._thread.start()

    @property
    def done(self) -> bool:
        """Whether every key was read (their batches may still be waiting to be taken)."""
        return self._finished.is_set()

    def take(self) -> list[list[str]]:
        """The batches read since the last call, oldest first."""
        batches, popleft = [], self._batches.popleft
        while self._batches:
            batches.append(popleft())
        return batches

    def cancel(self) -> None:
        """Stop reading (the batches not taken are dropped)."""
        self._cancelled.set()

    def wait(self, timeout: float) -> bool:
        """Wait until every key was read; whether they were (for tests and benchmarks)."""
        return self._finished.wait(timeout)

    def _run(self) -> None:
        while not self._cancelled.is_set():
            try:
                self._read()
            except StateError as error:
                self.error = str(error)
                self._cancelled.wait(RETRY_SECONDS)
                continue
            self.error = None
            if not self._cancelled.is_set():
                self._finished.set()
            return

    def _read(self) -> None:
        store = self._store
        self.total, self.loaded = len(store), 0
        for batch in store.key_batches():
            if self._cancelled.is_set():
                return
            if batch:
                self._batches.append(batch)
                self.loaded += len(batch)
        self.expires = store.expirations()
