"""What changed between two JSON values, one line a place, for showing what a write did.

Pure Python (no Textual). deepdiff does the diffing. A walk before it drops what is
plainly equal, so that deepdiff, which costs some microseconds a node it visits, sees
only the parts that differ: the entries of an object that differ, and of an array what
lies between the items equal at both ends. The walk reports an array that only grew or
shrank at one place itself, as one line. Items added or removed next to each other in
an array make one line too, with a slice for a path: `$.items[100:5100]`.

JSON's types, not Python's: 1 and 1.0 are the same number, while true and 1 differ in
type. A key that does not exist is MISSING, which is not null.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import Final, NamedTuple

import orjson
from deepdiff import DeepDiff
from deepdiff.helper import notpresent
from deepdiff.model import DiffLevel


class _Missing:
    """The type of MISSING."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()
"""No value at all, as for a key before it is created or after it is deleted (null is a value)."""

MORE_PATH: Final = "…"
"""The path of the last line of a diff cut at its limit; its `new` says how many lines are left."""


class DiffKind(StrEnum):
    """What happened at a path."""

    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"
    TYPE = "type"  # the value changed its JSON type, e.g. number -> string


class DiffLine(NamedTuple):
    """One place where two values differ, summarised for one line each side."""

    kind: DiffKind
    path: str  # "$" for the whole value, then `.name`, `["odd key"]`, `[3]` or `[3:7]`
    old: str  # the old value summarised, "" for ADDED
    new: str  # the new value summarised, "" for REMOVED


_Part = str | int | tuple[int, int]  # an object key, an array index, a run of indices [start:stop)


class _Change(NamedTuple):
    """A DiffLine before its values are summarised: the values, and the path as parts."""

    kind: DiffKind
    parts: tuple[_Part, ...]
    old: object  # MISSING for ADDED; a list of the items for a run of removed items
    new: object  # MISSING for REMOVED; a list of the items for a run of added items


_KIND_ORDER: Final = {DiffKind.REMOVED: 0, DiffKind.TYPE: 1, DiffKind.CHANGED: 1, DiffKind.ADDED: 2}
_IDENTIFIER: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def diff(old: object, new: object, *, limit: int = 200) -> list[DiffLine]:
    """The places where `new` differs from `old`, in document order, at most `limit` lines.

    Objects' keys sort by name, arrays' items by index. Pass MISSING for a value that
    does not exist. A removed array item's path names its index in `old`, every other
    path a place in `new`. When there are more lines than `limit`, the last one is
    DiffLine(CHANGED, MORE_PATH, "", "1,234 more changes"), counting the lines left out.
    """
    if limit < 1:
        raise ValueError(f"a diff's limit is at least 1 line, not {limit}")
    changes = sorted(_grouped(_changes(old, new)), key=_order)
    if len(changes) <= limit:
        return [_line(change) for change in changes]
    more = len(changes) - (limit - 1)
    marker = DiffLine(DiffKind.CHANGED, MORE_PATH, "", f"{more:,} more changes")
    return [*(_line(change) for change in changes[: limit - 1]), marker]


def summarise(value: object, width: int = 60) -> str:
    """One line of about `width` characters for a value.

    Scalars as JSON. A long string is cut: `"aaaa…" (10,000 chars)`. Arrays and objects
    are compact JSON when it fits, otherwise their first items, `[1, 2, 3, … 9,997 more]
    (10,000 items)`, or their first keys, `{a, b, c, … 40 more keys}`.
    """
    if isinstance(value, str):
        return _string(value, width)
    if isinstance(value, dict):
        return _object(value, width)
    if isinstance(value, list | tuple):
        return _array(value, width)
    return _scalar(value)


# The diff


def _changes(old: object, new: object) -> list[_Change]:
    """Every change, before runs of array items are grouped."""
    if old is MISSING and new is MISSING:
        return []
    if old is MISSING or new is MISSING:
        kind = DiffKind.ADDED if old is MISSING else DiffKind.REMOVED
        return [_Change(kind, (), old, new)]
    walk = _Walk()
    pair = walk.prune(old, new, (), ())
    if pair is not None:
        # deepdiff aligns arrays of scalars by Python's ==, for which True == 1: when the
        # arrays it is given hold booleans, it pairs their items by index instead.
        by_index = _bool_in_array(pair[0]) or _bool_in_array(pair[1])
        for report, levels in _deepdiff(*pair, by_index=by_index).items():
            for level in levels:
                change = walk.change(report, level)
                if change is not None:
                    walk.changes.append(change)
    return walk.changes


