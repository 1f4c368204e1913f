"""Waiting for a change: blocking until a key matching a pattern is set or removed.

`wait_for` subscribes to the store's feed before it looks at the log, so that no change
falls between the two: with `after` (a revision), a matching change already made since
then is returned at once; without it, only changes made from the call on count.
"""

from __future__ import annotations

import fnmatch
import math
import re
import time
from collections.abc import Callable, Iterable

from tui.state.change import Change
from tui.state.errors import StateError
from tui.state.key_filter import GLOB_CHARACTERS
from tui.state.store import Store

POLL = 0.02
"""Seconds between two looks at `stop` while waiting: how soon a cancel is seen."""


def key_pattern(pattern: str) -> Callable[[str], bool]:
    """A test of keys: equal to `pattern`, or matched by it when it is a glob (`*` any
    text, `?` one character, `[abc]` one of a set; case counts)."""
    if not GLOB_CHARACTERS.intersection(pattern):
        return pattern.__eq__
    match = re.compile(fnmatch.translate(pattern)).match
    return lambda key: match(key) is not None


def check_timeout(timeout: object) -> float | None:
    """`timeout` as seconds (None: wait for ever), or StateError saying why not."""
    if timeout is None:
        return None
    if type(timeout) not in (int, float):
        raise StateError(f"timeout must be a number of seconds, got {type(timeout).__name__}")
    seconds = float(timeout)  # type: ignore[arg-type]
    if math.isnan(seconds) or seconds < 0:
        raise StateError(f"timeout must be a number of seconds of at least 0, got {seconds}")
    return seconds


def wait_for(
    store: Store,
    pattern: str,
    *,
    timeout: float | None = None,
    after: int | None = None,
    stop: Callable[[], None] = lambda: None,
) -> Change | None:
    """The first change to a key `pattern` matches made after revision `after` (from
    now on, without it); None when `timeout` seconds pass first.

    `stop` is called every POLL seconds while waiting: it raises to end the wait (a
    cancelled run). Raises StateError when the change log no longer reaches back to
    `after`.
    """
    matches = key_pattern(pattern)
    deadline = None if timeout is None else time.monotonic() + min(timeout, 1e9)
    with store.subscribe() as feed:
        seen = store.revision  # after subscribing: every later change is in the feed
        if after is not None and after < seen:
            found = _first(matches, _logged(store, after, seen))
            if found is not None:
                return found
        while True:
            changes, dropped = feed.drain()
            if dropped:  # the feed overflowed: what it lost is in the log
                if store.revision < seen:  # a store that started again (Redis, emptied)
                    seen = 0
                changes = store.changes_since(seen)
            for change in changes:
                if change.version > seen:
                    seen = change.version
                    if matches(change.key):
                        return change
            stop()
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return None
            feed.wait(POLL if left is None else min(POLL, left))


def _logged(store: Store, after: int, through: int) -> list[Change]:
    changes = store.changes_since(after)
    if (not changes or changes[0].version > after + 1) and store.history == 0:
        raise StateError(
            f"the change log keeps no history (--history 0), so changes since revision "
            f"{after} cannot be looked up"
        )
    return [change for change in changes if change.version <= through]


def _first(matches: Callable[[str], bool], changes: Iterable[Change]) -> Change | None:
    return next((change for change in changes if matches(change.key)), None)


__all__ = ["POLL", "check_timeout", "key_pattern", "wait_for"]
