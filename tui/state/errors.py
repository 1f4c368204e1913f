"""The one error family of the state engine."""

from __future__ import annotations


class StateError(ValueError):
    """A request the store refuses: a bad key, a value it cannot hold, a wrong type.

    The message is written for the person who typed the input and names no Python
    internals; callers (the Lua bridge, the CLI, the UI) show it as it is.
    """


class StoreUnreachable(StateError):
    """The store's server could not be reached, or did not answer in time (a Redis store):
    the request itself may have been fine."""
