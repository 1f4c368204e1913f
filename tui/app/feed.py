"""The app's live copy of the store: the change feed drained into the models, in slices."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from tui.app.model.key_index import KeyIndex
from tui.app.model.progress_tracker import ProgressTracker
from tui.app.model.value_history import ValueHistory
from tui.state import Change, Op, Store
from tui.state.key_filter import KeyFilter

CHUNK = 2_000
"""Changes applied between two chances for other work (a key press, a screen update)."""

BUSY_CHANGES = 2_000
"""Changes in one catch-up that make the next one rest (see `Feed.catch_up`)."""


@dataclass
class Update:
    """What one catch-up brought: the changes, or that some were lost."""

    changes: Sequence[Change] = ()
    dropped: int = 0
    """Changes lost to an overflowing feed: the models were read afresh."""
    touched: set[str] = field(default_factory=set)
    """The keys the changes were to."""
    progress_changed: bool = False

    def last_change(self, key: str) -> Change | None:
        """The last change to `key` in this update."""
        return next((change for change in reversed(self.changes) if change.key == key), None)


class Feed:
    """Keeps the key index (through the filter), the progress keys and the recent numbers
    of the keys looked at in step with a store, from its change feed.

    Subscribes before reading the keys: a change made in between is applied twice,
    which the models take in their stride, rather than lost.
    """

    def __init__(self, store: Store, *, delimiter: str, progress_prefix: str) -> None:
        self.store = store
        self._subscription = store.subscribe()
        self.key_filter: KeyFilter | None = None
        """What the key index is narrowed to, if anything."""
        self.index = KeyIndex(delimiter, store.keys(sort=False))
        self.progress = ProgressTracker(progress_prefix)
        self.value_history = ValueHistory()
        """Recent numbers of the keys looked at, for the sparkline."""
        self._resting = False
        self.reload_progress()

    def close(self) -> None:
        """Stop listening to the store."""
        self._subscription.close()

    def keys_under(self, prefix: str) -> list[str]:
        """The keys under `prefix` that pass the filter, in no order."""
        keys = self.store.keys(prefix, sort=False)
        return keys if self.key_filter is None else self.key_filter.select(keys)

    def refilter(self, key_filter: KeyFilter | None) -> None:
        """Narrow the index to another filter (None: every key), read afresh."""
        self.key_filter = key_filter
        self.reindex()

    def reindex(self) -> None:
        """Read the keys afresh into a new index, through the filter."""
        self.index = KeyIndex(self.index.delimiter, self.keys_under(""))

    def reload_progress(self) -> None:
        """Read the progress keys (and the pinned ones) the store holds now, afresh."""
        old, store = self.progress, self.store
        self.progress = tracker = ProgressTracker(old.prefix)
        for key in sorted(old.pinned):
            entry = store.entry(key)
            if entry is not None:
                tracker.pin(key, entry.value, entry.time, entry.source)
        found = [(key, store.entry(key)) for key in store.keys(old.prefix)]
        tracker.load((key, e.value, e.time, e.source) for key, e in found if e)

    async def catch_up(self) -> Update | None:
        """Apply what changed since the last call; None when nothing did (or resting).

        After a flood (BUSY_CHANGES or more), the next call rests and returns None: a busy
        store is then drawn 10 times a second rather than 20, and the scripts get the time.
        """
        if self._resting:
            self._resting = False
            return None
        changes, dropped = self._subscription.drain()
        if not changes and not dropped:
            return None
        self._resting = len(changes) >= BUSY_CHANGES
        if dropped:
            # The feed overflowed: some changes are lost, so read everything afresh.
            self.reindex()
            self.reload_progress()
            return Update(changes, dropped, progress_changed=True)
        await self._index(changes)
        touched = {change.key for change in changes}
        if not touched.isdisjoint(self.value_history.keys):
            self.value_history.apply(changes)
        return Update(changes, 0, touched, self.progress.apply(changes))

    async def _index(self, changes: Sequence[Change]) -> None:
        """Apply changes to the key index, a slice at a time, so that a flood of changes
        does not freeze the app."""
        add: Callable[[str], bool] = self.index.add
        remove: Callable[[str], bool] = self.index.remove
        shown = self.key_filter
        for start in range(0, len(changes), CHUNK):
            if start:
                await asyncio.sleep(0)
            for change in changes[start : start + CHUNK]:
                if shown is not None and not shown(change.key):
                    continue
                if change.op is Op.SET:
                    add(change.key)
                else:
                    remove(change.key)
