"""A key's kept versions as its history screen reads them, and what each one changed.

Pure Python (no Textual). `read_history` reads a key's entry and kept versions from
the store's change log, only the new ones when it can tell them apart; `make_detail`
makes the value of a chosen version as pretty JSON and its diff against the version
before it or the current value (an Against). Both are slow enough for a big history
or value to run off the UI thread. `format_moment` and `needs_dates` write a version's
time.
"""

from __future__ import annotations

import time
from enum import StrEnum
from typing import NamedTuple

import orjson

from tui.app.format import escape_controls, pretty
from tui.app.model.json_diff import MISSING as NO_VALUE
from tui.app.model.json_diff import DiffLine, diff
from tui.state import MISSING, Change, Entry, Op, Store


class Against(StrEnum):
    """What the selected version is compared with."""

    BEFORE = "before"
    """The version just before it: what this version changed."""
    CURRENT = "current"
    """The key's value now: what changed since this version."""


class HistoryRead(NamedTuple):
    """The key as one read found it."""

    revision: int
    """The store's revision just before the read."""
    entry: Entry | None
    """The key's value and version (None: the key does not exist)."""
    versions: list[Change] | None
    """The kept versions, newest first; None when they are those read last time."""
    history: int
    """Versions the store keeps of each key (0: none)."""
    complete: bool = True
    """Whether `versions` are all the kept ones, rather than the newest `first`."""


def read_history(
    store: Store,
    key: str,
    known: list[Change],
    known_version: int | None,
    *,
    first: int | None = None,
) -> HistoryRead:
    """Read `key`'s entry and kept versions, reusing `known` (read at `known_version`),
    or only the newest `first` of them.

    Only the versions newer than `known` are read when they can be told apart, so a
    key with thousands of kept versions costs little to follow.
    """
    revision = store.revision
    # The entry first: a write landing between the two reads then shows in the versions
    # but not in the version a restore expects, so the restore refuses rather than
    # overwriting a value no one saw.
    entry = store.entry(key)
    history = store.history
    if not history:
        return HistoryRead(revision, entry, [], history)
    if first is not None:
        fetched = store.versions(key, first)
        return HistoryRead(revision, entry, fetched, history, len(fetched) < first)
    version = entry.version if entry is not None else MISSING
    newest = known[0].version if known else MISSING
    if known_version is not None and version == known_version:
        if version != MISSING:
            return HistoryRead(revision, entry, None, history)
        latest = store.versions(key, 1)  # deleted both times: maybe set and deleted between
        if (latest[0].version if latest else MISSING) == newest:
            return HistoryRead(revision, entry, None, history)
    gap = revision - newest
    if known and 0 < gap < history:
        # The key's changes since `newest` are at most `gap`: one more reaches back to it.
        fetched = store.versions(key, gap + 1)
        fresh = [change for change in fetched if change.version > newest]
        if len(fetched) <= gap:
            return HistoryRead(revision, entry, fetched, history)  # every kept one
        if len(fresh) < len(fetched) and fetched[len(fresh)].version == newest:
            return HistoryRead(revision, entry, (fresh + known)[:history], history)
    return HistoryRead(revision, entry, store.versions(key), history)


class DetailRequest(NamedTuple):
    """A version to show and what to compare it with."""

    change: Change
    against: Against
    base_version: int | None
    """The version compared with: MISSING when there is no value to compare with (the
    key was created, or is deleted now); None when the version before is not kept."""
    base_value: bytes | None
    """The value compared with, as JSON (None: no value)."""

    @property
    def key(self) -> tuple[int, Against, int | None]:
        """What tells two requests apart (the values follow from the versions)."""
        return self.change.version, self.against, self.base_version


class Detail(NamedTuple):
    """What the value and changes panes show for a request."""

    key: tuple[int, Against, int | None]
    pretty: bytes
    cut: bool
    lines: list[DiffLine]
    note: str


def make_detail(request: DetailRequest) -> Detail:
    """The value of the requested version as pretty JSON, and its diff (slow for big values)."""
    change = request.change
    text, cut = pretty(change.value) if change.value is not None else (b"", False)
    if request.base_version is None:
        lines: list[DiffLine] = []
    else:
        this = NO_VALUE if change.value is None else orjson.loads(change.value)
        base = NO_VALUE if request.base_value is None else orjson.loads(request.base_value)
        # Always from the older value to the newer one.
        old, new = (base, this) if request.against is Against.BEFORE else (this, base)
        lines = diff(old, new)
    return Detail(request.key, text, cut, lines, compared(request))


def compared(request: DetailRequest) -> str:
    """What the diff of a request compares, for a person."""
    version = request.change.version
    base = request.base_version
    if request.against is Against.CURRENT:
        if base == version:
            return f"Version {version} is the current value."
        if base == MISSING:
            return f"From version {version} to now: the key does not exist now."
        return f"From version {version} to the current value (version {base})."
    if base is None:
        return f"What version {version} changed: the version before is no longer kept."
    if request.change.created:
        return f"What version {version} changed: it created the key."
    if request.change.op.removes:
        how = _REMOVED[request.change.op]
        return f"What version {version} changed: {how} (version {base} before)."
    if request.base_value is None:
        return f"What version {version} changed: the key was deleted before it (version {base})."
    return f"What version {version} changed, against version {base} before it."


_REMOVED = {
    Op.DELETE: "it deleted the key",
    Op.EXPIRE: "the key expired",
    Op.EVICT: "the key was evicted",
}


def removal_note(change: Change) -> str:
    """What a version that removed its key did, for a person."""
    if change.op is Op.EXPIRE:
        return f"Version {change.version}: the key expired (its TTL ran out)."
    if change.op is Op.EVICT:
        return (
            f"Version {change.version}: the key was evicted to make room under the store's limits."
        )
    writer = escape_controls(change.writer, one_line=True)
    return f"Version {change.version} deleted the key ({writer})."


def format_moment(moment: float, *, dated: bool) -> str:
    """A change's local time to the millisecond, `14:03:07.250`, after its date if `dated`."""
    local = time.localtime(moment)
    shown = time.strftime("%Y-%m-%d %H:%M:%S" if dated else "%H:%M:%S", local)
    return f"{shown}.{int(moment * 1000) % 1000:03d}"


def needs_dates(versions: list[Change], now: float) -> bool:
    """Whether any version is from another day than today (local time): then every row
    shows its date, so that the columns line up."""
    if not versions:
        return False
    today = time.localtime(now)
    start = time.mktime((today.tm_year, today.tm_mon, today.tm_mday, 0, 0, 0, 0, 0, -1))
    end = time.mktime((today.tm_year, today.tm_mon, today.tm_mday + 1, 0, 0, 0, 0, 0, -1))
    times = [change.time for change in versions]
    return min(times) < start or max(times) >= end
