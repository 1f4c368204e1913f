"""The owner's change log: every change written through to the store file, in batches.

The store records each change here under its lock, in revision order; a writer thread
commits what came in at least every `window` seconds, one transaction a batch (group
commit). A batch is always a run of whole revisions, so the file always holds the
store exactly as it was at some revision. With `sync="always"` each change is
committed, and synced to disk, before the write returns.

The log is also the history: the last `history` versions of each key are kept, older
ones pruned in the background. With `history` 0 the log still carries the last minute
of changes, which is how other processes follow the store.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

import orjson

from tui.state.change import Change
from tui.state.change_log import ChangeLog
from tui.state.errors import StateError
from tui.state.file.reader import StoreFile

WINDOW = 0.05
"""Seconds between two commits at most (the changes a crash may lose)."""

PRUNE_EVERY = 1.0
"""Seconds between two prunings of the history."""

FOLLOW_TAIL = 60.0
"""Seconds of changes kept for followers when history is off."""

_PRUNE_KEYS = 2_000
"""Changes whose keys are pruned a transaction: short, so commits are not held up."""

PRUNE_BUDGET = 0.03
"""Seconds a pass of pruning may take (a pass a second)."""

SYNC_MODES = ("batch", "always")

COMMIT_SOON = 2_000
"""Changes waiting that wake the writer thread before its window is up."""

MAX_PENDING = 20_000
"""Changes waiting for the writer thread at most: past it, the writer commits them itself."""

# A batch is handed to SQLite as a JSON array of
# [revision, key, op, value, time, source, origin, created, expires] rows, the value as
# JSON text (null for a removal).
_LOG_CHANGES = """INSERT INTO changes
        (revision, key, op, value, time, source, origin, created, expires)
    SELECT json_extract(row.value, '$[0]'), json_extract(row.value, '$[1]'),
        json_extract(row.value, '$[2]'), CAST(json_extract(row.value, '$[3]') AS BLOB),
        json_extract(row.value, '$[4]'), json_extract(row.value, '$[5]'),
        json_extract(row.value, '$[6]'), json_extract(row.value, '$[7]'),
        json_extract(row.value, '$[8]')
    FROM json_each(?) AS row"""

# The batch's sets, in the order they were made (revisions ?1 to ?2): each replaces the
# entry the one before left, so the last set of a key stands. Then the keys whose last
# change in the batch is a removal (delete, expire, evict) go.
_SET_ENTRIES = """INSERT OR REPLACE INTO entries
        (key, value, version, time, source, origin, expires)
    SELECT key, value, revision, time, source, origin, expires FROM changes
    WHERE revision BETWEEN ?1 AND ?2 AND op = 'set' ORDER BY revision"""
_DELETE_ENTRIES = """DELETE FROM entries WHERE key IN (
    SELECT key FROM changes AS c WHERE revision BETWEEN ?1 AND ?2 AND op != 'set'
    AND revision = (SELECT max(revision) FROM changes AS later WHERE later.key = c.key))"""


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


def _newest(batch: list[Change], per_key: int) -> tuple[list[Change], dict[str, int]]:
    """The batch without the changes of a key older than its last `per_key`, and each
    key that lost some, with its oldest change kept (older rows of it must go too, or a
    step back over that change would find an older value than the one before it)."""
    if len(batch) <= per_key:
        return batch, {}
    counts = Counter(change.key for change in batch)
    if len(counts) == len(batch) or max(counts.values()) <= per_key:
        return batch, {}
    left = dict.fromkeys(counts, per_key)
    kept = []
    for change in reversed(batch):
        if left[change.key]:
            left[change.key] -= 1
            kept.append(change)
    kept.reverse()
    oldest: dict[str, int] = {}
    for change in kept:
        if counts[change.key] > per_key:
            oldest.setdefault(change.key, change.version)
    return kept, oldest


def _rows(changes: Iterable[Change]) -> bytes:
    return orjson.dumps(
        [
            (
                c.version,
                c.key,
                c.op.value,
                None if c.value is None else c.value.decode(),
                c.time,
                c.source,
                c.origin,
                c.created,
                c.expires,
            )
            for c in changes
        ]
    )


class FileChangeLog(ChangeLog):
    """Writes the store's changes to its file; answers history queries from it."""

    in_memory = False

    def __init__(
        self,
        connection: sqlite3.Connection,
        path: Path,
        *,
        history: int,
        sync: str = "batch",
        window: float = WINDOW,
        on_failure: Callable[[str], None] = lambda reason: None,
    ) -> None:
        self.history = history
        self.path = path
        self.failure: str | None = None
        """Why the file cannot be written any more, once it cannot."""
        self.commits = 0
        """Batches committed so far (the benchmarks read it)."""
        self.rows = 0
        """Changes committed so far."""
        self._connection = connection
        self._always = sync == "always"
        if self._always:
            connection.execute("PRAGMA synchronous = FULL")
        self._window = window
        self._on_failure = on_failure
        self._pending: list[Change] = []
        self._pending_lock = threading.Lock()
        self._commit_lock = threading.Lock()  # one commit at a time on the connection
        self._pruned_through = 0  # the revision up to which keys were pruned
        self._last_prune = time.monotonic()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._closing = False
        self._queries = StoreFile(path)
        self._identity = _identity(path)
        self._thread = threading.Thread(
            target=self._write_loop, name="stateui journal", daemon=True
        )
        self._thread.start()

    # -- writing ----------------------------------------------------------------------

    def record(self, change: Change) -> None:
        if self.failure is not None:
            raise StateError(self.failure)
        with self._pending_lock:
            if self._closing:  # after the last flush: it would never be written
                raise StateError(f"the store is closed: {self.path} is no longer written")
            self._pending.append(change)
            waiting = len(self._pending)
        if waiting == COMMIT_SOON:
            self._wake.set()  # a flood: the writer thread commits now, on the other core
        elif waiting >= MAX_PENDING or self._always:
            # A flood faster than the writer thread commits: the writer commits its own
            # batch, so that what a crash may lose stays bounded, and so does memory.
            self.flush()
            if self.failure is not None:
                raise StateError(self.failure)

    def flush(self) -> None:
        # Taking the batch and committing it are one step, so that batches reach the
        # file in the order of their revisions, whoever commits them.
        with self._commit_lock:
            with self._pending_lock:
                batch, self._pending = self._pending, []
            if batch:
                self._commit(batch)

    def _write_loop(self) -> None:
        try:
            while not self._stop.is_set():
                self._wake.wait(self._window)
                self._wake.clear()
                self.flush()
                if time.monotonic() - self._last_prune >= PRUNE_EVERY:
                    self._check_file()
                    self._prune()
        except Exception as error:  # a bug of ours: writes are refused, not lost unseen
            self.failure = f"{self.path}: the writer thread failed ({error!r})"
            self._on_failure(self.failure)

    def _commit(self, batch: list[Change]) -> None:
        """Commit a batch (with the commit lock held)."""
        if self.failure is not None:
            return
        # The batch goes to SQLite as one JSON parameter, in one statement: one step of
        # SQLite, during which it lets go of the GIL once, rather than once a row
        # (which, beside a script holding the GIL, would wait each time). The entries
        # are then brought up to date from the log, in SQL.
        # Of a key written over and over within one batch, only its last `history`
        # changes would outlive the next pruning: only they are written (followers need
        # only a key's last change, so one is kept even with history off).
        logged, trimmed = _newest(batch, self.history or 1)
        connection = self._connection
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute(_LOG_CHANGES, (_rows(logged),))
            if trimmed:
                connection.executemany(
                    "DELETE FROM changes WHERE key = ? AND revision < ?", trimmed.items()
                )
            bounds = (batch[0].version, batch[-1].version)
            connection.execute(_SET_ENTRIES, bounds)
            connection.execute(_DELETE_ENTRIES, bounds)
            connection.execute(
                "UPDATE meta SET value = ? WHERE name = 'revision'", (batch[-1].version,)
            )
            connection.execute("COMMIT")
        except sqlite3.Error as error:
            self._failed(error)
            return
        self.commits += 1
        self.rows += len(batch)

    def _failed(self, error: sqlite3.Error) -> None:
        connection = self._connection
        try:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
        except sqlite3.Error:
            pass
        text = str(error)
        if "disk is full" in text or "disk I/O" in text:
            reason = f"the disk is full or failing ({text})"
        elif "readonly" in text:
            reason = "the file can no longer be written (its permissions or its folder's)"
        else:
            reason = text
        self.failure = f"{self.path}: {reason}"
        self._on_failure(self.failure)

    # -- the history's bounds ------------------------------------------------------------

    def _check_file(self) -> None:
        # A file deleted or replaced under the owner would take every later commit with
        # it (they would go to a file no name leads to): refuse them, and say so.
        if self.failure is None and _identity(self.path) != self._identity:
            self.failure = (
                f"{self.path}: the store file was deleted or replaced while this process "
                "owned it; what was written since is not in it"
            )
            self._on_failure(self.failure)

    def _prune(self) -> None:
        # A pass works through the keys changed since the last, in the order of the
        # changes, for PRUNE_BUDGET seconds at most: under a load of a million new keys
        # the history costs a few percent of a core, and catches up afterwards.
        self._last_prune = time.monotonic()
        deadline = self._last_prune + PRUNE_BUDGET
        try:
            if not self.history:
                self._prune_tail()
            while time.monotonic() < deadline and self.history:
                with self._commit_lock:
                    rows = self._connection.execute(
                        "SELECT revision, key FROM changes WHERE revision > ? "
                        "ORDER BY revision LIMIT ?",
                        (self._pruned_through, _PRUNE_KEYS),
                    ).fetchall()
                if not rows:
                    break
                self._prune_keys(list({key: None for _, key in rows}))
                self._pruned_through = rows[-1][0]
            with self._commit_lock:
                self._connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error as error:
            with self._commit_lock:
                self._failed(error)

    def _prune_keys(self, keys: list[str]) -> None:
        marks = ",".join("?" * len(keys))
        with self._commit_lock:
            self._connection.execute("BEGIN IMMEDIATE")
            self._connection.execute(
                f"""DELETE FROM changes WHERE revision IN (
                    SELECT revision FROM (
                        SELECT revision, row_number() OVER (
                            PARTITION BY key ORDER BY revision DESC) AS newer
                        FROM changes WHERE key IN ({marks}))
                    WHERE newer > ?)""",
                (*keys, self.history),
            )
            self._connection.execute("COMMIT")

    def _prune_tail(self) -> None:
        cutoff = time.time() - FOLLOW_TAIL
        with self._commit_lock:
            self._connection.execute("BEGIN IMMEDIATE")
            last = self._connection.execute(
                "SELECT max(revision) FROM changes WHERE time < ?", (cutoff,)
            ).fetchone()[0]
            if last is not None:
                self._connection.execute("DELETE FROM changes WHERE revision <= ?", (last,))
                self._connection.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('log_start', ?)", (last + 1,)
                )
            self._connection.execute("COMMIT")

    # -- reading the history --------------------------------------------------------------

    def versions(self, key: str, limit: int | None = None) -> list[Change]:
        self.flush()
        return self._queries.versions(key, limit) if self.history else []

    def since(self, revision: int, limit: int | None = None) -> list[Change]:
        self.flush()
        return self._queries.since(revision, limit)

    def close(self) -> None:
        if self._stop.is_set():
            return  # closed already
        with self._pending_lock:
            self._closing = True  # writes from now on are refused; those before, flushed
        self._stop.set()
        self._wake.set()
        self._thread.join()
        self.flush()
        with self._commit_lock, contextlib.suppress(sqlite3.Error):
            self._connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._queries.close()
