"""Progress keys as the progress panel reads them: how far, how fast, when done.

Pure Python (no Textual), fed from the change feed like the key index. A progress key
is one under the prefix (`progress:` unless configured) whose value has numeric
`current` and `total`, or a numeric `percent`, as the guide's Progress Tracking pattern
writes it; any other key can be pinned. Rates come from the changes' own times, so
that a test can give them, and `rows` takes the time to judge stalls and ETAs by.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

import orjson

from tui.app.format import escape_controls
from tui.app.model.key_index import natural_key
from tui.state import Change, Op

RATE_WINDOW = 5.0
"""Seconds of changes a rate is measured over."""

STALL_SECONDS = 10.0
"""A key that has not moved for this long is stalled."""

SAMPLE_SECONDS = 0.1
"""The closest two samples of one key are kept (a busy key's memory stays small)."""

LONGEST_TEXT = 200
"""Characters of a value of another shape shown in its row."""


class ProgressState(StrEnum):
    """Where a progress key stands."""

    RUNNING = "running"
    STALLED = "stalled"
    DONE = "done"
    FAILED = "failed"
    """The run that wrote it last failed."""
    STOPPED = "stopped"
    """The run that wrote it last was cancelled."""
    OTHER = "other"
    """A value of another shape: shown as text."""


@dataclass(frozen=True)
class ProgressRow:
    """One line of the progress panel."""

    key: str
    name: str
    """The key without the prefix (the whole key, for a pinned one from elsewhere)."""
    state: ProgressState
    percent: float | None = None
    current: float | None = None
    total: float | None = None
    rate: float | None = None
    """Items a second over the last RATE_WINDOW seconds (percent a second without a total)."""
    eta: float | None = None
    """Seconds left at that rate."""
    text: str = ""
    """The value as compact JSON, for a value of another shape."""


@dataclass
class _Tracked:
    value: object
    moved_at: float  # when `current` (or `percent`) last changed
    samples: deque[tuple[float, float]]  # (time, current or percent), newest last
    position: float | None = None  # the latest current (or percent)
    previous: tuple[float, float] | None = None  # the newest sample the window let go
    name: str = ""  # as shown: the key without the prefix
    order: str = ""  # the natural sort key of its name
    source: str = ""  # who wrote it last
    ended: ProgressState | None = None  # FAILED or STOPPED once its writer's run ended so


def progress_of(value: object) -> tuple[float | None, float | None, float] | None:
    """(current, total, percent) of a progress value, or None for another shape."""
    if not isinstance(value, dict):
        return None
    current, total = _as_float(value.get("current")), _as_float(value.get("total"))
    percent = _as_float(value.get("percent"))
    if current is not None and total is not None:
        if percent is None:
            percent = current / total * 100 if total else 100.0  # no overflow on the way
        return current, total, percent
    if percent is not None:
        return None, None, percent
    return None


def _as_float(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


class ProgressTracker:
    """The progress keys, and the recent history of each, from the change feed."""

    def __init__(
        self,
        prefix: str = "progress:",
        *,
        window: float = RATE_WINDOW,
        stall_after: float = STALL_SECONDS,
    ) -> None:
        self.prefix = prefix
        self.window = window
        self.stall_after = stall_after
        self.pinned: set[str] = set()
        self._tracked: dict[str, _Tracked] = {}

    def __len__(self) -> int:
        return len(self._tracked)

    def watches(self, key: str) -> bool:
        """Whether `key` belongs in the panel (under the prefix, or pinned)."""
        return key.startswith(self.prefix) or key in self.pinned

    def load(self, entries: Iterable[tuple[str, bytes, float, str]]) -> None:
        """Start from keys already in the store: (key, JSON, time, source) each."""
        for key, data, when, source in entries:
            if self.watches(key):
                self._set(key, data, when, source)

    def apply(self, changes: Iterable[Change]) -> bool:
        """Take changes from the feed; True when any concerned the panel."""
        touched = False
        prefix, pinned, starts = self.prefix, self.pinned, str.startswith  # the hot path
        for change in changes:
            key = change.key
            if not starts(key, prefix) and key not in pinned:
                continue
            touched = True
            if change.op is Op.SET and change.value is not None:
                self._set(change.key, change.value, change.time, change.source)
            else:
                self._tracked.pop(change.key, None)
        return touched

    def pin(self, key: str, data: bytes, when: float, source: str = "") -> bool:
        """Show a key outside the prefix; False (nothing pinned) unless it is a progress value."""
        current, total, _ = progress_of(orjson.loads(data)) or (None, None, None)
        if current is None or total is None:
            return False
        self.pinned.add(key)
        self._set(key, data, when, source)
        return True

    def run_ended(self, source: str, state: ProgressState) -> bool:
        """The run `source` failed (FAILED) or was cancelled (STOPPED): the unfinished keys
        it wrote last say so until written again. True when any did."""
        hit = False
        for tracked in self._tracked.values():
            if tracked.source == source:
                tracked.ended = state
                hit = True
        return hit

    def unpin(self, key: str) -> None:
        """Stop showing a pinned key (one under the prefix stays)."""
        self.pinned.discard(key)
        if not key.startswith(self.prefix):
            self._tracked.pop(key, None)

    def _set(self, key: str, data: bytes, when: float, source: str) -> None:
        try:
            value = orjson.loads(data)
        except orjson.JSONDecodeError:
            value = None
        found = progress_of(value)
        tracked = self._tracked.get(key)
        if tracked is None:
            name = key[len(self.prefix) :] if key.startswith(self.prefix) else key
            tracked = self._tracked[key] = _Tracked(
                value,
                when,
                deque(),
                name=escape_controls(name, one_line=True),
                order=natural_key(name),
            )
        tracked.value, tracked.source, tracked.ended = value, source, None
        if found is None:
            tracked.samples.clear()
            tracked.position = None
            return
        current, _, percent = found
        position = current if current is not None else percent
        samples = tracked.samples
        if tracked.position != position:
            tracked.position, tracked.moved_at = position, when
        if len(samples) > 1 and when - samples[-2][0] < SAMPLE_SECONDS:
            samples[-1] = (when, position)  # a busy key keeps one sample a tenth of a second
        else:
            samples.append((when, position))
        while len(samples) > 2 and samples[0][0] < when - self.window:
            tracked.previous = samples.popleft()

    def rows(self, now: float) -> list[ProgressRow]:
        """The panel's lines: running (and stalled) ones first, then other shapes, then done."""
        group = {
            ProgressState.RUNNING: 0,
            ProgressState.STALLED: 0,
            ProgressState.FAILED: 1,
            ProgressState.STOPPED: 1,
            ProgressState.OTHER: 2,
        }
        ranked = []
        for key, tracked in self._tracked.items():
            row = self._row(key, tracked, now)
            ranked.append((group.get(row.state, 3), tracked.order, row))
        ranked.sort(key=lambda ranking: ranking[:2])
        return [row for _, _, row in ranked]

    def _row(self, key: str, tracked: _Tracked, now: float) -> ProgressRow:
        name = tracked.name
        found = progress_of(tracked.value)
        if found is None:
            text = escape_controls(orjson.dumps(tracked.value).decode(), one_line=True)
            if len(text) > LONGEST_TEXT:
                text = f"{text[:LONGEST_TEXT]}…"
            return ProgressRow(key, name, ProgressState.OTHER, text=text)
        current, total, percent = found
        done = (current is not None and total is not None and current >= total) or percent >= 100
        rate = self._rate(tracked, now)
        left = (total - current) if current is not None and total is not None else None
        if left is None:
            left = 100 - percent
        eta = left / rate if not done and rate and rate > 0 and left is not None else None
        if eta is not None and not math.isfinite(eta):
            eta = None
        if done:
            state = ProgressState.DONE
        elif tracked.ended is not None:
            state, eta = tracked.ended, None
        elif now - tracked.moved_at >= self.stall_after:
            state = ProgressState.STALLED
        else:
            state = ProgressState.RUNNING
        return ProgressRow(key, name, state, percent, current, total, rate, eta)

    def _rate(self, tracked: _Tracked, now: float) -> float | None:
        """Progress a second over the window before `now` (None when it cannot be told).

        A key updated less often than the window is measured from its last two samples.
        """
        if now - tracked.moved_at >= self.window:
            return 0.0  # quiet for the whole window: nothing is moving
        samples = tracked.samples
        while samples and samples[0][0] < now - self.window:
            tracked.previous = samples.popleft()
        if len(samples) >= 2:
            (first_time, first), (last_time, last) = samples[0], samples[-1]
        elif samples and tracked.previous is not None:
            (first_time, first), (last_time, last) = tracked.previous, samples[-1]
        else:
            return None
        if last_time <= first_time:
            return None
        rate = (last - first) / (last_time - first_time)
        return rate if math.isfinite(rate) else None
