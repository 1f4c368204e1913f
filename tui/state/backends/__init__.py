"""Storage backends behind the Store: in-memory today, persistent and networked to follow."""

from tui.state.backends.base import Backend, Entry
from tui.state.backends.memory import MemoryBackend

__all__ = ["Backend", "Entry", "MemoryBackend"]