def _deepdiff(old: object, new: object, *, by_index: bool) -> DeepDiff:
    """deepdiff's tree of changes, JSON's way; `by_index` pairs arrays' items by index."""
    return DeepDiff(
        old,
        new,
        view="tree",  # levels with both values, and paths as lists
        # 1 == 1.0 but True != 1: ignore_numeric_type_changes would take a bool for a
        # number too, bool being a subclass of int.
        ignore_type_in_groups=[(int, float)],
        ignore_type_subclasses=True,
        # By default an object with a third of its keys changed is one change, whole.
        threshold_to_diff_deeper=0,
        # By default keys that start with "__" are skipped, as private attributes.
        ignore_private_variables=False,
        zip_ordered_iterables=by_index,
    )


class _Walk:
    """The walk before deepdiff: what it leaves deepdiff, and what it found itself."""

    def __init__(self) -> None:
        self.changes: list[_Change] = []
        # Where an array was cut to what lies between its equal ends: the path of the
        # array in the values given to deepdiff → the index its first item had.
        self._offsets: dict[tuple[_Part, ...], int] = {}

    def prune(
        self, old: object, new: object, parts: tuple[_Part, ...], at: tuple[_Part, ...]
    ) -> tuple[object, object] | None:
        """The parts of `old` and `new` that differ, or None when they are equal.

        `parts` is their path, `at` their path in the values returned at the top.
        """
        if _same(old, new):
            return None
        if isinstance(old, dict) and isinstance(new, dict):
            return self._prune_object(old, new, parts, at)
        if isinstance(old, list) and isinstance(new, list):
            return self._prune_array(old, new, parts, at)
        if _json_type(old) == _json_type(new) and old == new:
            return None  # 1 and 1.0
        return old, new

    def _prune_object(
        self,
        old: dict[object, object],
        new: dict[object, object],
        parts: tuple[_Part, ...],
        at: tuple[_Part, ...],
    ) -> tuple[object, object] | None:
        old_left = {key: value for key, value in old.items() if key not in new}
        new_left = {key: value for key, value in new.items() if key not in old}
        alike: list[object] = []
        unlike: list[object] = []
        for key in old:
            if key in new:
                (alike if old[key] == new[key] else unlike).append(key)
        # Python's == takes True for 1: check the entries it finds equal all at once.
        if alike and not _same({key: old[key] for key in alike}, {key: new[key] for key in alike}):
            unlike += alike
        for key in unlike:
            key_part = key if isinstance(key, str | int) else str(key)
            pair = self.prune(old[key], new[key], (*parts, key_part), (*at, key_part))
            if pair is not None:
                old_left[key], new_left[key] = pair
        return (old_left, new_left) if old_left or new_left else None

    def _prune_array(
        self,
        old: list[object],
        new: list[object],
        parts: tuple[_Part, ...],
        at: tuple[_Part, ...],
    ) -> tuple[object, object] | None:
        start, old_stop, new_stop = _between_equal_ends(old, new)
        old_middle, new_middle = old[start:old_stop], new[start:new_stop]
        if not old_middle and not new_middle:
            return None
        if not old_middle:
            self.changes.append(_items(DiffKind.ADDED, parts, start, new_middle))
            return None
        if not new_middle:
            self.changes.append(_items(DiffKind.REMOVED, parts, start, old_middle))
            return None
        if len(old_middle) == 1 and len(new_middle) == 1:  # one item, changed in place
            pair = self.prune(old_middle[0], new_middle[0], (*parts, start), (*at, 0))
            if pair is None:
                return None
            self._offsets[at] = start
            return [pair[0]], [pair[1]]
        self._offsets[at] = start
        return old_middle, new_middle

    def change(self, report: str, level: DiffLevel) -> _Change | None:
        """The change deepdiff reports as `report` at `level`, if any."""
        old = MISSING if level.t1 is notpresent else level.t1
        new = MISSING if level.t2 is notpresent else level.t2
        if report == "iterable_item_moved":
            return None  # an equal item, paired with one at another index
        if report in ("dictionary_item_added", "iterable_item_added"):
            kind = DiffKind.ADDED
        elif report in ("dictionary_item_removed", "iterable_item_removed"):
            kind = DiffKind.REMOVED
        elif _json_type(old) != _json_type(new):
            kind = DiffKind.TYPE
        elif old == new:
            return None
        else:
            kind = DiffKind.CHANGED
        path = level.path(output_format="list", use_t2=kind is not DiffKind.REMOVED)
        return _Change(kind, self._real_parts(path), old, new)

    def _real_parts(self, path: Iterable[_Part]) -> tuple[_Part, ...]:
        """The path in the values walked for a path in the values given to deepdiff."""
        parts: list[_Part] = []
        at: list[_Part] = []
        for step in path:
            if isinstance(step, int):
                parts.append(step + self._offsets.get(tuple(at), 0))
            else:
                parts.append(step)
            at.append(step)
        return tuple(parts)


