"""The shared store: thread-safe, JSON-valued, versioned, with a change feed."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import partial
from pathlib import Path
from typing import Any

import orjson

from tui.state import codec, expiry, limits
from tui.state.backends import Backend, Entry, MemoryBackend
from tui.state.change import DEFAULT_BUFFER, Change, Op, Subscription
from tui.state.change_log import ChangeLog, MemoryChangeLog
from tui.state.errors import StateError
from tui.state.expiry import Expiry, Sweeper, check_ttl, seconds_left
from tui.state.keys import check_key, check_prefix, is_plain_key, type_name
from tui.state.limits import Limits

# A Change built from a ready tuple, without NamedTuple's Python-level constructor:
# it is made for every write while someone watches.
_change = partial(tuple.__new__, Change)

MISSING = 0
"""The version of a key that does not exist (real versions start at 1)."""

KEEP_TTL = -1.0
"""As a write's `ttl`: the key keeps the TTL it has (`incr`, `update`)."""


class Store:
    """One store shared by every script run, the console, the editor and the UI.

    Values are held as JSON, so every read returns a fresh copy. Every mutation gets
    the next store revision as the key's version, is kept in the change log (the
    history) and is published to subscribers as a Change. All methods are safe to call
    from any thread.

    `read_only` (a reason) makes every write raise StateError with it: a store that
    follows one another process owns is changed only by `apply`.

    A key may have a TTL (`expires`: when it expires). A key whose time has come is
    gone for every reader at once; a background sweeper then removes it as a change
    (op `expire`, source `ttl`). `limits` bound the keys and bytes the store holds.
    """

    def __init__(
        self,
        backend: Backend | None = None,
        *,
        log: ChangeLog | None = None,
        revision: int = 0,
        read_only: str | None = None,
        location: str = "memory",
        max_value_bytes: int = codec.DEFAULT_MAX_VALUE_BYTES,
        clock: Callable[[], float] = time.time,
        expires: Mapping[str, float] | None = None,
        limits: Limits | None = None,
        sweep: bool = True,
    ) -> None:
        self._backend = backend if backend is not None else MemoryBackend()
        self._read = self._backend.value  # bound once: the read hot path
        self._stored = self._backend.stored()
        self._overhead = self._backend.overhead
        self._expiry = Expiry()
        self._expires = self._expiry.at  # bound once: every read tests it
        for key, when in (expires or {}).items():
            self._expiry.set(key, when)
        self._sweeps = sweep
        self._sweeper: Sweeper | None = None
        self._limits = Limits()
        self._limited = False  # bool(self._limits), kept as a plain attribute for writes
        self._bytes = 0
        self._bytes_known = False
        self._order: OrderedDict[str, None] | None = None  # write order, when evicting
        self._log = log if log is not None else MemoryChangeLog()
        self._record = self._log.record
        self.location = location
        """Where the store lives, as a person reads it: "memory", or the file's path."""
        self.max_value_bytes = max_value_bytes
        self._clock = clock
        self._lock = threading.Lock()
        self._revision = revision
        self._refusal = read_only
        self._subscribers: tuple[Subscription, ...] = ()
        self._to_notify: list[Subscription] = []
        self._closers: list[Callable[[], None]] = []
        self.link_error: str | None = None
        """Why a store shared over the network cannot be reached now, or None."""
        self.reloads = 0
        """Times this process lost track of a shared store's changes and read it again."""
        if limits:
            self.set_limits(limits)
        if self._expires:
            self._start_sweeper()

    # -- what it is ---------------------------------------------------------------

    @property
    def revision(self) -> int:
        """The revision of the last change (0 for a store never written)."""
        return self._revision

    remote = False
    """Whether reads go over the network (each one a round trip, and listing every key
    takes a while): the app then reads the keys in batches, off its own thread."""

    @property
    def read_only(self) -> str | None:
        """Why writes are refused, or None when they are not."""
        return self._refusal

    @property
    def history(self) -> int:
        """Versions of each key the change log keeps (0: none)."""
        return self._log.history

    def refuse_writes(self, reason: str) -> None:
        """From now on every write raises StateError(reason) (the file broke, the owner left)."""
        self._refusal = reason

    def take_log(self, log: ChangeLog, location: str) -> ChangeLog:
        """Keep changes in `log` from now on, and accept writes: a follower became the
        owner. Returns the log it replaces."""
        with self._lock:
            old, self._log, self._record = self._log, log, log.record
            self.location = location
            self._refusal = None
        if self._expires:
            self._start_sweeper()
        return old

    def on_close(self, closer: Callable[[], None]) -> None:
        """Call `closer` when the store is closed (last added, first called)."""
        self._closers.append(closer)

    def close(self) -> None:
        """Make every change durable and let go of the file, if any. Safe to call twice."""
        if self._sweeper is not None:
            self._sweeper.stop()
            self._sweeper = None
        self._log.close()
        while self._closers:
            self._closers.pop()()

    def flush(self) -> None:
        """Make every change made so far durable (a no-op for a store in memory)."""
        self._log.flush()

    # -- reads -----------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._backend)

    def versions(self, key: str, limit: int | None = None) -> list[Change]:
        """The kept versions of `key` (deletes included), newest first."""
        check_key(key)
        log = self._log
        if not log.in_memory:
            return log.versions(key, limit)
        with self._lock:
            return log.versions(key, limit)

    def changes_since(self, revision: int, limit: int | None = None) -> list[Change]:
        """The kept changes after `revision`, oldest first."""
        log = self._log
        if not log.in_memory:
            return log.since(revision, limit)
        with self._lock:
            return log.since(revision, limit)

    def get(self, key: str) -> Any:
        """A fresh copy of the value of `key`, or None when it is missing."""
        data = self.get_encoded(key)
        return None if data is None else codec.decode(data)

    # Reads of one key take no lock: a backend answers them atomically (see Backend).

    def get_encoded(self, key: str) -> bytes | None:
        """The value of `key` as JSON, or None when it is missing."""
        if type(key) is not str:
            check_key(key)
        data = self._read(key)
        if data is None:
            check_key(key)  # a key the store holds is valid: only a miss needs the check
        elif self._expires and self._expiry.expired(key, self._clock()):
            return None
        return data

    def entry(self, key: str) -> Entry | None:
        """The value of `key` as JSON with its version, time, source and expiry, or None."""
        check_key(key)
        entry = self._backend.get(key)
        if entry is None or not self._expires:
            return entry
        expires = self._expires.get(key)
        if expires is None:
            return entry
        return None if expires <= self._clock() else entry._replace(expires=expires)

    def exists(self, key: str) -> bool:
        """Whether `key` holds a value."""
        check_key(key)
        if key not in self._backend:
            return False
        return not (self._expires and self._expiry.expired(key, self._clock()))

    def keys(self, prefix: str = "", *, sort: bool = True) -> list[str]:
        """The keys that start with `prefix`, sorted unless `sort` is False."""
        check_prefix(prefix)
        with self._lock:
            if prefix:
                found = [key for key in self._backend if key.startswith(prefix)]
            else:
                found = list(self._backend)
            if self._expires:
                found = self._unexpired(found)
        if sort:
            found.sort()
        return found

    def key_batches(self, prefix: str = "") -> Iterator[list[str]]:
        """The keys that start with `prefix`, a batch at a time, in no order across
        batches: one batch here; a store read over the network (`remote`) lists a big
        store in many, so a reader can show the first while the rest come."""
        yield self.keys(prefix, sort=False)

    def snapshot(self) -> dict[str, Any]:
        """Every key and a copy of its value, sorted by key."""
        with self._lock:
            keys: Iterable[str] = self._backend
            if self._expires:
                keys = self._unexpired(list(keys))
            encoded = {key: self._backend.value(key) for key in keys}
        return {key: codec.decode(encoded[key]) for key in sorted(encoded)}  # type: ignore[arg-type]

    def _unexpired(self, keys: list[str]) -> list[str]:
        now, expires = self._clock(), self._expires
        return [key for key in keys if expires.get(key, now + 1) > now]

    # -- TTL and limits ------------------------------------------------------------

    def ttl(self, key: str) -> float | None:
        """The seconds `key` has left (to the millisecond), or None when it has no TTL
        or does not exist."""
        check_key(key)
        expires = self._expires.get(key)
        if expires is None:
            return None
        now = self._clock()
        return None if expires <= now else seconds_left(expires, now)

    def expirations(self) -> dict[str, float]:
        """When each key with a TTL expires (seconds since the epoch)."""
        with self._lock:
            now = self._clock()
            return {key: when for key, when in self._expires.items() if when > now}

    def next_expiry(self) -> float | None:
        """When the next key expires, or None when no key has a TTL."""
        with self._lock:
            return self._expiry.next_due()

    @property
    def limits(self) -> Limits:
        return self._limits

    def set_limits(self, new: Limits) -> None:
        """Bound the store from now on. A store already past them stays as it is; writes
        that add to it are refused (or make room, when evicting)."""
        with self._lock:
            self._limits = new
            self._limited = bool(new)
            if not new.evicts:
                self._order = None  # built when first needed (see `_evict_order`)

    @property
    def size(self) -> int:
        """The bytes the store holds: each key and its value's JSON."""
        with self._lock:
            self._count_bytes()
            return self._bytes

    def _count_bytes(self) -> None:
        if self._bytes_known:
            return
        stored, overhead = self._stored, self._overhead
        self._bytes = sum(
            _key_size(key) + len(stored(key) or b"") - overhead for key in self._backend
        )
        self._bytes_known = True

    def dump_json(self) -> bytes:
        """The whole store as one JSON object, keys sorted at every level (the `--dump` format)."""
        return dump_json(self.snapshot())

    def write_dump(self, path: Path) -> None:
        """Write `dump_json` (and a newline) to a file with `write_whole`.

        Raises OSError when the file cannot be written.
        """
        write_whole(path, self.dump_json() + b"\n")

    # -- writes ----------------------------------------------------------------

    def set(
        self, key: str, value: Any, *, source: str, origin: str = "", ttl: float | None = None
    ) -> int:
        """Store a Python value (as JSON gives it); None deletes.

        `ttl` (seconds) makes the key expire after that long; without one the key is
        permanent. Returns the key's new version (MISSING after a delete).
        """
        check_key(key)
        if value is None:
            self.delete(key, source=source, origin=origin)
            return MISSING
        data = codec.encode(value, self.max_value_bytes)
        return self.set_encoded(key, data, source=source, origin=origin, ttl=ttl)

    def set_encoded(
        self,
        key: str,
        data: bytes,
        *,
        source: str,
        origin: str = "",
        ttl: float | None = None,
    ) -> int:
        """Store JSON that already follows the storage rules. Returns the new version.

        Only for JSON made by `codec.encode` or the Lua converter: it is not re-checked.
        """
        if not is_plain_key(key):
            check_key(key)
        if len(data) > self.max_value_bytes:
            codec.check_size(data, self.max_value_bytes)
        if ttl is not None:
            ttl = check_ttl(ttl)
        if self._refusal is not None:
            raise StateError(self._refusal)
        with self._lock:
            version = self._put(key, data, source, origin, ttl)
        if self._to_notify:
            self._notify()
        return version

    def compare_and_set(
        self, key: str, value: Any, expected_version: int, *, source: str, origin: str = ""
    ) -> bool:
        """Store a Python value (None deletes) only if `key` is still at `expected_version`.

        `expected_version` is MISSING for a key that should not exist yet. Returns
        False, changing nothing, when another writer got there first. The key keeps
        its TTL.
        """
        data = None if value is None else codec.encode(value, self.max_value_bytes)
        return self.compare_and_set_encoded(
            key, data, expected_version, source=source, origin=origin
        )

    def compare_and_set_encoded(
        self,
        key: str,
        data: bytes | None,
        expected_version: int,
        *,
        source: str,
        origin: str = "",
        ttl: float | None = KEEP_TTL,
    ) -> bool:
        """`compare_and_set` for JSON that already follows the storage rules; `ttl` as
        for `set` (by default the key keeps its TTL)."""
        check_key(key)
        if data is not None:
            codec.check_size(data, self.max_value_bytes)
        if ttl is not None and ttl != KEEP_TTL:
            ttl = check_ttl(ttl)
        self._check_writable()
        with self._lock:
            self._settle(key)
            current = self._backend.get(key)
            if (current.version if current is not None else MISSING) != expected_version:
                return False
            if data is not None:
                self._put(key, data, source, origin, ttl)
            elif current is not None:
                self._remove(key, source, origin)
        self._notify()
        return True

    def versioned(self, key: str) -> tuple[bytes | None, int]:
        """The JSON of `key` (None when missing) and its version (MISSING when missing)."""
        entry = self.entry(key)
        return (None, MISSING) if entry is None else (entry.value, entry.version)

    def delete(self, key: str, *, source: str, origin: str = "") -> bool:
        """Remove `key`; True when it existed."""
        check_key(key)
        self._check_writable()
        with self._lock:
            self._settle(key)
            if key not in self._backend:
                gone = False
            else:
                self._remove(key, source, origin)
                gone = True
        self._notify()
        return gone

    def delete_many(self, keys: Iterable[str], *, source: str, origin: str = "") -> int:
        """Remove each of `keys` at once (those that exist); return how many went."""
        keys = [check_key(key) for key in keys]
        self._check_writable()
        with self._lock:
            gone = 0
            for key in keys:
                self._settle(key)
                if key in self._backend:
                    self._remove(key, source, origin)
                    gone += 1
        self._notify()
        return gone

    def incr(self, key: str, by: int | float = 1, *, source: str, origin: str = "") -> int | float:
        """Add `by` to the number at `key` atomically (missing counts as 0); return the
        sum. The key keeps its TTL."""
        check_key(key)
        if type(by) not in (int, float):
            raise StateError(f"increment must be a number, got {type_name(by)}")
        self._check_writable()
        with self._lock:
            self._settle(key)
            data = self._backend.value(key)
            current = 0 if data is None else codec.decode(data)
            if type(current) not in (int, float):
                raise StateError(f"{key!r} holds {json_type(current)}, not a number")
            total = current + by
            codec.check_number(total, ())
            self._put(key, orjson.dumps(total), source, origin, KEEP_TTL)
        self._notify()
        return total

    def expire(self, key: str, seconds: float, *, source: str, origin: str = "") -> bool:
        """Make `key` expire `seconds` from now (replacing any TTL it has): a change of
        the key, its value as it is. False, changing nothing, when it is missing."""
        check_key(key)
        ttl = check_ttl(seconds)
        return self._retime(key, ttl, source, origin)

    def persist(self, key: str, *, source: str, origin: str = "") -> bool:
        """Remove the TTL of `key` (a change of the key, its value as it is). False,
        changing nothing, when it is missing or has no TTL."""
        check_key(key)
        return self._retime(key, None, source, origin)

    def _retime(self, key: str, ttl: float | None, source: str, origin: str) -> bool:
        self._check_writable()
        with self._lock:
            self._settle(key)
            data = self._backend.value(key)
            if data is None or (ttl is None and key not in self._expires):
                return False
            self._put(key, data, source, origin, ttl)
        self._notify()
        return True

    def clear(self, prefix: str, *, source: str, origin: str = "") -> int:
        """Delete every key that starts with `prefix` (all of them for ""); return how many."""
        check_prefix(prefix)
        self._check_writable()
        with self._lock:
            if self._expires:
                self._sweep_due(self._clock(), None)
            doomed = [key for key in self._backend if key.startswith(prefix)]
            for key in doomed:
                self._remove(key, source, origin)
        self._notify()
        return len(doomed)

    def load(
        self,
        values: Mapping[str, Any],
        *,
        source: str,
        expires: Mapping[str, float] | None = None,
    ) -> int:
        """Set many keys from a mapping, all checked before any is written (the limits
        too); return how many. A key in `expires` expires then (seconds since the
        epoch); one whose time has already come is left out."""
        encoded = encode_values(values, self.max_value_bytes)
        self._check_writable()
        with self._lock:
            now = self._clock()
            if expires:
                encoded = [(key, data) for key, data in encoded if expires.get(key, now + 1) > now]
            if self._limited:
                self._check_room_for(encoded)
            for key, data in encoded:
                at = expires.get(key) if expires else None
                self._put(key, data, source, "", None if at is None else at - now)
        self._notify()
        return len(encoded)

    def sweep(self, limit: int = expiry.SLICE) -> int:
        """Remove up to `limit` keys whose TTL has run out, each as a change (op
        `expire`, source `ttl`); return how many went. The sweeper calls this."""
        if self._refusal is not None or not self._expires:
            return 0
        with self._lock:
            removed = self._sweep_due(self._clock(), limit)
        self._notify()
        return removed

    # -- change feed -------------------------------------------------------------

    def subscribe(
        self, *, maxlen: int = DEFAULT_BUFFER, on_ready: Callable[[], None] | None = None
    ) -> Subscription:
        """Start receiving a Change for every mutation from now on."""
        subscription = Subscription(self._unsubscribe, maxlen, on_ready)
        subscription.after = self._feed_starts_after()
        with self._lock:
            self._subscribers = (*self._subscribers, subscription)
        return subscription

    def _feed_starts_after(self) -> int:
        """The revision a new subscription's changes come after (see `Subscription.after`):
        none to leave out here, where changes are handed on as they are made."""
        return 0

    def in_step(self, timeout: float = 5.0) -> bool:
        """Wait until this process's subscribers have been handed every change made up
        to now; whether they were within `timeout` seconds. At once here, where each
        write hands its change on before it returns; a store shared over the network
        hands changes on as they arrive from it."""
        return True

    def _unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            self._subscribers = tuple(s for s in self._subscribers if s is not subscription)

    def apply(self, changes: list[Change], revision: int = 0) -> None:
        """Make changes another process made (in order, with their own versions), as a
        follower does: they are published, not recorded (the owner's log has them).
        `revision` is the store's revision after them, when it is known to be later."""
        with self._lock:
            backend, expiry_of, stored = self._backend, self._expiry, self._stored
            counted, overhead = self._bytes_known, self._overhead  # see `_put`
            for change in changes:
                key = change.key
                old = stored(key) if counted else None
                if change.op is Op.SET:
                    assert change.value is not None
                    backend.put(
                        key,
                        change.value,
                        change.version,
                        change.time,
                        change.source,
                        change.origin,
                    )
                    if change.expires:
                        expiry_of.set(key, change.expires)
                    else:
                        expiry_of.drop(key)
                    if counted:
                        self._bytes += len(change.value) + (
                            _key_size(key) if old is None else overhead - len(old)
                        )
                else:
                    backend.delete(key)
                    expiry_of.drop(key)
                    if counted and old is not None:
                        self._bytes -= len(old) - overhead + _key_size(key)
                if self._subscribers:
                    self._publish(change)
                self._revision = change.version
            self._revision = max(self._revision, revision)
        self._notify()

    def _check_writable(self) -> None:
        if self._refusal is not None:
            raise StateError(self._refusal)

    def _start_sweeper(self) -> None:
        if self._sweeper is None and self._sweeps and self._refusal is None:
            self._sweeper = Sweeper(self, self._clock)

    # -- internals (called with the lock held) -------------------------------------

    def _settle(self, key: str) -> None:
        """Remove `key` first if its time has come: a write sees it as missing."""
        if self._expires and self._expiry.expired(key, now := self._clock()):
            self._remove(key, expiry.SOURCE, "", Op.EXPIRE, now)

    def _sweep_due(self, now: float, limit: int | None) -> int:
        due = self._expiry.due(now, limit)
        for key in due:
            if key in self._backend:
                self._remove(key, expiry.SOURCE, "", Op.EXPIRE, now)
            else:
                self._expiry.drop(key)
        return len(due)

    def _put(self, key: str, data: bytes, source: str, origin: str, ttl: float | None) -> int:
        now = self._clock()
        expires = self._expires
        if expires and key in expires and expires[key] <= now:
            self._remove(key, expiry.SOURCE, "", Op.EXPIRE, now)
        old = self._stored(key)
        if self._limited:
            self._make_room(key, old, len(data), now)
        if ttl is None:
            until = 0.0
        elif ttl == KEEP_TTL:
            until = expires.get(key, 0.0)
        else:
            until = round(now + ttl, 3)
        version = self._revision + 1
        change = _change((Op.SET, key, version, source, now, data, origin, old is None, until))
        self._record(change)  # first: a log that must commit at once may refuse it
        self._revision = version
        self._backend.put(key, data, version, now, source, origin)
        if self._bytes_known:  # counted once someone asked (a limit, the app's gauge)
            self._bytes += (
                len(data) - len(old) + self._overhead
                if old is not None
                else len(data) + _key_size(key)
            )
        if until:
            self._expiry.set(key, until)
            if self._sweeper is None:
                self._start_sweeper()
            elif until <= (self._expiry.next_due() or until):
                self._sweeper.wake()
        elif expires and key in expires:
            del expires[key]
        if self._order is not None:
            self._order[key] = None
            self._order.move_to_end(key)
        if self._subscribers:
            self._publish(change)
        return version

    def _remove(
        self, key: str, source: str, origin: str, op: Op = Op.DELETE, now: float = 0.0
    ) -> None:
        version = self._revision + 1
        change = _change((op, key, version, source, now or self._clock(), None, origin, False, 0.0))
        self._record(change)
        self._revision = version
        old = self._stored(key)
        self._backend.delete(key)
        if old is not None and self._bytes_known:
            self._bytes -= len(old) - self._overhead + _key_size(key)
        if self._expires:
            self._expires.pop(key, None)
        if self._order is not None:
            self._order.pop(key, None)
        if self._subscribers:
            self._publish(change)

    def _make_room(self, key: str, old: bytes | None, size: int, now: float) -> None:
        """Make sure a write of `size` bytes to `key` fits the limits, evicting the
        least recently written keys when the store does; raise StateError if not."""
        self._count_bytes()
        bound = self._limits
        new_key = old is None
        adding = size - (len(old) - self._overhead) if old is not None else size + _key_size(key)
        if not bound.over(len(self._backend) + new_key, self._bytes + adding):
            return
        if self._expires:  # expired keys not swept yet make room first
            self._sweep_due(now, None)
            if not bound.over(len(self._backend) + new_key, self._bytes + adding):
                return
        if not bound.evicts:
            raise bound.full(len(self._backend), self._bytes, new_key, adding)
        if bound.max_bytes and size + _key_size(key) > bound.max_bytes:
            raise bound.too_big(size + _key_size(key))
        order = self._evict_order()
        while bound.over(len(self._backend) + new_key, self._bytes + adding):
            victim = next((other for other in order if other != key), None)
            if victim is None:
                raise bound.too_big(size + _key_size(key))
            if victim in self._backend:
                self._remove(victim, limits.SOURCE, "", Op.EVICT, now)
            else:
                del order[victim]

    def _evict_order(self) -> OrderedDict[str, None]:
        """The keys, least recently written first: built from their versions the first
        time a key must be evicted, and kept up to date by every write from then on."""
        if self._order is None:
            entries = ((self._backend.get(key), key) for key in self._backend)
            by_version = sorted((entry.version, key) for entry, key in entries if entry)
            self._order = OrderedDict.fromkeys(key for _, key in by_version)
        return self._order

    def _check_room_for(self, encoded: list[tuple[str, bytes]]) -> None:
        """Raise StateError when setting every one of `encoded` cannot fit the limits."""
        self._count_bytes()
        bound, stored = self._limits, self._stored
        keys, size = len(self._backend), self._bytes
        fresh, own = 0, 0
        for key, data in encoded:
            old = stored(key)
            own += len(data) + _key_size(key)
            if old is None:
                keys += 1
                fresh += 1
                size += _key_size(key) + len(data)
            else:
                size += len(data) - (len(old) - self._overhead)
        if not bound.over(keys, size):
            return
        if bound.evicts and not bound.over(len(encoded), own):
            return  # evicting older keys makes room for them all
        raise bound.full(len(self._backend), self._bytes, fresh > 0, size - self._bytes)

    def _publish(self, change: Change) -> None:
        for subscription in self._subscribers:
            if subscription.push(change):
                self._to_notify.append(subscription)

    def _notify(self) -> None:
        # Called by writers after the lock is released, so that a subscriber's
        # callback may read the store (or fail) without holding up writers.
        if self._to_notify:
            with self._lock:
                waiting, self._to_notify = self._to_notify, []
            for subscription in waiting:
                subscription.notify()


