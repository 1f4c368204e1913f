"""The key filter's line above the key tree: a glob or a piece of text."""

from __future__ import annotations

from textual import on
from textual.message import Message
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import Input

from tui.state.key_filter import KeyFilter

FILTER_DELAY = 0.15
"""Seconds of no typing before the filter is applied (a big store takes a moment)."""


class FilterInput(Input):
    """Where the filter is typed: hidden until opened, applied a moment after typing stops.

    Posts `FilterInput.Applied` with the parsed filter (None for an empty line) whenever
    what it means changes; enter applies it at once and posts `FilterInput.Done`.
    """

    DEFAULT_CSS = """
    FilterInput { display: none; border: none; height: 1; padding: 0 1; background: $boost; }
    FilterInput.-shown { display: block; }
    """

    shown: reactive[bool] = reactive(False)
    """Whether the line is on screen (it opens with `/` and closes with escape)."""

    class Applied(Message):
        """The filter changed: the keys shown should follow it."""

        def __init__(self, key_filter: KeyFilter | None) -> None:
            super().__init__()
            self.key_filter = key_filter

    class Done(Message):
        """Enter: the filter is typed, back to the tree."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            placeholder="filter: a glob (cache:*:user_1*) or text",
            id=id,
            select_on_focus=False,
        )
        self.key_filter: KeyFilter | None = None
        """The filter applied now."""
        self._timer: Timer | None = None

    def watch_shown(self, shown: bool) -> None:
        self.set_class(shown, "-shown")

    def open(self) -> None:
        """Show the line and type in it."""
        self.shown = True
        self.focus()

    def close(self) -> None:
        """Empty the line, hide it, and apply no filter."""
        self.value = ""
        self.shown = False
        self.apply()

    def apply(self) -> None:
        """Apply what is typed now, without waiting."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        key_filter = KeyFilter.parse(self.value)
        if key_filter != self.key_filter:
            self.key_filter = key_filter
            self.post_message(self.Applied(key_filter))

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(FILTER_DELAY, self.apply)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.apply()
        self.post_message(self.Done())