def _same(old: object, new: object) -> bool:
    """Whether two values are plainly the same JSON: equal, of the same types throughout.

    It may say no for equal values (1 and 1.0 inside them), never yes for different ones.
    """
    if old is new:
        return True
    if type(old) is not type(new) or old != new:
        return False
    if isinstance(old, dict | list):
        # Python's == takes True for 1 inside them; their JSON does not.
        encoded = _encoded(old)
        return encoded is not None and encoded == _encoded(new)
    return True


def _encoded(value: object) -> bytes | None:
    """The JSON of a value with its objects' keys sorted, or None if it is not JSON."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # orjson.JSONEncodeError: not JSON, or an integer past 64 bits
        return None


def _between_equal_ends(old: Sequence[object], new: Sequence[object]) -> tuple[int, int, int]:
    """Where two arrays stop being the same from their start and from their end."""
    start = 0
    shorter = min(len(old), len(new))
    while start < shorter and _same(old[start], new[start]):
        start += 1
    old_stop, new_stop = len(old), len(new)
    while old_stop > start and new_stop > start and _same(old[old_stop - 1], new[new_stop - 1]):
        old_stop -= 1
        new_stop -= 1
    return start, old_stop, new_stop


def _bool_in_array(value: object) -> bool:
    """Whether a value holds an array with a boolean among its items."""
    if isinstance(value, dict):
        return any(_bool_in_array(item) for item in value.values())
    if isinstance(value, list):
        return any(isinstance(item, bool) or _bool_in_array(item) for item in value)
    return False


def _json_type(value: object) -> str:
    """The JSON type of a value: null, boolean, number, string, array or object."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _items(kind: DiffKind, parent: tuple[_Part, ...], start: int, items: list[object]) -> _Change:
    """The change for array items added or removed from `start` on: a run if more than one."""
    if len(items) == 1:
        part: _Part = start
        value: object = items[0]
    else:
        part, value = (start, start + len(items)), items
    if kind is DiffKind.ADDED:
        return _Change(kind, (*parent, part), MISSING, value)
    return _Change(kind, (*parent, part), value, MISSING)


def _grouped(changes: list[_Change]) -> list[_Change]:
    """The changes with array items added or removed next to each other made runs."""
    runs: dict[tuple[DiffKind, tuple[_Part, ...]], list[tuple[int, object]]] = {}
    grouped: list[_Change] = []
    for change in changes:
        last = change.parts[-1] if change.parts else None
        if change.kind in (DiffKind.ADDED, DiffKind.REMOVED) and isinstance(last, int):
            value = change.new if change.kind is DiffKind.ADDED else change.old
            runs.setdefault((change.kind, change.parts[:-1]), []).append((last, value))
        else:
            grouped.append(change)
    for (kind, parent), indexed in runs.items():
        indexed.sort(key=lambda item: item[0])
        start, items = indexed[0][0], [indexed[0][1]]
        for index, value in indexed[1:]:
            if index != start + len(items):
                grouped.append(_items(kind, parent, start, items))
                start, items = index, []
            items.append(value)
        grouped.append(_items(kind, parent, start, items))
    return grouped


def _order(change: _Change) -> tuple[tuple[tuple[int, int, int, str], ...], int]:
    """Sort key for a change: its path part by part, indices by number, then its kind."""
    parts = []
    for part in change.parts:
        if isinstance(part, str):
            parts.append((1, 0, 0, part))
        elif isinstance(part, int):
            parts.append((0, part, part, ""))
        else:
            parts.append((0, part[0], part[1], ""))
    return tuple(parts), _KIND_ORDER[change.kind]


def _line(change: _Change) -> DiffLine:
    """The line for a change."""
    old = "" if change.old is MISSING else summarise(change.old)
    new = "" if change.new is MISSING else summarise(change.new)
    return DiffLine(change.kind, _path(change.parts), old, new)


def _path(parts: tuple[_Part, ...]) -> str:
    """A readable path: `$.settings.timeout`, `$["odd key"]`, `$.items[3]`, `$.items[3:7]`."""
    text = ["$"]
    for part in parts:
        if isinstance(part, str):
            text.append(f".{part}" if _IDENTIFIER.fullmatch(part) else f"[{_quoted(part)}]")
        elif isinstance(part, int):
            text.append(f"[{part}]")
        else:
            text.append(f"[{part[0]}:{part[1]}]")
    return "".join(text)


