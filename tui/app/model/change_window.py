"""The change log's model: the changes it holds, newest last, and which of them it shows.

Pure Python (no Textual). Each change is kept as a plain tuple without its value (a
Row; a ChangeRow when named), and a Gap stands where changes went unseen. A
ChangeWindow keeps the newest of them, dropping the oldest past its limit, and the
positions of the lines its ChangeFilter (keys by glob or text, sources by `@word`)
shows, so that adding lines costs what the new lines cost.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import compress
from operator import and_, itemgetter, or_
from typing import NamedTuple

from tui.state import Change, Op
from tui.state.key_filter import KeyFilter

MAX_CHANGES = 100_000
"""Changes the screen keeps; the oldest go first past it."""


Row = tuple[str, str, int, str, float, int | None, str]
"""One change as the screen keeps it, as ChangeRow has it, without the value.

A plain tuple of plain values: the garbage collector stops looking at it after one
pass (it never does for a NamedTuple), however many are kept.
"""


class ChangeRow(NamedTuple):
    """One change as a line of the list shows it (a Row, named)."""

    op: str
    """`set`, `delete`, `expire` or `evict` (an Op's value)."""
    key: str
    version: int
    source: str
    time: float
    size: int | None
    """Bytes of the new value as JSON; None for a removal (delete, expire, evict)."""
    origin: str
    """Lua `file:line` of the write; "" when no script line made it."""


@dataclass(frozen=True, slots=True)
class Gap:
    """Changes the screen never received: it fell behind the store's feed."""

    missed: int


Line = Row | Gap
"""A line of the list: a change, or a gap where changes went unseen."""

# A Row's key, source and file:line, taken in C.
key_of = itemgetter(1)
source_of = itemgetter(3)
origin_of = itemgetter(6)
_SET = str(Op.SET.value)
_TEXT = {op: str(op.value) for op in Op}  # plain text, not the enum


def change_rows(changes: Sequence[Change]) -> list[Row]:
    """The changes as the screen keeps them (their values let go: only sizes stay)."""
    return [
        (_TEXT[op], key, version, source, when, None, origin)
        if value is None
        else (_SET, key, version, source, when, len(value), origin)
        for op, key, version, source, when, value, origin, *_ in changes
    ]


class _Memo(dict[str, bool]):
    """A test of a text, remembered: most keys and sources come again and again, and a
    hit is a dict lookup in C."""

    def __init__(self, test: Callable[[str], bool]) -> None:
        super().__init__()
        self._test = test

    def __missing__(self, text: str) -> bool:
        if len(self) >= _MEMO_SIZE:
            self.clear()
        found = self[text] = self._test(text)
        return found


_MEMO_SIZE = 65_536


@dataclass(frozen=True)
class ChangeFilter:
    """Which changes the list shows: a key filter (the key tree's glob or text) and
    sources.

    Typed as one line: words starting with `@` are sources, the rest is the key filter
    (`jobs:* @import.lua`). A source word matches anywhere in a change's source or its
    file:line; with several, a change matching any of them is shown. Like the key filter,
    a source word ignores case unless it has a capital letter in it. Gaps always show.
    """

    text: str
    keys: KeyFilter | None
    sources: tuple[str, ...]
    _key_shown: _Memo = field(repr=False, compare=False)
    _writer_shown: _Memo = field(repr=False, compare=False)

    @classmethod
    def parse(cls, text: str) -> ChangeFilter | None:
        """The filter for what was typed, or None when it filters nothing."""
        words = text.split()
        sources = tuple(word[1:] for word in words if word.startswith("@") and len(word) > 1)
        keys = KeyFilter.parse(" ".join(word for word in words if not word.startswith("@")))
        if keys is None and not sources:
            return None
        cased = [(word, word != word.lower()) for word in sources]

        def writer_shown(text: str) -> bool:
            folded = text.lower()
            return any(word in (text if exact else folded) for word, exact in cased)

        key_shown = _Memo(keys if keys is not None else lambda key: True)
        return cls(" ".join(words), keys, sources, key_shown, _Memo(writer_shown))

    def __call__(self, line: Line) -> bool:
        """Whether the list shows `line`."""
        if isinstance(line, Gap):
            return True
        _, key, _, source, _, _, origin = line
        if not self._key_shown[key]:
            return False
        return not self.sources or self._writer_shown[source] or self._writer_shown[origin]

    def select(self, rows: Sequence[Row], start: int) -> list[int]:
        """The positions of the rows shown, of `rows` placed from position `start` on."""
        shown: Iterable[bool] | None = None
        if self.keys is not None:
            shown = map(self._key_shown.__getitem__, map(key_of, rows))
        if self.sources:
            writer = self._writer_shown.__getitem__
            by_writer = map(
                or_, map(writer, map(source_of, rows)), map(writer, map(origin_of, rows))
            )
            shown = by_writer if shown is None else map(and_, shown, by_writer)
        positions = range(start, start + len(rows))
        return list(positions if shown is None else compress(positions, shown))


class ChangeWindow:
    """The lines the screen holds, oldest first: the newest `limit`, and which of them
    the filter shows.

    Each line keeps its position, counted from the first line ever added, so that
    dropping the oldest moves nothing. Adding costs what the new lines cost; only a new
    filter looks at every line.
    """

    def __init__(self, limit: int = MAX_CHANGES) -> None:
        self.limit = limit
        self._lines: list[Line] = []
        self._base = 0  # the position of _lines[0]
        self._head = 0  # _lines[:_head] are dropped (cut off in bulk, now and then)
        self._filter: ChangeFilter | None = None
        self._shown: list[int] = []  # positions of the lines the filter shows
        self._shown_head = 0  # _shown[:_shown_head] are dropped
        self._gaps: deque[int] = deque()  # positions of the gaps kept

    @property
    def first(self) -> int:
        """The position of the oldest line kept."""
        return self._base + self._head

    @property
    def end(self) -> int:
        """The position the next line will get."""
        return self._base + len(self._lines)

    @property
    def dropped(self) -> int:
        """Lines dropped so far to stay within the limit."""
        return self.first

    @property
    def kept(self) -> int:
        """Changes kept (gaps not counted)."""
        return len(self._lines) - self._head - len(self._gaps)

    @property
    def shown(self) -> int:
        """Lines the filter shows (gaps included)."""
        if self._filter is None:
            return len(self._lines) - self._head
        return len(self._shown) - self._shown_head

    @property
    def shown_changes(self) -> int:
        """Changes the filter shows (gaps not counted)."""
        return self.shown - len(self._gaps)

    @property
    def change_filter(self) -> ChangeFilter | None:
        """The filter applied, if any."""
        return self._filter

    def line(self, position: int) -> Line:
        """The line at a position (one of those kept)."""
        return self._lines[position - self._base]

    def position(self, index: int) -> int:
        """The position of the `index`-th line shown."""
        if self._filter is None:
            return self.first + index
        return self._shown[self._shown_head + index]

    def index_of(self, position: int) -> int:
        """The index, among the lines shown, of the line at `position` or of the first
        shown after it (`shown` when none is)."""
        if self._filter is None:
            return max(0, position - self.first)
        return bisect_left(self._shown, position, lo=self._shown_head) - self._shown_head

    def shown_lines(self) -> list[Line]:
        """Every line shown, oldest first (a copy: for tests and tools, not per frame)."""
        if self._filter is None:
            return self._lines[self._head :]
        return [self.line(position) for position in self._shown[self._shown_head :]]

    def extend(self, rows: Sequence[Row], missed: int = 0) -> tuple[int, int]:
        """Add changes at the end (after a gap of `missed` changes not seen, if any),
        dropping the oldest lines past the limit.

        Returns how many lines shown were added, and how many shown were dropped.
        """
        start = self.end
        lines: Sequence[Line] = rows
        if missed:
            self._gaps.append(start)
            lines = [Gap(missed), *rows]
        self._lines.extend(lines)
        added = len(lines)
        if self._filter is not None:
            fresh = self._filter.select(rows, self.end - len(rows))
            added = len(fresh) + (1 if missed else 0)
            if missed:
                self._shown.append(start)  # a gap shows through any filter
            self._shown.extend(fresh)
        return added, self._trim()

    def refilter(self, change_filter: ChangeFilter | None) -> None:
        """Show the lines that `change_filter` shows (every line for None)."""
        self._filter = change_filter
        self._shown_head = 0
        self._shown = []
        if change_filter is None:
            return
        # A run of changes between two gaps at a time (gaps are few, and always shown).
        first = self.first
        for gap in [*self._gaps, self.end]:
            if gap > first:
                rows = self._lines[first - self._base : gap - self._base]
                self._shown.extend(change_filter.select(rows, first))  # type: ignore[arg-type]
            if gap < self.end:
                self._shown.append(gap)
            first = gap + 1

    def _trim(self) -> int:
        excess = len(self._lines) - self._head - self.limit
        if excess <= 0:
            return 0
        self._head += excess
        first = self.first
        gaps = self._gaps
        while gaps and gaps[0] < first:
            gaps.popleft()
        gone = excess
        if self._filter is not None:
            head = bisect_left(self._shown, first, lo=self._shown_head)
            gone, self._shown_head = head - self._shown_head, head
            if head > 4096 and head * 2 > len(self._shown):
                del self._shown[:head]
                self._shown_head = 0
        if self._head > 4096 and self._head * 2 > len(self._lines):
            # Cut off in bulk: each line is moved once for every line dropped, at most.
            del self._lines[: self._head]
            self._base += self._head
            self._head = 0
        return gone
