"""Following a store file that another process owns: its committed changes, live.

A follower keeps its own copy of the store in memory, read-only, and polls the file's
`PRAGMA data_version` (which moves when another connection commits): when it moves,
the changes after the copy's revision are read from the change log and applied, so
subscribers see them as if they were made here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from tui.state.change import Change, Op
from tui.state.change_log import ChangeLog
from tui.state.file.owner import is_owned
from tui.state.file.reader import Row, StoreFile
from tui.state.store import Store

POLL = 0.05
"""Seconds between two looks at the file."""

OWNER_POLL = 0.5
"""Seconds between two checks that the owner is still there."""


class FileLog(ChangeLog):
    """A follower's change log: the owner's, read from the file."""

    def __init__(self, reader: StoreFile, history: int) -> None:
        self._reader = reader
        self.history = history

    def versions(self, key: str, limit: int | None = None) -> list[Change]:
        return self._reader.versions(key, limit) if self.history else []

    def since(self, revision: int, limit: int | None = None) -> list[Change]:
        return self._reader.since(revision, limit)


class Follower:
    """Keeps a read-only Store up with its file; says when the owner comes and goes."""

    def __init__(
        self,
        store: Store,
        reader: StoreFile,
        *,
        on_owner: Callable[[bool], None] = lambda owned: None,
        poll: float = POLL,
    ) -> None:
        self.store = store
        self.path = reader.path
        """The store file followed."""
        self.owned = True
        """Whether a process owns the file (as of the last check)."""
        self.error: str | None = None
        """Why the file cannot be followed any more, once it cannot."""
        self._reader = reader
        self._on_owner = on_owner
        self._poll = poll
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="stateui follower", daemon=True)

    def start(self) -> Follower:
        if self._thread.is_alive():
            return self
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="stateui follower", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()

    def _loop(self) -> None:
        seen = None  # so that the first look catches up with commits made since the load
        owner_checked = time.monotonic()
        while True:
            try:
                version = self._reader.data_version()
                if version != seen:
                    seen = version
                    self.catch_up()
            except Exception as error:  # the file went, or broke: say so, and stop
                self.error = f"{self._reader.path}: {error}"
                return
            if time.monotonic() - owner_checked >= OWNER_POLL:
                owner_checked = time.monotonic()
                owned = is_owned(self._reader.path)
                if owned != self.owned:
                    self.owned = owned
                    self._on_owner(owned)
            if self._stop.wait(self._poll):
                return

    def catch_up(self) -> None:
        """Apply what the owner committed since the copy's revision."""
        revision = self.store.revision
        if self._reader.log_start() > revision + 1:
            self._reload()  # the log no longer reaches back that far
            return
        changes = self._reader.since(revision)
        if changes:
            self.store.apply(changes)

    def _reload(self) -> None:
        rows: list[Row] = []
        revision = self._reader.scan(rows.extend, every=True)
        present = {row[0] for row in rows}
        changes = [
            Change(Op.SET, key, version, source, when, value, origin, False, expires)
            for key, value, version, when, source, origin, expires in rows
            if version > self.store.revision
        ]
        changes += [
            Change(Op.DELETE, key, revision, "reload", time.time(), None)
            for key in self.store.keys(sort=False)
            if key not in present
        ]
        changes.sort(key=lambda change: change.version)
        # The file's revision, even when no change is left to show for the last ones
        # (keys made and deleted while this copy was behind).
        self.store.apply(changes, revision)
