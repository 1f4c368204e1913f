"""Who wrote, numbered: each (source, origin) pair gets a small number once.

The memory backend and the memory change log pack a number into each entry and
change rather than two strings. Runs write in streaks, so the last pair is kept at
hand: callers compare it by identity before asking `number`.
"""

from __future__ import annotations


class Writers:
    """The (source, origin) pairs seen, each with its number."""

    __slots__ = ("_ids", "_pairs", "last")

    def __init__(self) -> None:
        self._pairs: list[tuple[str, str]] = []
        self._ids: dict[tuple[str, str], int] = {}
        self.last: tuple[str, str, int] = ("", "", -1)
        """The last pair numbered, with its number: (source, origin, number)."""

    def number(self, source: str, origin: str) -> int:
        """The number of a pair, given at its first sight."""
        pair = (source, origin)
        number = self._ids.get(pair)
        if number is None:
            number = self._ids[pair] = len(self._pairs)
            self._pairs.append(pair)
        self.last = (source, origin, number)
        return number

    def __getitem__(self, number: int) -> tuple[str, str]:
        """The (source, origin) of a number."""
        return self._pairs[number]
