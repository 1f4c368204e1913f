"""stateui: a terminal state inspector and script console for Lua's shared `State` store."""

__version__ = "0.1.0"
