"""A connection to the Redis store's namespace: its scripts, reads and the change stream.

Knows the layout (see scripts.py) and nothing of the `Store` API built over it. Every
failure reaches the caller as StateError naming the store by its URL, the password
masked: never a redis-py exception.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

import orjson

from tui.state.backends import Entry
from tui.state.change import Change, Op
from tui.state.errors import StateError, StoreUnreachable
from tui.state.location import PASSWORD_VARIABLE, RedisAddress
from tui.state.redis import scripts

PIPELINE = 1_000
"""Calls sent in one round trip by the batch writes and reads."""

VERSION_PAGE = 2_000
"""Stream entries read by one call while looking for a key's versions."""

KEY_BATCH = 10_000
"""Keys listed by one script (see `RedisConnection.key_batches`)."""

try:
    import redis as redis_py
    from redis.backoff import NoBackoff
    from redis.retry import Retry
except ImportError:  # the optional extra is not installed
    redis_py = None  # type: ignore[assignment]


class RedisConnection:
    """One client of one namespace of one Redis server."""

    def __init__(self, address: RedisAddress) -> None:
        if redis_py is None:
            raise StateError(
                f"{address.shown}: the Redis store needs redis-py: pip install 'stateui[redis]'"
            )
        self.address = address
        self.ns = address.namespace
        self.closed = False
        """Whether `close` cut the link (for good)."""
        self._client = redis_py.Redis(
            host=address.host,
            port=address.port,
            db=address.db,
            username=address.username,
            password=address.password,
            ssl=address.tls,
            socket_connect_timeout=address.timeout,
            socket_timeout=address.timeout,
            health_check_interval=0,
            # No silent retries: redis-py's default retries a refused connection with
            # backoff for seconds; the store says at once that the server is unreachable.
            retry=Retry(NoBackoff(), 0),
        )
        with self.failing("cannot connect"):
            self._client.ping()
            found = self._client.get(f"{self.ns}:format")
            if found is None:
                self._check_unclaimed()
                self._client.setnx(f"{self.ns}:format", scripts.FORMAT)
            else:
                self._check_format(found)
            # Which life of the namespace this is: a server back without its data is
            # told from one that kept it (see `ChangeStream`).
            self._client.set(f"{self.ns}:id", uuid.uuid4().hex, nx=True)
        self._set = self._client.register_script(scripts.SET)
        self._delete = self._client.register_script(scripts.DELETE)
        self._retime = self._client.register_script(scripts.RETIME)
        self._expire_due = self._client.register_script(scripts.EXPIRE_DUE)
        self._clear = self._client.register_script(scripts.CLEAR)
        self._incr = self._client.register_script(scripts.INCR)
        self._list = self._client.register_script(scripts.LIST)

    def _check_unclaimed(self) -> None:
        """Refuse a namespace without stateui's mark that holds keys by the names
        stateui would use: they are someone else's, and would be overwritten."""
        names = [f"{self.ns}:{name}" for name in scripts.OWN_KEYS]
        taken = int(self._client.exists(*names))
        if taken:
            raise StateError(
                f"{self.address.shown}: the namespace {self.ns!r} is not a stateui store "
                f"(it has no {self.ns}:format, and {taken} of the keys stateui keeps there "
                "already exist): choose another with ?namespace=NAME"
            )

    def _check_format(self, found: Any) -> None:
        """Refuse a namespace of a newer stateui, or of something else."""
        text = found.decode("utf-8", "replace") if isinstance(found, bytes) else str(found)
        if not (text.isascii() and text.isdigit()):
            raise StateError(
                f"{self.address.shown}: the namespace {self.ns!r} is not a stateui store "
                f"({self.ns}:format holds {text[:40]!r}): choose another with ?namespace=NAME"
            )
        if int(text) > scripts.FORMAT:
            raise StateError(
                f"{self.address.shown}: the namespace {self.ns!r} was written by a newer "
                f"stateui (layout {int(text)}; this stateui knows {scripts.FORMAT} and "
                "older): upgrade stateui to open it"
            )

    def failing(self, what: str) -> _Failing:
        """A context in which redis-py's errors become StateError: `URL: what: reason`."""
        if self.closed:  # no new link to the server once closed
            raise StateError(f"the store at {self.address.shown} is closed")
        return _Failing(self, what)

    def error_of(self, error: Exception, what: str) -> StateError | None:
        """The StateError a redis-py error (or a socket's) is, for a person; None for
        any other error."""
        assert redis_py is not None
        shown = self.address.shown
        if isinstance(error, redis_py.AuthenticationError):
            if self.address.password is None:  # the server's words name its protocol only
                return StateError(
                    f"{shown}: the server wants a password: give it in the URL "
                    f"(redis://:PASSWORD@HOST:PORT/DB) or in {PASSWORD_VARIABLE}"
                )
            return StateError(f"{shown}: wrong user or password ({error})")
        if isinstance(error, redis_py.ResponseError):
            text = str(error)
            if text.startswith("STATEUI "):  # a script's refusal, for the script's author
                return StateError(text.removeprefix("STATEUI "))
            if text.startswith("WRONGTYPE"):
                return StateError(
                    f"{shown}: the namespace {self.address.namespace!r} holds keys stateui "
                    f"did not write ({what}: {text}): choose another with ?namespace=NAME"
                )
            if "DB index is out of range" in text:
                return StateError(f"{shown}: there is no database {self.address.db} on this server")
            return StateError(f"{shown}: {what}: {text}")
        if isinstance(error, redis_py.ConnectionError | redis_py.TimeoutError | OSError):
            return StoreUnreachable(f"the store at {shown} is unreachable: {error}")
        return None

    def close(self) -> None:
        """Cut the link: a call waiting on the server fails at once (not at its
        timeout), and no later call makes a new one."""
        self.closed = True
        with contextlib.suppress(Exception):
            self._client.connection_pool.disconnect()
        with contextlib.suppress(Exception):
            self._client.close()

    # -- reads -------------------------------------------------------------------------

    def namespace_id(self) -> bytes | None:
        """The namespace's mark, made by the first process to open it (None: it is gone,
        as after a server came back without its data)."""
        with self.failing("cannot read"):
            found = self._client.get(f"{self.ns}:id")
        return found if isinstance(found, bytes) else None

    def revision(self) -> int:
        with self.failing("cannot read the revision"):
            found = self._client.get(f"{self.ns}:rev")
        return 0 if found is None else int(found)

    def value(self, key: str) -> bytes | None:
        with self.failing("cannot read"):
            found = self._client.get(f"{self.ns}:v:{key}")
        return found if isinstance(found, bytes) else None

    def entry(self, key: str) -> Entry | None:
        return self.entries([key])[0]

    def entries(self, keys: list[str]) -> list[Entry | None]:
        """The entries of `keys`, in one round trip of three commands (whatever their
        number): the values, their meta, and when those with a TTL expire, as the write
        that gave it noted (to the millisecond Redis's own expiry is)."""
        if not keys:
            return []
        ns = self.ns
        with self.failing("cannot read"):
            pipe = self._client.pipeline(transaction=True)
            pipe.mget([f"{ns}:v:{key}" for key in keys])
            pipe.hmget(f"{ns}:meta", keys)
            pipe.zmscore(f"{ns}:expiring", keys)
            values, metas, expiring = pipe.execute()
        return [
            _entry(value, meta, expires)
            for value, meta, expires in zip(values, metas, expiring, strict=True)
        ]

    def keys(self, prefix: str = "") -> list[str]:
        """The keys under `prefix`, in key order."""
        found: list[str] = []
        for batch in self.key_batches(prefix):
            found += batch
        return found

    def key_batches(self, prefix: str = "", size: int = KEY_BATCH) -> Iterator[list[str]]:
        """The keys under `prefix` in key order, `size` at a time: each batch is one
        short script, so a big namespace never holds the server up for long."""
        after = ""
        while True:
            with self.failing("cannot list the keys"):
                found: Any = self._list(args=[self.ns, prefix, after, size])
            yield [name.decode() for name in found[1:]]
            if not found[0]:
                return
            after = found[0].decode()

    def since(self, revision: int, limit: int | None = None) -> list[Change]:
        with self.failing("cannot read the change log"):
            rows: Any = self._client.xrange(
                f"{self.ns}:log", min=f"({revision}-0", max="+", count=limit
            )
        return [change_of(entry_id, fields) for entry_id, fields in rows or []]

    def read_stream(self, revision: int, block_ms: int) -> list[tuple[bytes, dict[bytes, Any]]]:
        """The stream's entries after `revision`, waiting up to `block_ms` for one."""
        with self.failing("cannot read the change log"):
            found: Any = self._client.xread(
                {f"{self.ns}:log": f"{revision}-0"}, count=10_000, block=block_ms
            )
        return list(found[0][1]) if found else []

    def stream_size(self) -> int:
        """The changes the stream holds now."""
        with self.failing("cannot read the change log"):
            return int(self._client.xlen(f"{self.ns}:log"))

    def first_revision(self) -> int | None:
        """The oldest revision the stream still holds (None when it is empty)."""
        with self.failing("cannot read the change log"):
            found: Any = self._client.xrange(f"{self.ns}:log", count=1)
        return int(found[0][0].split(b"-")[0]) if found else None

    def versions(self, key: str, limit: int) -> list[Change]:
        """The last `limit` changes of `key` the stream holds, newest first: read from
        the newest back, a page at a time, until there are enough."""
        found: list[Change] = []
        newest, name = "+", key.encode()
        while len(found) < limit:
            with self.failing("cannot read the change log"):
                rows: Any = self._client.xrevrange(f"{self.ns}:log", max=newest, count=VERSION_PAGE)
            for entry_id, fields in rows:
                if fields.get(b"key") == name:
                    found.append(change_of(entry_id, fields))
            if len(rows) < VERSION_PAGE:
                break
            newest = "(" + rows[-1][0].decode()
        return found[:limit]

    # -- writes --------------------------------------------------------------------------

    def set(
        self,
        key: str,
        data: bytes,
        *,
        source: str,
        origin: str,
        ttl: float | str | None,
        maxlen: int,
        expected: int | None = None,
    ) -> int:
        """Run the SET script; the change's revision (0: `expected` did not hold)."""
        args = self._set_args(key, data, source, origin, ttl, maxlen, expected)
        with self.failing("cannot write"):
            return int(self._set(args=args))

    def _set_args(
        self,
        key: str,
        data: bytes,
        source: str,
        origin: str,
        ttl: float | str | None,
        maxlen: int,
        expected: int | None = None,
    ) -> list[str | bytes | int]:
        """The SET script's arguments (see scripts.SET)."""
        check = "" if expected is None else str(expected)
        return [self.ns, key, data, source, origin, _ttl_arg(ttl), maxlen, check]

    def set_many(
        self,
        items: list[tuple[str, bytes, float | None]],
        *,
        source: str,
        origin: str,
        maxlen: int,
    ) -> None:
        """Run the SET script for each (key, data, ttl), in order, PIPELINE scripts a
        round trip (each one a change of its own, as from `set`)."""
        for start in range(0, len(items), PIPELINE):
            with self.failing("cannot write"):
                pipe = self._client.pipeline(transaction=False)
                for key, data, ttl in items[start : start + PIPELINE]:
                    self._set(
                        args=self._set_args(key, data, source, origin, ttl, maxlen), client=pipe
                    )
                pipe.execute()

    def delete_many(self, keys: list[str], *, source: str, origin: str, maxlen: int) -> int:
        """Run the DELETE script for each key, PIPELINE scripts a round trip; how many
        of the keys there were."""
        gone = 0
        for start in range(0, len(keys), PIPELINE):
            with self.failing("cannot write"):
                pipe = self._client.pipeline(transaction=False)
                for key in keys[start : start + PIPELINE]:
                    self._delete(args=self._delete_args(key, source, origin, maxlen), client=pipe)
                gone += sum(int(revision) > 0 for revision in pipe.execute())
        return gone

    def present(self, keys: list[str]) -> list[bool]:
        """Whether each key holds a value, PIPELINE keys a round trip."""
        found: list[bool] = []
        for start in range(0, len(keys), PIPELINE):
            with self.failing("cannot read"):
                pipe = self._client.pipeline(transaction=False)
                for key in keys[start : start + PIPELINE]:
                    pipe.exists(f"{self.ns}:v:{key}")
                found += [bool(n) for n in pipe.execute()]
        return found

    def delete(
        self,
        key: str,
        *,
        source: str,
        origin: str,
        maxlen: int,
        op: Op = Op.DELETE,
        expected: int | None = None,
    ) -> int:
        """Run the DELETE script: the change's revision, -1 for a missing key, 0 when
        `expected` did not hold."""
        args = self._delete_args(key, source, origin, maxlen, op, expected)
        with self.failing("cannot write"):
            return int(self._delete(args=args))

    def _delete_args(
        self,
        key: str,
        source: str,
        origin: str,
        maxlen: int,
        op: Op = Op.DELETE,
        expected: int | None = None,
    ) -> list[str | int]:
        """The DELETE script's arguments (see scripts.DELETE)."""
        check = "" if expected is None else str(expected)
        return [self.ns, key, source, origin, maxlen, op.value, check]

    def retime(
        self, key: str, seconds: float | None, *, source: str, origin: str, maxlen: int
    ) -> int:
        """Set (or, for None, remove) the TTL of `key`: the change's revision, 0 when
        there was nothing to change."""
        with self.failing("cannot write"):
            return int(self._retime(args=[self.ns, key, source, origin, _ttl_arg(seconds), maxlen]))

    def expire_due(self, limit: int, maxlen: int) -> int:
        """Record the removal of up to `limit` keys whose TTL ran out; how many it
        looked at."""
        with self.failing("cannot sweep"):
            return int(self._expire_due(args=[self.ns, limit, maxlen]))

    def incr(self, key: str, by: int, *, source: str, origin: str, maxlen: int) -> int | None:
        """Add `by` to an integer value in one script: the sum, or None when the value
        is not a small integer (add with a checked write instead)."""
        with self.failing("cannot write"):
            found = self._incr(args=[self.ns, key, by, source, origin, maxlen])
        return None if found is None else int(found)

    def clear(self, prefix: str, *, source: str, origin: str, maxlen: int) -> int:
        """Delete every key that starts with `prefix`, at once; how many went."""
        with self.failing("cannot write"):
            return int(self._clear(args=[self.ns, prefix, source, origin, maxlen]))

    def set_limits(self, max_keys: int, max_bytes: int, when_full: str) -> None:
        with self.failing("cannot write the limits"):
            self._client.hset(
                f"{self.ns}:settings",
                mapping={"max_keys": max_keys, "max_bytes": max_bytes, "when_full": when_full},
            )

    def limits(self) -> tuple[int, int, str]:
        with self.failing("cannot read the limits"):
            found: Any = self._client.hmget(
                f"{self.ns}:settings", "max_keys", "max_bytes", "when_full"
            )
        return int(found[0] or 0), int(found[1] or 0), (found[2] or b"error").decode()

    def history(self) -> int | None:
        """The versions of each key the namespace keeps (None: never said)."""
        with self.failing("cannot read the settings"):
            found = self._client.hget(f"{self.ns}:settings", "history")
        return None if found is None else int(found)

    def set_history(self, versions: int) -> None:
        with self.failing("cannot write the settings"):
            self._client.hset(f"{self.ns}:settings", "history", versions)

    def size(self) -> tuple[int, int]:
        """The keys and the bytes the namespace holds."""
        with self.failing("cannot read"):
            pipe = self._client.pipeline(transaction=True)
            pipe.zcard(f"{self.ns}:written")
            pipe.get(f"{self.ns}:bytes")
            keys, size = pipe.execute()
        return int(keys), int(size or 0)

    def expiring(self) -> dict[str, float]:
        """When each key with a TTL expires (seconds since the epoch), in one call."""
        with self.failing("cannot read"):
            found: Any = self._client.zrange(f"{self.ns}:expiring", 0, -1, withscores=True)
        return {name.decode(): score / 1000 for name, score in found}

    def next_expiry(self) -> float | None:
        """When the next key expires (seconds since the epoch), or None."""
        with self.failing("cannot read"):
            found: Any = self._client.zrange(f"{self.ns}:expiring", 0, 0, withscores=True)
        return float(found[0][1]) / 1000 if found else None

    def ttl(self, key: str) -> float | None:
        """The seconds `key` has left, or None."""
        with self.failing("cannot read"):
            left = int(self._client.pttl(f"{self.ns}:v:{key}"))
        return None if left < 0 else max(left, 1) / 1000


