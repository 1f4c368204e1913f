"""How big a store may grow: a number of keys, a size, and what a write does past them."""

from __future__ import annotations

from dataclasses import dataclass

from tui.state.errors import StateError

SOURCE = "limit"
"""The source of the changes that evict keys to make room."""

WHEN_FULL = ("error", "evict-oldest")
"""What a write that would go over a limit does: fail, or evict the least recently
written keys to make room."""

MB = 2**20


@dataclass(frozen=True)
class Limits:
    """A store's limits; 0 is no limit.

    The size counts each key and its value's JSON, as the store holds them.
    """

    max_keys: int = 0
    max_bytes: int = 0
    when_full: str = "error"

    def __post_init__(self) -> None:
        if self.max_keys < 0 or self.max_bytes < 0:
            raise StateError("a limit must be 0 (none) or more")
        if self.when_full not in WHEN_FULL:
            raise StateError(
                f"--when-full must be one of {', '.join(WHEN_FULL)}, not {self.when_full!r}"
            )

    def __bool__(self) -> bool:
        return bool(self.max_keys or self.max_bytes)

    @property
    def evicts(self) -> bool:
        return self.when_full == "evict-oldest"

    def over(self, keys: int, size: int) -> bool:
        """Whether a store of `keys` keys and `size` bytes is past a limit."""
        return bool(
            (self.max_keys and keys > self.max_keys) or (self.max_bytes and size > self.max_bytes)
        )

    def full(self, keys: int, size: int, new_key: bool, adding: int) -> StateError:
        """The error of a write that would take a store of `keys` keys and `size` bytes
        past a limit, adding a key (`new_key`) and `adding` bytes to it."""
        if self.max_keys and new_key and keys >= self.max_keys:
            return StateError(f"the store is full: {_keys(keys)}, the limit is {self.max_keys}")
        return StateError(
            f"the store is full: {megabytes(size)} MB, the limit is {megabytes(self.max_bytes)} "
            f"MB, and this write needs {adding} bytes more"
        )

    def too_big(self, size: int) -> StateError:
        """The error of a write of `size` bytes that no eviction can make room for."""
        return StateError(
            f"the write needs {megabytes(size)} MB, more than the store's whole limit of "
            f"{megabytes(self.max_bytes)} MB"
        )


def _keys(count: int) -> str:
    return f"{count} key" if count == 1 else f"{count} keys"


def megabytes(size: int) -> str:
    """A size in MB for a person: `0.25`, `12.5`, `64`."""
    return f"{size / MB:.2f}".rstrip("0").rstrip(".")
