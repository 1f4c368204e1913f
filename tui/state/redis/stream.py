"""Following the Redis store's change stream: every change, once, in order."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from tui.state.change import Change
from tui.state.errors import StateError
from tui.state.redis.connection import RedisConnection, change_of

BLOCK_MS = 250
"""How long one XREAD waits for changes at most (then it looks whether it must stop);
less under a short `?timeout=`, which the server must answer within."""


class StreamTrimmed(StateError):
    """The stream no longer reaches back to where the follower was: reload the store."""


class ChangeStream:
    """A thread that reads the change stream after `revision` and hands each batch of
    changes to `on_changes`, in revision order.

    When the stream was trimmed past the next revision expected, `on_gap` hears the
    first revision the stream still has (the follower must reload, then go on from the
    store's revision then). A failure (the server went away) goes to `on_error`; the
    thread then tries again every second, from where it was.
    """

    def __init__(
        self,
        connection: RedisConnection,
        revision: int,
        *,
        on_changes: Callable[[list[Change]], None],
        on_gap: Callable[[int], int],
        on_error: Callable[[str | None], None] = lambda reason: None,
    ) -> None:
        self._connection = connection
        self.revision = revision
        """The last revision handed on."""
        self._on_changes = on_changes
        self._on_gap = on_gap
        self._on_error = on_error
        self._namespace = connection.namespace_id()
        self._block_ms = min(BLOCK_MS, int(connection.address.timeout * 500))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="stateui stream", daemon=True)

    def start(self) -> ChangeStream:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()

    def _loop(self) -> None:
        failing = False
        while not self._stop.is_set():
            try:
                rows = self._connection.read_stream(self.revision, self._block_ms)
            except StateError as error:
                if not failing:
                    failing = True
                    self._on_error(str(error))
                self._stop.wait(1.0)
                continue
            if failing:
                failing = False
                self._on_error(None)
                self._check_reset()
            if rows:
                self._take(rows)

    def _check_reset(self) -> None:
        # A server that came back without its data (no persistence) numbers changes
        # from 1 again: the follower must reload, or it would wait for revisions that
        # never come, or take new ones for those it had. The namespace's mark (or the
        # revision, gone back) tells.
        try:
            namespace = self._connection.namespace_id()
            current = self._connection.revision()
        except StateError:
            return
        if namespace != self._namespace or current < self.revision:
            self._namespace = namespace
            self.revision = self._on_gap(current + 1)

    def _take(self, rows: list[tuple[bytes, dict[bytes, Any]]]) -> None:
        changes = [change_of(entry_id, fields) for entry_id, fields in rows]
        if changes[0].version != self.revision + 1:
            first = self._connection.first_revision()
            if first is not None and first > self.revision + 1:
                self.revision = self._on_gap(first)
                return
        self.revision = changes[-1].version
        self._on_changes(changes)
