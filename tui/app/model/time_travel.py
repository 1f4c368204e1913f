"""Time travel: the store as it was just after a past change, stepped one change at a time.

The view stands at a revision. For every key changed since, it keeps the change that
made the key's value at that revision (None: the key did not exist then); every other
key is as the store holds it now. A step back over a change puts back the value its
key had before it, read from the change log; a step forward takes the change's own
value. Live changes go on meanwhile: the first live change of a key freezes the key's
value at the revision the view stands at. No Textual here.
"""

from __future__ import annotations

from collections.abc import Iterable

from tui.state import Change, Entry, Op, Store
from tui.state.past import Past, Unknown

PAGE = 1_000
"""Changes read from the log at a time around the revision the view stands at."""


class TimeTravel:
    """Where the inspector stands in the store's history, and the store as it was there."""

    def __init__(self, store: Store, revision: int) -> None:
        self.store = store
        self._past = Past(store.versions, store.changes_since)
        self.revision = revision
        """The revision the view stands at: the store just after this change."""
        self.live_revision = self.revision
        """The newest revision seen (live changes go on while travelling)."""
        self.at_start = False
        """Whether the last step back found the start of the kept history."""
        self.then: dict[str, Change | None] = {}
        """Each key changed since `revision`: the change that made its value then (a
        set), or None when it did not exist then."""
        self._page: dict[int, Change] = {}

    # -- where the view stands ------------------------------------------------------------

    @property
    def behind(self) -> int:
        """How many changes the view is behind live."""
        return self.live_revision - self.revision

    def change_at(self, revision: int) -> Change | None:
        """The change at `revision`, if the log keeps it."""
        if revision < 1:
            return None
        change = self._page.get(revision)
        if change is None:
            start = max(0, revision - PAGE // 2)
            self._page = {c.version: c for c in self.store.changes_since(start, PAGE)}
            change = self._page.get(revision)
        return change

    def time(self) -> float | None:
        """When the change the view stands at was made (None at revision 0)."""
        change = self.change_at(self.revision)
        return None if change is None else change.time

    # -- stepping ---------------------------------------------------------------------------

    def back(self) -> Change | None:
        """Step back over the change at the current revision; return it, or None at the
        start of the kept history (then `at_start` is set)."""
        change = self.change_at(self.revision)
        if change is None:
            self.at_start = True
            return None
        try:
            before = self._past.previous(change)
        except Unknown:
            self.at_start = True
            return None
        self.then[change.key] = before
        self.revision -= 1
        self.at_start = self.revision == 0
        return change

    def forward(self) -> Change | None:
        """Step forward over the next change; None when the view is live already."""
        if self.revision >= self.live_revision:
            return None
        change = self.change_at(self.revision + 1)
        if change is None:  # pruned meanwhile: the view can only go back to live
            return None
        self.then[change.key] = change if change.op is Op.SET else None
        self.revision += 1
        self.at_start = False
        return change

    def back_by(self, seconds: float) -> list[Change]:
        """Step back to the last change made at least `seconds` of store time before
        the one the view stands at (or to the start of the kept history); return the
        changes stepped over."""
        start = self.time()
        stepped: list[Change] = []
        while True:
            now = self.time()
            if start is not None and now is not None and start - now >= seconds:
                break
            change = self.back()
            if change is None:
                break
            stepped.append(change)
        return stepped

    def forward_by(self, seconds: float) -> list[Change]:
        """Step forward to the last change made within `seconds` of store time after the
        one the view stands at (at least one step; live at the most); return the
        changes stepped over."""
        start = self.time()
        stepped: list[Change] = []
        while self.revision < self.live_revision:
            upcoming = self.change_at(self.revision + 1)
            if upcoming is None:
                break
            if start is None:
                start = upcoming.time
            if stepped and upcoming.time - start > seconds:
                break
            self.forward()
            stepped.append(upcoming)
        return stepped

    # -- live changes meanwhile ---------------------------------------------------------------

    def follow(self, changes: Iterable[Change]) -> set[str]:
        """Take live changes made while travelling: the first of a key freezes the value
        it had at the view's revision. Returns the keys whose live value changed."""
        touched: set[str] = set()
        for change in changes:
            if change.version <= self.live_revision:
                continue  # already known (a change applied twice)
            self.live_revision = change.version
            touched.add(change.key)
            if change.key not in self.then:
                try:
                    self.then[change.key] = self._past.previous(change)
                except Unknown:  # the log lost it already: show it as it is now
                    continue
        return touched

    def resync(self) -> None:
        """Read what changed since the view's revision afresh (live changes were lost)."""
        self.live_revision = self.store.revision
        self.then.clear()
        for change in self.store.changes_since(self.revision):
            if change.key not in self.then and change.version <= self.live_revision:
                try:
                    self.then[change.key] = self._past.previous(change)
                except Unknown:
                    continue

    # -- the store as it was ---------------------------------------------------------------

    def entry(self, key: str) -> Entry | None:
        """The key's value at the view's revision, with who wrote it and when (a TTL is
        left out: it counts down to a time from now)."""
        if key in self.then:
            return _entry(self.then[key])
        live = self.store.entry(key)
        if live is not None and live.version <= self.live_revision:
            return live._replace(expires=0.0) if live.expires else live
        if live is None and not self.store.versions(key, 1):
            return None
        # Changed after the live changes followed so far (they are on their way):
        # as the log has it at the view's revision.
        for change in self.store.versions(key):
            if change.version <= self.revision:
                return _entry(change if change.op is Op.SET else None)
        return None

    def exists(self, key: str) -> bool:
        """Whether `key` existed at the view's revision."""
        return self.entry(key) is not None

    def differs(self, key: str) -> bool:
        """Whether `key`'s value then is not its value now."""
        return key in self.then and self._value_then(key) != self.store.get_encoded(key)

    def differing(self) -> dict[str, bytes | None]:
        """Every key whose value then is not its value now: its value then (None: it
        did not exist). What a rewind writes back."""
        return {key: self._value_then(key) for key in self.then if self.differs(key)}

    def _value_then(self, key: str) -> bytes | None:
        change = self.then[key]
        return None if change is None else change.value


def _entry(change: Change | None) -> Entry | None:
    if change is None or change.value is None:
        return None
    return Entry(change.value, change.version, change.time, change.source, change.origin)
