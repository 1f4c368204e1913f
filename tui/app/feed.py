"""The app's live copy of the store: the change feed drained into the models, in slices."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from operator import attrgetter

from tui.app.model.key_index import KeyIndex
from tui.app.model.key_load import KeyLoad
from tui.app.model.progress_tracker import ProgressTracker
from tui.app.model.time_travel import TimeTravel
from tui.app.model.value_history import ValueHistory
from tui.state import Change, Entry, Op, StateError, Store
from tui.state.key_filter import KeyFilter

CHUNK = 2_000
"""Changes applied between two chances for other work (a key press, a screen update)."""

MATCHES_KEPT = 100
"""The keys a load through a filter remembers, for the tree to open their folders."""

BUSY_CHANGES = 2_000
"""Changes in one catch-up that make the next one rest (see `Feed.catch_up`)."""

_expires_of = attrgetter("expires")


@dataclass
class Update:
    """What one catch-up brought: the changes, or that some were lost."""

    changes: Sequence[Change] = ()
    dropped: int = 0
    """Changes lost to an overflowing feed: the models were read afresh."""
    touched: set[str] = field(default_factory=set)
    """The keys the changes were to."""
    progress_changed: bool = False
    travelling: bool = False
    """Live changes made while the view stands in the past: the models did not move."""
    loaded: int = 0
    """Keys a load in batches added to the index (they are not changes: not touched)."""
    matches: list[str] | None = None
    """At the end of a load through a filter, the keys it matched (None: more than
    MATCHES_KEPT, or no filter)."""

    def last_change(self, key: str) -> Change | None:
        """The last change to `key` in this update."""
        return next((change for change in reversed(self.changes) if change.key == key), None)


class Feed:
    """Keeps the key index (through the filter), the progress keys, the recent numbers
    of the keys looked at and the keys' expiries in step with a store, from its change
    feed.

    Subscribes before reading the keys: a change made in between is applied twice,
    which the models take in their stride, rather than lost.

    A store read over the network (`Store.remote`) is read in batches instead, on a
    thread (`load`): the index starts empty and fills a batch at a time, between two
    screen updates, while the change feed goes on. A key the feed told of meanwhile
    is as the feed said, whatever an older batch holds; while the view stands in the
    past, a key changed since is as it was then.
    """

    def __init__(self, store: Store, *, delimiter: str, progress_prefix: str) -> None:
        self.store = store
        self._subscription = store.subscribe()
        self.revision = store.revision
        """The revision of the last change the models took."""
        self.travel: TimeTravel | None = None
        """Where the view stands in the past, while it does (see `travel_to_past`)."""
        self.key_filter: KeyFilter | None = None
        """What the key index is narrowed to, if anything."""
        self.load: KeyLoad | None = None
        """The keys being read in batches (a store read over the network), while they are."""
        self._told: set[str] = set()  # keys the feed told of during the load
        self._matches: list[str] | None = None  # what a load through a filter found
        self.stale = False
        """The keys should be read afresh (a new filter, the present again), but the
        store was out of reach: the index stays as it was until the store is back."""
        self.expires: dict[str, float] = {}
        """When each key with a TTL expires (seconds since the epoch), as the feed told:
        the store's now, also while the view stands in the past. Kept as one dict, so
        that the tree may hold on to it."""
        if store.remote:
            self.index = KeyIndex(delimiter, ())
            self.load = KeyLoad(store)
        else:
            self.index = KeyIndex(delimiter, store.keys(sort=False))
            self.reload_expiries()
        self.progress = ProgressTracker(progress_prefix)
        self.value_history = ValueHistory()
        """Recent numbers of the keys looked at, for the sparkline."""
        self._resting = False
        self.reload_progress()

    def close(self) -> None:
        """Stop listening to the store (and reading it)."""
        self._subscription.close()
        if self.load is not None:
            self.load.cancel()

    def keys_under(self, prefix: str) -> list[str]:
        """The keys under `prefix` that pass the filter, in no order (as they were, while
        the view stands in the past)."""
        keys = self.store.keys(prefix, sort=False)
        travel = self.travel
        if travel is not None:
            keys = [key for key in keys if key not in travel.then]
            keys += [k for k, c in travel.then.items() if c is not None and k.startswith(prefix)]
        return keys if self.key_filter is None else self.key_filter.select(keys)

    def entry(self, key: str) -> Entry | None:
        """The key's value with its metadata, as the view shows it (now, or then)."""
        travel = self.travel
        return self.store.entry(key) if travel is None else travel.entry(key)

    # -- time travel ---------------------------------------------------------------------

    def travel_to_past(self) -> TimeTravel:
        """Stand the view at the last change the models took, to step back from there."""
        self.travel = TimeTravel(self.store, self.revision)
        return self.travel

    def step(self, changes: Sequence[Change]) -> set[str]:
        """Bring the models to the view's revision after stepping over `changes`; return
        the keys they touched."""
        travel = self.travel
        assert travel is not None
        touched = {change.key for change in changes}
        shown = self.key_filter
        for key in touched:
            if shown is not None and not shown(key):
                continue
            if travel.exists(key):
                self.index.add(key)
            else:
                self.index.remove(key)
        if any(self.progress.watches(key) for key in touched):
            self.reload_progress()
        return touched

    def back_to_live(self) -> None:
        """Leave the past: the models read the store as it is now, afresh."""
        self.travel = None
        self.reindex()
        self.reload_progress()

    def refilter(self, key_filter: KeyFilter | None) -> None:
        """Narrow the index to another filter (None: every key), read afresh."""
        self.key_filter = key_filter
        self.reindex()

    def reindex(self) -> None:
        """Read the keys afresh into a new index, through the filter (a store read over
        the network: into an empty index, a batch at a time)."""
        if self.store.remote and self.travel is None:
            if self.store.link_error is not None:  # read once it is back; keep what is shown
                self.stale = True
                return
            self.stale = False
            if self.load is not None:
                self.load.cancel()
            self.index = KeyIndex(self.index.delimiter, ())
            self._told.clear()
            self._matches = None if self.key_filter is None else []
            self.load = KeyLoad(self.store)
            return
        self.index = KeyIndex(self.index.delimiter, self.keys_under(""))

    def reload_expiries(self) -> None:
        """Read every key's expiry afresh."""
        self.expires.clear()
        self.expires.update(self.store.expirations())

    def reload_progress(self) -> None:
        """Read the progress keys (and the pinned ones) the store holds now, afresh (a
        store out of reach: they stay as they were)."""
        with contextlib.suppress(StateError):
            self._read_progress()

    def _read_progress(self) -> None:
        old, store = self.progress, self.store
        tracker = ProgressTracker(old.prefix)
        for key in sorted(old.pinned):
            entry = self.entry(key)
            if entry is not None:
                tracker.pin(key, entry.value, entry.time, entry.source)
        keys = store.keys(old.prefix) if self.travel is None else self._progress_keys_then()
        found = [(key, self.entry(key)) for key in keys]
        tracker.load((key, e.value, e.time, e.source) for key, e in found if e)
        self.progress = tracker  # whole, or not at all

    def _progress_keys_then(self) -> list[str]:
        keys = set(self.store.keys(self.progress.prefix, sort=False))
        assert self.travel is not None
        keys |= {key for key in self.travel.then if key.startswith(self.progress.prefix)}
        return sorted(keys)

    async def catch_up(self) -> Update | None:
        """Apply what changed since the last call; None when nothing did (or resting).

        After a flood (BUSY_CHANGES or more), the next call rests and returns None: a busy
        store is then drawn 10 times a second rather than 20, and the scripts get the time.
        """
        if self._resting:
            self._resting = False
            return None
        changes, dropped = self._subscription.drain()
        if self.stale and self.store.link_error is None:  # back: read what was put off
            dropped = max(dropped, 1)  # the models are read afresh, as after an overflow
        if self.load is not None:
            if changes:
                self._told.update(change.key for change in changes)
            loaded, ended = await self._add_loaded(self.load)
            if loaded or ended:
                update = await self._apply(changes, dropped) if changes or dropped else Update()
                update.loaded = loaded
                update.progress_changed |= ended  # the progress keys were read afresh
                if ended and self._matches is not None:
                    update.matches = sorted(key for key in self._matches if key in self.index)
                    self._matches = None
                return update
        if not changes and not dropped:
            return None
        return await self._apply(changes, dropped)

    async def _apply(self, changes: Sequence[Change], dropped: int) -> Update:
        """Bring the models up to date with changes (and `dropped` more, lost)."""
        if changes:
            self.revision = max(self.revision, changes[-1].version)
        if dropped:
            self.reload_expiries()
        travel = self.travel
        if travel is not None:
            # The view stays where it stands; the first live change of a key freezes the
            # value the key had there.
            if dropped:
                travel.resync()
                touched = set(travel.then)
            else:
                self._note_expiries(changes)
                touched = travel.follow(changes)
            return Update(changes, dropped, touched, travelling=True)
        self._resting = len(changes) >= BUSY_CHANGES
        if dropped:
            # The feed overflowed: some changes are lost, so read everything afresh (at
            # the store's revision now, which a store that started again put back).
            self.revision = self.store.revision
            self.reindex()
            self.reload_progress()
            return Update(changes, dropped, progress_changed=True)
        await self._index(changes)
        touched = {change.key for change in changes}
        if not touched.isdisjoint(self.value_history.keys):
            self.value_history.apply(changes)
        return Update(changes, 0, touched, self.progress.apply(changes))

    async def _add_loaded(self, load: KeyLoad) -> tuple[int, bool]:
        """Add the keys the load read since the last call to the index, a slice at a
        time; how many, and whether the load is over (the models then read the keys'
        expiries and the progress keys)."""
        add: Callable[[str], bool] = self.index.add
        shown, told, count = self.key_filter, self._told, 0
        if self.travel is not None:  # what changed since the view's revision is its to say
            told = told | self.travel.then.keys()
        finished = load.done  # first: once it is, every batch is there to take
        for batch in load.take():
            for start in range(0, len(batch), CHUNK):
                if count:
                    await asyncio.sleep(0)
                for key in batch[start : start + CHUNK]:
                    if key not in told and (shown is None or shown(key)):
                        add(key)
                        self._note_match(key)
                count += min(CHUNK, len(batch) - start)
        if not finished or load is not self.load:
            return count, False
        for key, at in (load.expires or {}).items():
            if key not in told:
                self.expires[key] = at
        self.load, self._told = None, set()
        self.reload_progress()
        return count, True

    def _note_match(self, key: str) -> None:
        matches = self._matches
        if matches is not None:
            if len(matches) < MATCHES_KEPT:
                matches.append(key)
            else:
                self._matches = None  # too many to open them all

    async def _index(self, changes: Sequence[Change]) -> None:
        """Apply changes to the key index and the expiries, a slice at a time, so that a
        flood of changes does not freeze the app."""
        add: Callable[[str], bool] = self.index.add
        remove: Callable[[str], bool] = self.index.remove
        shown = self.key_filter
        for start in range(0, len(changes), CHUNK):
            if start:
                await asyncio.sleep(0)
            chunk = changes[start : start + CHUNK]
            for change in chunk:
                if shown is not None and not shown(change.key):
                    continue
                if change.op is Op.SET:
                    add(change.key)
                else:
                    remove(change.key)
            self._note_expiries(chunk)

    def _note_expiries(self, changes: Sequence[Change]) -> None:
        """Take the expiries the changes set or cleared."""
        expires = self.expires
        if not expires and not any(map(_expires_of, changes)):
            return  # no key has a TTL, nor gets one: the usual store, looked at in C
        for change in changes:
            if change.op is Op.SET and change.expires:
                expires[change.key] = change.expires
            elif expires:
                expires.pop(change.key, None)