# Summaries


def _quoted(text: str) -> str:
    """A string as JSON."""
    return json.dumps(text, ensure_ascii=False)


def _name(key: object) -> str:
    """An object's key as a summary shows it: bare if it is an identifier."""
    key = key if isinstance(key, str) else str(key)
    return key if _IDENTIFIER.fullmatch(key) else _quoted(key)


def _scalar(value: object) -> str:
    """null, a boolean or a number as JSON (anything else as Python shows it)."""
    if value is None or isinstance(value, bool | int | float):
        return json.dumps(value)
    return repr(value)


def _string(text: str, width: int) -> str:
    """A string as JSON, cut to about `width` characters with its length if too long."""
    if len(text) + 2 <= width:
        quoted = _quoted(text)
        if len(quoted) <= width:
            return quoted
    length = f" ({len(text):,} chars)"
    return f'"{_head(text, width - len(length) - 3)}…"{length}'  # 3: quotes and ellipsis


def _head(text: str, room: int) -> str:
    """The start of a string escaped as in JSON, at most `room` characters (at least one)."""
    escaped = _quoted(text[: max(room, 1)])[1:-1]
    if len(escaped) <= room:
        return escaped
    pieces: list[str] = []  # escapes made it longer: as many characters as fit
    used = 0
    for char in text[:room]:
        piece = _quoted(char)[1:-1]
        if used + len(piece) > room and pieces:
            break
        pieces.append(piece)
        used += len(piece)
    return "".join(pieces)


def _compact(value: object, room: int) -> str | None:
    """A value's JSON with a space after commas and colons, or None if longer than `room`.

    Reads no more of the value than `room` characters' worth.
    """
    if isinstance(value, str):
        if len(value) + 2 > room:
            return None
        text = _quoted(value)
    elif isinstance(value, dict):
        pieces = []
        used = 2
        for key, item in value.items():
            key_text = _quoted(key if isinstance(key, str) else str(key))
            item_text = _compact(item, room - used - len(key_text) - 2)
            if item_text is None:
                return None
            pieces.append(f"{key_text}: {item_text}")
            used += len(pieces[-1]) + 2
            if used - 2 > room:
                return None
        text = "{" + ", ".join(pieces) + "}"
    elif isinstance(value, list | tuple):
        pieces = []
        used = 2
        for item in value:
            item_text = _compact(item, room - used)
            if item_text is None:
                return None
            pieces.append(item_text)
            used += len(item_text) + 2
            if used - 2 > room:
                return None
        text = "[" + ", ".join(pieces) + "]"
    else:
        text = _scalar(value)
    return text if len(text) <= room else None


def _glimpse(value: object) -> str:
    """A few characters for an item of an array too long to show whole."""
    if isinstance(value, dict):
        return "{…}"
    if isinstance(value, list | tuple):
        return "[…]"
    if isinstance(value, str):
        return _quoted(value) if len(value) <= 8 else f'"{_head(value, 8)}…"'
    return _scalar(value)


def _array(items: Sequence[object], width: int) -> str:
    """An array as compact JSON if it fits `width`, else its first items and its length."""
    whole = _compact(items, width)
    if whole is not None:
        return whole
    length = f" ({len(items):,} items)"
    room = width - len(length)
    shown: list[str] = []
    used = 1  # "["
    for item in items:
        piece = _compact(item, room - used) or _glimpse(item)
        rest = len(items) - len(shown) - 1
        tail = f", … {rest:,} more]" if rest else "]"
        if used + len(piece) + len(tail) > room and shown:
            break
        shown.append(piece)
        used += len(piece) + 2
    rest = len(items) - len(shown)
    tail = f", … {rest:,} more]" if rest else "]"
    return "[" + ", ".join(shown) + tail + length


def _object(fields: dict[object, object], width: int) -> str:
    """An object as compact JSON if it fits `width`, else its first keys."""
    whole = _compact(fields, width)
    if whole is not None:
        return whole
    shown: list[str] = []
    used = 1  # "{"
    for key in fields:
        name = _name(key)
        rest = len(fields) - len(shown) - 1
        tail = f", … {rest:,} more keys}}" if rest else "}"
        if used + len(name) + len(tail) > width and shown:
            break
        shown.append(name)
        used += len(name) + 2
    rest = len(fields) - len(shown)
    tail = f", … {rest:,} more keys}}" if rest else "}"
    return "{" + ", ".join(shown) + tail