def _entry(value: Any, meta: Any, expires_ms: Any) -> Entry | None:
    if value is None or meta is None:
        return None
    version, time, source, origin, _ = orjson.loads(meta)
    expires = expires_ms / 1000 if expires_ms and expires_ms > 0 else 0.0
    return Entry(value, int(version), float(time), source, origin, expires)


def _ttl_arg(ttl: float | str | None) -> str:
    # The SET script's ttl: '' none, 'keep', or whole milliseconds (at least 1).
    if ttl is None or isinstance(ttl, str):
        return ttl or ""
    return str(max(1, round(ttl * 1000)))


def change_of(entry_id: bytes, fields: dict[bytes, bytes]) -> Change:
    """A stream entry as the Change it records."""

    def text(name: bytes) -> str:
        return fields.get(name, b"").decode()

    value: Any = fields.get(b"value")
    return Change(
        Op(text(b"op")),
        text(b"key"),
        int(entry_id.split(b"-")[0]),
        text(b"source"),
        float(text(b"time")),
        value,
        text(b"origin"),
        text(b"created") == "1",
        float(text(b"expires") or 0),
    )


class _Failing:
    """The context `RedisConnection.failing` gives (a class: it is entered on every
    call, and a generator-made one costs a few microseconds more)."""

    __slots__ = ("_connection", "_what")

    def __init__(self, connection: RedisConnection, what: str) -> None:
        self._connection, self._what = connection, what

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, error: BaseException | None, trace: object) -> None:
        if isinstance(error, Exception):
            connection = self._connection
            if connection.closed and not isinstance(error, StateError):
                # Cut in the middle of a call (redis-py then fails in odd ways, such as
                # a TypeError on the socket it no longer has): the store is closed.
                raise StateError(f"the store at {connection.address.shown} is closed") from None
            mapped = connection.error_of(error, self._what)
            if mapped is not None:
                raise mapped from None
