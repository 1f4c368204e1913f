"""Recent values of the keys a person looks at, from the change feed, for sparklines.

Pure Python (no Textual). Only watched keys are kept: the selected one and the last
few selected before it. Every other change costs one set lookup, so a flood of writes
stays as cheap as before. A key's history starts when it is first watched.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Iterable, KeysView

import orjson

from tui.state import Change, Op

KEPT_VALUES = 240
"""Values kept a key (the panel needs 200)."""

RECENT_KEYS = 64
"""Keys selected before the current one whose history is still kept."""


def numbers_in(value: object) -> dict[str, float] | None:
    """The numbers a value holds: {"": n} for a number, its numeric fields for an object."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {"": float(value)}
    if isinstance(value, dict):
        found = {
            name: float(field)
            for name, field in value.items()
            if isinstance(field, int | float) and not isinstance(field, bool)
        }
        return found or None
    return None


class ValueHistory:
    """The last KEPT_VALUES numbers of each watched key, by field."""

    def __init__(self) -> None:
        self._recent: OrderedDict[str, dict[str, deque[float]]] = OrderedDict()
        self._moved: dict[str, dict[str, int]] = {}  # key → field → when it last moved
        self._clock = 0  # counts the values recorded, to order the fields' moves

    def watch(self, key: str, data: bytes | None) -> None:
        """Keep the history of `key` from now on, starting with its value now (`data`)."""
        if key not in self._recent:
            self._recent[key] = {}
            if data is not None:
                self._record(key, data)
        self._recent.move_to_end(key)
        while len(self._recent) > RECENT_KEYS:
            gone, _ = self._recent.popitem(last=False)
            self._moved.pop(gone, None)

    @property
    def keys(self) -> KeysView[str]:
        """The watched keys."""
        return self._recent.keys()

    def apply(self, changes: Iterable[Change]) -> None:
        """Record the new values of watched keys."""
        watched = self._recent
        for change in changes:
            if change.key in watched and change.op is Op.SET and change.value is not None:
                self._record(change.key, change.value)

    def _record(self, key: str, data: bytes) -> None:
        if len(data) > 4096:
            return  # too big to be a counter: not decoded at every change
        found = numbers_in(orjson.loads(data))
        if not found:
            return
        series = self._recent[key]
        moved = self._moved.setdefault(key, {})
        self._clock += 1
        for name, number in found.items():
            values = series.get(name)
            if values is None:
                values = series[name] = deque(maxlen=KEPT_VALUES)
            elif values[-1] != number:
                moved[name] = self._clock
            values.append(number)

    def fields(self, key: str) -> list[str]:
        """The numeric fields recorded for `key` ("" for a plain number): the one that
        changed most recently first, then the others that changed, then the still ones
        by name."""
        moved = self._moved.get(key, {})
        return sorted(self._recent.get(key, {}), key=lambda name: (-moved.get(name, 0), name))

    def values(self, key: str, field: str = "") -> list[float]:
        """The recorded values of one field of `key`, oldest first."""
        return list(self._recent.get(key, {}).get(field, ()))
