"""`RedisStore`: the `Store` API over a Redis namespace shared by many processes.

Reads go to Redis; writes run the server-side scripts (see scripts.py); subscribers
are fed by one ChangeStream, this process's own writes included, so every subscriber
sees every change once and in revision order, whoever made it.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import orjson

from tui.state import codec, expiry
from tui.state.backends import Entry
from tui.state.change import Change
from tui.state.change_log import DEFAULT_HISTORY, ChangeLog
from tui.state.errors import StateError, StoreUnreachable
from tui.state.expiry import Sweeper, check_ttl
from tui.state.keys import check_key, check_prefix, type_name
from tui.state.limits import Limits
from tui.state.redis.connection import RedisConnection
from tui.state.redis.scripts import stream_length
from tui.state.redis.stream import ChangeStream
from tui.state.store import MISSING, Store, encode_values, json_type


class RedisStore(Store):
    """The store in a Redis namespace: every process that opens it shares it."""

    def __init__(self, connection: RedisConnection, *, history: int | None = None) -> None:
        """`history`: the versions of each key to keep, kept in the namespace for every
        process (None: as the namespace says, 100 when it never did)."""
        super().__init__(log=ChangeLog(), location=connection.address.shown, sweep=False)
        self._redis = connection
        if history is None:
            history = connection.history()
        elif history != connection.history():
            connection.set_history(history)
        self._history = DEFAULT_HISTORY if history is None else history
        self._stream_length = stream_length(self._history)
        self._revision = connection.revision()
        self._limits = Limits(*connection.limits())
        self._arrival = threading.Condition()  # the stream handed changes on
        # The change stream is followed from the first subscription on: a process that
        # only writes (a `stateui run` that never waits) does not read back every change.
        self._stream: ChangeStream | None = None
        self._stream_lock = threading.Lock()
        self.on_close(connection.close)
        # Every process sweeps: the script records each expiry once, whoever runs it.
        self._sweeper = Sweeper(self)

    def close(self) -> None:
        # The link goes first: the sweeper and the stream, perhaps waiting on a server
        # that answers nothing, then stop at once rather than at their timeout.
        self._redis.close()
        super().close()

    # -- what it is ---------------------------------------------------------------------

    @property
    def revision(self) -> int:
        """The store's revision, from the server; while it cannot be reached, the last
        one this process saw (the app goes on showing what it had)."""
        if self.link_error is not None:  # known to be away: no wait on the way
            return self._revision
        try:
            return self._redis.revision()
        except StateError:
            return self._revision

    remote = True

    @property
    def history(self) -> int:
        return self._history

    # -- reads ----------------------------------------------------------------------------

    def _linked(self) -> None:
        # While the stream knows the server is away, a call fails at once with why,
        # rather than waiting out the timeout again (an app's key press would freeze).
        reason = self.link_error
        if reason is not None:
            raise StoreUnreachable(reason)

    def _check_writable(self) -> None:
        super()._check_writable()
        self._linked()

    def __len__(self) -> int:
        self._linked()
        return self._redis.size()[0]

    def get_encoded(self, key: str) -> bytes | None:
        check_key(key)
        self._linked()
        return self._redis.value(key)

    def entry(self, key: str) -> Entry | None:
        check_key(key)
        self._linked()
        return self._redis.entry(key)

    def exists(self, key: str) -> bool:
        return self.get_encoded(key) is not None

    def keys(self, prefix: str = "", *, sort: bool = True) -> list[str]:
        check_prefix(prefix)
        self._linked()
        return self._redis.keys(prefix)  # in key order already

    def key_batches(self, prefix: str = "") -> Iterator[list[str]]:
        check_prefix(prefix)
        self._linked()
        return self._redis.key_batches(prefix)

    def snapshot(self) -> dict[str, Any]:
        found = {}
        for keys in self.key_batches():  # in key order, a batch a round trip
            for key, entry in zip(keys, self._redis.entries(keys), strict=True):
                if entry is not None:
                    found[key] = codec.decode(entry.value)
        return found

    def ttl(self, key: str) -> float | None:
        check_key(key)
        self._linked()
        return self._redis.ttl(key)

    def expirations(self) -> dict[str, float]:
        self._linked()
        now = time.time()
        return {key: at for key, at in self._redis.expiring().items() if at > now}

    def next_expiry(self) -> float | None:
        self._linked()
        return self._redis.next_expiry()

    def sweep(self, limit: int = expiry.SLICE) -> int:
        if self._refusal is not None:
            return 0
        return self._redis.expire_due(limit, self._stream_length)

    def changes_since(self, revision: int, limit: int | None = None) -> list[Change]:
        self._linked()
        return self._redis.since(revision, limit)

    def versions(self, key: str, limit: int | None = None) -> list[Change]:
        check_key(key)
        self._linked()
        if not self._history:
            return []
        return self._redis.versions(key, self._history if limit is None else limit)

    # -- writes ---------------------------------------------------------------------------

    def set_encoded(
        self,
        key: str,
        data: bytes,
        *,
        source: str,
        origin: str = "",
        ttl: float | None = None,
    ) -> int:
        check_key(key)
        codec.check_size(data, self.max_value_bytes)
        if ttl is not None:
            ttl = check_ttl(ttl)
        self._check_writable()
        return self._redis.set(
            key, data, source=source, origin=origin, ttl=ttl, maxlen=self._stream_length
        )

    def expire(self, key: str, seconds: float, *, source: str, origin: str = "") -> bool:
        check_key(key)
        ttl = check_ttl(seconds)
        self._check_writable()
        return bool(
            self._redis.retime(key, ttl, source=source, origin=origin, maxlen=self._stream_length)
        )

    def persist(self, key: str, *, source: str, origin: str = "") -> bool:
        check_key(key)
        self._check_writable()
        return bool(
            self._redis.retime(key, None, source=source, origin=origin, maxlen=self._stream_length)
        )

    def compare_and_set_encoded(
        self,
        key: str,
        data: bytes | None,
        expected_version: int,
        *,
        source: str,
        origin: str = "",
        ttl: float | None = -1.0,
    ) -> bool:
        check_key(key)
        self._check_writable()
        if data is None:
            if expected_version == MISSING:
                return self._redis.value(key) is None
            done = self._redis.delete(
                key,
                source=source,
                origin=origin,
                maxlen=self._stream_length,
                expected=expected_version,
            )
            return done > 0
        codec.check_size(data, self.max_value_bytes)
        return (
            self._redis.set(
                key,
                data,
                source=source,
                origin=origin,
                ttl="keep" if ttl == -1.0 else ttl,
                maxlen=self._stream_length,
                expected=expected_version,
            )
            > 0
        )

    def delete(self, key: str, *, source: str, origin: str = "") -> bool:
        check_key(key)
        self._check_writable()
        return self._redis.delete(key, source=source, origin=origin, maxlen=self._stream_length) > 0

    def clear(self, prefix: str, *, source: str, origin: str = "") -> int:
        check_prefix(prefix)
        self._check_writable()
        return self._redis.clear(prefix, source=source, origin=origin, maxlen=self._stream_length)

    @property
    def limits(self) -> Limits:
        """The limits, which any process may change; while the server cannot be
        reached, as it last said."""
        if self.link_error is None:
            with contextlib.suppress(StateError):
                self._limits = Limits(*self._redis.limits())
        return self._limits

    def set_limits(self, new: Limits) -> None:
        self._redis.set_limits(new.max_keys, new.max_bytes, new.when_full)
        self._limits = new

    @property
    def size(self) -> int:
        self._linked()
        return self._redis.size()[1]

    def load(
        self,
        values: Mapping[str, Any],
        *,
        source: str,
        expires: Mapping[str, float] | None = None,
    ) -> int:
        encoded = encode_values(values, self.max_value_bytes)
        self._check_writable()
        bound = self.limits
        if bound:
            keys, size = self._redis.size()
            names = [key for key, _ in encoded]
            fresh = sum(not there for there in self._redis.present(names))
            adding = sum(len(key) + len(data) for key, data in encoded)
            if not bound.evicts and bound.over(keys + fresh, size + adding):
                raise bound.full(keys, size, bool(fresh), adding)
        now = time.time()
        items: list[tuple[str, bytes, float | None]] = []
        for key, data in encoded:
            at = expires.get(key) if expires else None
            if at is None:
                items.append((key, data, None))
            elif at > now:
                items.append((key, data, at - now))
        self._redis.set_many(items, source=source, origin="", maxlen=self._stream_length)
        return len(items)

    def delete_many(self, keys: Iterable[str], *, source: str, origin: str = "") -> int:
        names = list(keys)
        for key in names:
            check_key(key)
        self._check_writable()
        return self._redis.delete_many(
            names, source=source, origin=origin, maxlen=self._stream_length
        )

    def incr(self, key: str, by: int | float = 1, *, source: str, origin: str = "") -> int | float:
        check_key(key)
        if type(by) not in (int, float):
            raise StateError(f"increment must be a number, got {type_name(by)}")
        self._check_writable()
        if type(by) is int:  # the common case: one script
            summed = self._redis.incr(
                key, by, source=source, origin=origin, maxlen=self._stream_length
            )
            if summed is not None:
                return summed
        while True:  # optimistic: the server writes only if nobody wrote meanwhile
            entry = self._redis.entry(key)
            current = 0 if entry is None else codec.decode(entry.value)
            if type(current) not in (int, float):
                raise StateError(f"{key!r} holds {json_type(current)}, not a number")
            total = current + by
            codec.check_number(total, ())
            version = MISSING if entry is None else entry.version
            if self.compare_and_set_encoded(
                key, orjson.dumps(total), version, source=source, origin=origin
            ):
                return total

    # -- the change feed ------------------------------------------------------------------------

    def _feed_starts_after(self) -> int:
        # The server's revision now: changes made before, still on their way here, are
        # not for a new subscription. The first one starts following the stream there.
        with self._stream_lock:
            revision = self.revision
            if self._stream is None:
                self._revision = revision
                self._stream = ChangeStream(
                    self._redis,
                    revision,
                    on_changes=self._arrived,
                    on_gap=self._trimmed,
                    on_error=self._link,
                ).start()
                self.on_close(self._stream.stop)
            return revision

    def in_step(self, timeout: float = 5.0) -> bool:
        if self._stream is None:
            return True  # nobody to hand changes to
        try:
            target = self._redis.revision()
        except StateError:
            return False
        with self._arrival:
            return self._arrival.wait_for(lambda: self._revision >= target, timeout)

    def _arrived(self, changes: list[Change]) -> None:
        with self._lock:
            subscribers = self._subscribers
            for change in changes:
                version = change.version
                for subscription in subscribers:
                    if version > subscription.after and subscription.push(change):
                        self._to_notify.append(subscription)
            self._revision = changes[-1].version
        self._notify()
        with self._arrival:
            self._arrival.notify_all()

    def _link(self, reason: str | None) -> None:
        # Set from the stream's thread; the app reads it (a disconnected store says so).
        self.link_error = reason

    def _trimmed(self, first: int) -> int:
        # The stream no longer reaches back to where this process was (or the server
        # came back without its data, numbering from 1 again): its subscribers are told
        # (as an overflow would), and it goes on from the store as it is now.
        revision = self._redis.revision()
        self.reloads += 1
        with self._lock:  # the subscribers' `dropped` count is how an overflow is told
            self._revision = revision
            for subscription in self._subscribers:
                subscription.dropped += 1
                subscription.after = 0  # the stream goes on after `revision`, whatever it is
                self._to_notify.append(subscription)
        self._notify()
        return revision
