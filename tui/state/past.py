"""The store as it was: a key's value before a change, and every value at a revision.

Both are read back from the change log. A step back over a change needs the key's
value just before it: the key's previous change if the log still keeps it, or nothing
when the change created the key. How far back that reaches depends on what the log
keeps (`--history`); past that, `HistoryGone` says where the kept history starts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from tui.state.change import Change, Op
from tui.state.errors import StateError

Versions = Callable[[str], list[Change]]
"""A key's kept changes, newest first (`Store.versions`)."""

Since = Callable[[int], list[Change]]
"""The kept changes after a revision, oldest first (`Store.changes_since`)."""


class HistoryGone(StateError):
    """The kept history does not reach back to the revision asked for."""

    def __init__(self, revision: int, earliest: int) -> None:
        self.revision = revision
        self.earliest = earliest
        """The oldest revision the kept history can show."""
        super().__init__(
            f"the kept history does not reach back to revision {revision:,}: "
            f"it starts at revision {earliest:,}"
        )


class Unknown(Exception):
    """A key's value before a change is no longer kept."""


class Past:
    """Reads the store as it was from its change log."""

    def __init__(self, versions: Versions, since: Since) -> None:
        self._versions = versions
        self._since = since

    def previous(self, change: Change) -> Change | None:
        """The change that made the key's value just before `change` (a set); None
        when the key did not exist then. Raises Unknown when the log no longer keeps it.
        """
        if change.created:
            return None
        for older in self._versions(change.key):
            if older.version < change.version:
                return older if older.op is Op.SET else None
        raise Unknown(change.key)

    def before(self, change: Change) -> bytes | None:
        """The key's value (as JSON) just before `change`; None when it did not exist.

        Raises Unknown when the log no longer keeps it.
        """
        previous = self.previous(change)
        return None if previous is None else previous.value

    def values_at(
        self, live: Mapping[str, bytes], live_revision: int, revision: int
    ) -> dict[str, bytes]:
        """Every key's value (as JSON) just after `revision`, from the store's values
        `live` at `live_revision`. Raises HistoryGone past the kept history."""
        if revision < 0 or revision > live_revision:
            raise StateError(
                f"revision {revision:,} is not in the store's history "
                f"(its revisions go from 0 to {live_revision:,})"
            )
        undone = [c for c in self._since(revision) if c.version <= live_revision]
        earliest, before = self._walk_back(undone, live_revision)
        if earliest > revision:
            raise HistoryGone(revision, earliest)
        values = dict(live)
        for key, old in before.items():
            if old is None:
                values.pop(key, None)
            else:
                values[key] = old
        return values

    def earliest(self, live_revision: int) -> int:
        """The oldest revision the kept history can show the store at."""
        return self._walk_back(self._since(0), live_revision)[0]

    def _walk_back(
        self, changes: list[Change], live_revision: int
    ) -> tuple[int, dict[str, bytes | None]]:
        """Step back from the live revision over `changes` (oldest first), one at a
        time: each must be kept (no gap in the revisions), and so must its key's value
        before it, which for all but a key's first change here is the change before it
        here. Returns the revision reached, and each key's value before its first
        change stepped over (None: it did not exist)."""
        first: dict[str, Change] = {}
        for change in changes:
            first.setdefault(change.key, change)
        before: dict[str, bytes | None] = {}
        step = live_revision
        for change in reversed(changes):
            if change.version != step:
                return step, before  # the change at `step` is no longer kept
            if first[change.key] is change:
                try:
                    before[change.key] = self.before(change)
                except Unknown:
                    return step, before
            step -= 1
        return step, before  # 0, or the change at `step` is no longer kept
