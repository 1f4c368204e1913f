"""Where a store lives, as `--store` (or STATEUI_STORE) names it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SUPPORTED = "a file path, or sqlite:///PATH (sqlite:////abs/path for an absolute one)"


class BadLocation(ValueError):
    """A --store value that names no store this stateui supports."""


@dataclass(frozen=True)
class StoreLocation:
    """A store in memory (`path` None), or in an SQLite file."""

    path: Path | None = None

    @classmethod
    def parse(cls, text: str | None) -> StoreLocation:
        """The location `text` names; no text is the memory store. Raises BadLocation."""
        if text is None:
            return cls()
        if not text:
            raise BadLocation("needs a path (leave it out for a store in memory)")
        if "://" not in text:
            return cls(Path(text))
        scheme, rest = text.split("://", 1)
        if scheme.lower() == "sqlite":
            if not rest.startswith("/") or rest == "/":
                raise BadLocation(f"{text!r}: write sqlite:///PATH, with three slashes")
            return cls(Path(rest[1:]))
        raise BadLocation(f"{text!r}: stores of kind {scheme!r} are not supported; use {SUPPORTED}")

    @property
    def in_memory(self) -> bool:
        return self.path is None
