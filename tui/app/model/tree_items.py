"""What each line of the key tree stands for: a folder, a key, or "… N more"."""

from __future__ import annotations

from dataclasses import dataclass, field

from tui.app.format import escape_controls

# Frozen dataclasses rather than tuples: a key `big:` and the "more" line of the
# folder `big:` must never compare equal.


@dataclass(frozen=True, slots=True)
class FolderItem:
    """A folder line: every key that starts with `prefix`."""

    prefix: str
    name: str = field(default="", compare=False)
    """The folder's own name, as shown."""


@dataclass(frozen=True, slots=True)
class KeyItem:
    """A key line."""

    key: str
    name: str = field(default="", compare=False)
    """The key's name within its folder, as shown."""


@dataclass(frozen=True, slots=True)
class MoreItem:
    """The "… N more" line at the end of a long folder; selecting it shows another page."""

    prefix: str


Item = FolderItem | KeyItem | MoreItem


def show_name(name: str) -> str:
    """A folder or key name as shown: an empty one (`a::b`) as `""`, control characters
    as escapes."""
    return escape_controls(name, one_line=True) if name else '""'


__all__ = ["FolderItem", "Item", "KeyItem", "MoreItem", "show_name"]
