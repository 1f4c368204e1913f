"""The key tree's model: keys grouped into folders by a delimiter, with counts, built lazily.

Pure Python (no Textual), fed from the store's keys and its change feed. A folder
splits its keys into sub-folders only when asked for its children, so a million keys
cost one pass over the top level until someone opens a folder.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Iterable
from typing import NamedTuple

_DIGITS = re.compile(r"\d+")
_HAS_DIGIT = re.compile(r"\d").search
_DIGIT_CHARS = "0123456789"


def _padded_digits(match: re.Match[str]) -> str:
    # A run of digits sorts by its length first, then by its digits: 9 < 10 < 011.
    digits = match.group()
    return f"\x01{chr(0x20 + len(digits))}{digits}"


def natural_key(name: str) -> str:
    """Sort key that puts `user_2` before `user_10`: case-insensitive, then exact.

    A plain string, so that sorting compares in C: a hundred thousand names sort in a
    few hundredths of a second. The name itself ends the key, after a NUL (keys hold
    no NUL).
    """
    folded = name.casefold()
    head = folded.rstrip(_DIGIT_CHARS)
    if _HAS_DIGIT(head):  # digits inside the name: the general (slower) way
        return f"{_DIGITS.sub(_padded_digits, folded)}\x00{name}"
    # The common shape, a name that may end in a number (`user_123`), without a regex.
    width = len(folded) - len(head)
    return f"{head}\x01{chr(0x20 + width)}{folded[len(head) :]}\x00{name}"


def name_of(key: str) -> str:
    """The name a natural key was made from."""
    return key[key.rindex("\x00") + 1 :]


class NaturalOrder:
    """Names kept in natural order, cheaply, as names come and go.

    Only the first names are ever asked for (a page of the tree), so additions that
    sort after everything shown wait unsorted until someone looks further.
    """

    __slots__ = ("_extra", "_extra_min", "_order", "_removed")

    def __init__(self, names: Iterable[str]) -> None:
        self._order = sorted(map(natural_key, names))
        self._extra: list[str] = []
        self._extra_min = ""
        self._removed: set[str] = set()

    def add(self, name: str) -> None:
        """Take a new name (not one already held)."""
        if name in self._removed:
            self._removed.discard(name)  # still in place: its removal was not applied yet
            return
        key = natural_key(name)
        if not self._extra or key < self._extra_min:
            self._extra_min = key
        self._extra.append(key)

    def remove(self, name: str) -> None:
        """Drop a name that is held."""
        self._removed.add(name)

    def first(self, limit: int | None) -> list[str]:
        """The first `limit` names in natural order (all of them for None)."""
        return self.names(0, limit)

    def names(self, start: int, stop: int | None) -> list[str]:
        """The names from place `start` up to `stop` (the end for None), in natural order.

        Costs the names returned, not the names before them: a page far down a wide
        folder costs what the first page does.
        """
        order = self._order
        if self._removed:
            self._apply_removals()
        if self._extra:
            unaffected = (
                stop is not None and len(order) >= stop > 0 and self._extra_min > order[stop - 1]
            )
            if not unaffected:  # two sorted runs: timsort merges them in linear time
                self._extra.sort()
                order.extend(self._extra)
                order.sort()
                self._extra.clear()
        return [name_of(key) for key in order[start:stop]]

    def _apply_removals(self) -> None:
        removed, order, extra = self._removed, self._order, self._extra
        if len(removed) < 32:
            for name in removed:
                key = natural_key(name)
                at = bisect.bisect_left(order, key)
                if at < len(order) and order[at] == key:
                    del order[at]
                else:
                    extra.remove(key)
        else:
            order[:] = [key for key in order if name_of(key) not in removed]
            extra[:] = [key for key in extra if name_of(key) not in removed]
        removed.clear()


class Child(NamedTuple):
    """One line under a folder: a sub-folder or a key."""

    name: str
    is_folder: bool


class Folder:
    """Keys that share a prefix: their count, and (once opened) sub-folders and keys.

    `prefix` is the text every key below starts with (`workflow:` for the folder
    `workflow`; "" for the root). Until opened, a folder keeps its keys' remainders
    unsorted in `_pending`; once its children are asked for, it keeps them in order.
    """

    __slots__ = ("_folder_order", "_leaf_order", "_pending", "count", "folders", "leaves", "prefix")

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.count = 0
        """How many keys start with `prefix`."""
        self.folders: dict[str, Folder] = {}
        self.leaves: set[str] = set()
        self._pending: set[str] | None = set()
        self._folder_order: NaturalOrder | None = None
        self._leaf_order: NaturalOrder | None = None

    @property
    def is_open(self) -> bool:
        """Whether the folder has split its keys into children."""
        return self._pending is None

    def children(self, delimiter: str, limit: int | None = None, start: int = 0) -> list[Child]:
        """Up to `limit` lines from place `start` of: sub-folders then keys, each in natural
        order.

        Opens the folder if needed.
        """
        self.open(delimiter)
        if self._folder_order is None:
            self._folder_order = NaturalOrder(self.folders)
            self._leaf_order = NaturalOrder(self.leaves)
        assert self._leaf_order is not None
        stop = None if limit is None else start + limit
        folders = len(self.folders)
        lines: list[Child] = []
        if start < folders:
            lines.extend(
                Child(name, True)
                for name in self._folder_order.names(
                    start, None if stop is None else min(stop, folders)
                )
            )
        if stop is None or stop > folders:
            leaf_stop = None if stop is None else stop - folders
            lines.extend(
                Child(name, False)
                for name in self._leaf_order.names(max(0, start - folders), leaf_stop)
            )
        return lines

    def child_count(self, delimiter: str) -> int:
        """How many lines `children` gives without a limit."""
        self.open(delimiter)
        return len(self.folders) + len(self.leaves)

    def open(self, delimiter: str) -> None:
        """Split the pending keys into sub-folders and keys."""
        pending = self._pending
        if pending is None:
            return
        self._pending = None
        # Keys hold no NUL, so the delimiter is in this text only if it is in a key: a
        # folder of keys alone (the usual wide one) takes its set as it is.
        if delimiter not in "\x00".join(pending):
            self.leaves = pending
            return
        folders, leaves = self.folders, self.leaves
        for rest in pending:
            head, found, tail = rest.partition(delimiter)
            if not found:
                leaves.add(head)
                continue
            child = folders.get(head)
            if child is None:
                child = folders[head] = Folder(f"{self.prefix}{head}{delimiter}")
            child.count += 1
            child._pending.add(tail)  # type: ignore[union-attr]  # a new folder is closed

    def _add_leaf(self, name: str) -> None:
        self.leaves.add(name)
        if self._leaf_order is not None:
            self._leaf_order.add(name)

    def _remove_leaf(self, name: str) -> None:
        self.leaves.discard(name)
        if self._leaf_order is not None:
            self._leaf_order.remove(name)

    def _add_folder(self, name: str, delimiter: str) -> Folder:
        child = self.folders[name] = Folder(f"{self.prefix}{name}{delimiter}")
        if self._folder_order is not None:
            self._folder_order.add(name)
        return child

    def _remove_folder(self, name: str) -> None:
        del self.folders[name]
        if self._folder_order is not None:
            self._folder_order.remove(name)


class KeyIndex:
    """All keys as a tree of folders split on `delimiter`, kept up to date change by change.

    `add` and `remove` say whether the key set changed, and record the prefixes of the
    open folders whose children changed in `changed` (the caller clears it).
    """

    def __init__(self, delimiter: str = ":", keys: Iterable[str] = ()) -> None:
        if not delimiter:
            raise ValueError("the delimiter must not be empty")
        self.delimiter = delimiter
        self.root = Folder("")
        self.changed: set[str] = set()
        """Prefixes of open folders whose sub-folders or keys changed."""
        pending = self.root._pending
        assert pending is not None
        pending.update(keys)
        self.root.count = len(pending)

    def __len__(self) -> int:
        return self.root.count

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._locate(key) is not None

    def folder(self, prefix: str) -> Folder | None:
        """The folder for `prefix` (`""` or ending in the delimiter), opening its parents."""
        node = self.root
        if not prefix:
            return node
        if not prefix.endswith(self.delimiter):
            return None
        for name in prefix[: -len(self.delimiter)].split(self.delimiter):
            node.open(self.delimiter)
            found = node.folders.get(name)
            if found is None:
                return None
            node = found
        return node

    def add(self, key: str) -> bool:
        """Record that `key` exists; True if it is new."""
        delimiter = self.delimiter
        path: list[Folder] = []
        node, rest = self.root, key
        while True:
            path.append(node)
            pending = node._pending
            if pending is not None:
                if rest in pending:
                    return False
                pending.add(rest)
                break
            head, found, tail = rest.partition(delimiter)
            if not found:
                if head in node.leaves:
                    return False
                node._add_leaf(head)
                self.changed.add(node.prefix)
                break
            child = node.folders.get(head)
            if child is None:
                child = node._add_folder(head, delimiter)
                self.changed.add(node.prefix)
            node, rest = child, tail
        for folder in path:
            folder.count += 1
        return True

    def remove(self, key: str) -> bool:
        """Record that `key` is gone; True if it was there."""
        path = self._locate(key)
        if path is None:
            return False
        delimiter = self.delimiter
        node, rest = path[-1]
        pending = node._pending
        if pending is not None:
            pending.discard(rest)
        else:
            node._remove_leaf(rest)
            self.changed.add(node.prefix)
        for folder, _ in path:
            folder.count -= 1
        # Folders left empty disappear from their parent.
        for (parent, _), (child, _) in itertools.pairwise(path):
            if child.count == 0:
                parent._remove_folder(child.prefix[len(parent.prefix) : -len(delimiter)])
                self.changed.add(parent.prefix)
                break
        return True

    def _locate(self, key: str) -> list[tuple[Folder, str]] | None:
        """The folders from the root down to where `key` is kept, with the rest of the key."""
        delimiter = self.delimiter
        path: list[tuple[Folder, str]] = []
        node, rest = self.root, key
        while True:
            path.append((node, rest))
            pending = node._pending
            if pending is not None:
                return path if rest in pending else None
            head, found, tail = rest.partition(delimiter)
            if not found:
                return path if head in node.leaves else None
            child = node.folders.get(head)
            if child is None:
                return None
            node, rest = child, tail
