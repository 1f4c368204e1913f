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

_DIGITS = re.compile(r"(\d+)")

NaturalKey = tuple[tuple[object, ...], str]


def natural_key(name: str) -> NaturalKey:
    """Sort key that puts `user_2` before `user_10` (case-insensitive, then exact)."""
    parts = _DIGITS.split(name.casefold())
    if len(parts) == 1:
        return (parts[0],), name
    return tuple(int(part) if index % 2 else part for index, part in enumerate(parts)), name


class Child(NamedTuple):
    """One line under a folder: a sub-folder or a key."""

    name: str
    is_folder: bool


class Folder:
    """Keys that share a prefix: their count, and (once opened) sub-folders and keys.

    `prefix` is the text every key below starts with (`workflow:` for the folder
    `workflow`; "" for the root). Until opened, a folder keeps its keys' remainders
    unsorted in `_pending`.
    """

    __slots__ = (
        "_added",
        "_leaf_order",
        "_pending",
        "_removed",
        "count",
        "folders",
        "leaves",
        "prefix",
    )

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.count = 0
        """How many keys start with `prefix`."""
        self.folders: dict[str, Folder] = {}
        self.leaves: set[str] = set()
        self._pending: set[str] | None = set()
        self._leaf_order: list[NaturalKey] | None = None
        self._added: set[str] = set()
        self._removed: set[str] = set()

    @property
    def is_open(self) -> bool:
        """Whether the folder has split its keys into children."""
        return self._pending is None

    def children(self, delimiter: str, limit: int | None = None) -> list[Child]:
        """The first `limit` of: sub-folders then keys, each in natural order.

        Opens the folder if needed.
        """
        self.open(delimiter)
        folders = sorted(self.folders, key=natural_key)[:limit]
        lines = [Child(name, True) for name in folders]
        room = None if limit is None else limit - len(lines)
        lines.extend(Child(name, False) for _, name in self._sorted_leaves()[:room])
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

    def _sorted_leaves(self) -> list[NaturalKey]:
        order = self._leaf_order
        if order is None:
            order = self._leaf_order = sorted(map(natural_key, self.leaves))
        else:
            if self._removed:
                removed = self._removed
                if len(removed) < 32:
                    for name in removed:
                        index = bisect.bisect_left(order, natural_key(name))
                        if index < len(order) and order[index][1] == name:
                            del order[index]
                else:
                    order[:] = [item for item in order if item[1] not in removed]
            if self._added:
                if len(self._added) < 32:
                    for name in self._added:
                        bisect.insort(order, natural_key(name))
                else:  # two sorted runs: timsort merges them in linear time
                    order.extend(sorted(map(natural_key, self._added)))
                    order.sort()
        self._added.clear()
        self._removed.clear()
        return order

    def _add_leaf(self, name: str) -> None:
        self.leaves.add(name)
        if self._leaf_order is not None:
            if name in self._removed:
                self._removed.discard(name)
                return
            self._added.add(name)

    def _remove_leaf(self, name: str) -> None:
        self.leaves.discard(name)
        if self._leaf_order is not None:
            if name in self._added:
                self._added.discard(name)
                return
            self._removed.add(name)


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
                child = node.folders[head] = Folder(f"{node.prefix}{head}{delimiter}")
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
                del parent.folders[child.prefix[len(parent.prefix) : -len(delimiter)]]
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
