"""The key filter: a glob (`cache:*:user_1*`) or a plain piece of text, matched to keys."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

GLOB_CHARACTERS = frozenset("*?[")
"""A filter with any of these is a glob; without, it is text a key must contain."""


@dataclass(frozen=True)
class KeyFilter:
    """Which keys the tree shows.

    A glob matches the whole key (`*` matches any text, delimiters included, `?` one
    character, `[abc]` one of a set). Plain text matches anywhere in the key. Both
    ignore case unless the filter has a capital letter in it.
    """

    text: str
    _find: Callable[[str], re.Match[str] | None] = field(repr=False, compare=False)

    @classmethod
    def parse(cls, text: str) -> KeyFilter | None:
        """The filter for what was typed, or None for nothing (every key is shown)."""
        if not text:
            return None
        flags = 0 if any(c.isupper() for c in text) else re.IGNORECASE
        if GLOB_CHARACTERS.intersection(text):
            # fnmatch's pattern ends in \Z: `match` then covers the whole key.
            return cls(text, re.compile(fnmatch.translate(text), flags).match)
        return cls(text, re.compile(re.escape(text), flags).search)

    def __call__(self, key: str) -> bool:
        """Whether the tree shows `key`."""
        return self._find(key) is not None

    def select(self, keys: Iterable[str]) -> list[str]:
        """The keys the tree shows, of `keys` (one pass in C)."""
        return list(filter(self._find, keys))