def dump_json(value: Any) -> bytes:
    """A value as JSON, indented, keys sorted at every level: for the whole store (an
    object of keys and values), the `--dump` format."""
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)


def write_whole(path: Path, data: bytes) -> None:
    """Write a file, replaced whole: never half written.

    The new file is synced to disk before it replaces the old one, and the folder
    after (where the system can sync a folder), so a crash leaves one or the other.
    A symlink is written through: its target is replaced, the link stays. Something
    that is not a file (/dev/stdout, a pipe) is written as it is.

    Raises OSError when the file cannot be written.
    """
    if path.exists() and not path.is_file():
        path.write_bytes(data)
        return
    path = Path(os.path.realpath(path))  # through a symlink: the link stays a link
    partial_file = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        with partial_file.open("wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())  # on disk before it takes the old file's place
        partial_file.replace(path)
    finally:
        partial_file.unlink(missing_ok=True)
    _sync_folder(path.parent)


def _key_size(key: str) -> int:
    return len(key) if key.isascii() else len(key.encode())


def encode_values(values: Mapping[str, Any], max_bytes: int) -> list[tuple[str, bytes]]:
    """Every key checked and its value encoded, for a load: the first that breaks a rule
    is a StateError that names the key."""
    encoded: list[tuple[str, bytes]] = []
    for key, value in values.items():
        check_key(key)
        if value is None:
            raise StateError(f"{key!r}: a key cannot hold null (leave the key out)")
        try:
            encoded.append((key, codec.encode(value, max_bytes)))
        except StateError as error:
            raise StateError(f"{key!r}: {error}") from None
    return encoded


def json_type(value: object) -> str:
    """What kind of JSON value `value` is, as a sentence says it ("an object")."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "null" if value is None else "a number"


def _sync_folder(folder: Path) -> None:
    """Make a rename in `folder` last through a crash, where the system can sync a folder."""
    try:
        descriptor = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # Windows cannot open a folder to sync it
        return
    try:
        with contextlib.suppress(OSError):  # some file systems refuse to sync a folder
            os.fsync(descriptor)
    finally:
        os.close(descriptor)
