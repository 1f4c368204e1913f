"""The state engine: the shared store, its key and value rules, backends and change feed.

Knows nothing of Lua or Textual; both talk to it through `Store`.
"""

from tui.state.backends import Backend, Entry, MemoryBackend
from tui.state.change import Change, Op, Subscription
from tui.state.errors import StateError
from tui.state.store import MISSING, Store

__all__ = [
    "MISSING",
    "Backend",
    "Change",
    "Entry",
    "MemoryBackend",
    "Op",
    "StateError",
    "Store",
    "Subscription",
]
