"""The change log screen: every change the store makes, one line each, followed live."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input, Static

from tui.app.format import count_of
from tui.app.model.change_window import (
    MAX_CHANGES,
    ChangeFilter,
    ChangeRow,
    ChangeWindow,
    Gap,
    change_rows,
)
from tui.app.store_errors import say_store_error
from tui.app.widgets.change_list import ChangeList
from tui.app.widgets.filter_input import FILTER_DELAY
from tui.state import Change, StateError, Store, Subscription

BACKLOG = 10_000
"""Changes read from the store's log when the screen opens (the rest: `stateui log`)."""

POLL_SECONDS = 0.1
"""How often the screen takes what the store's feed brought."""

BUSY_CHANGES = 500
"""Changes in one poll that make the next one rest: a flood is drawn 5 times a second
rather than 10, each frame being a screenful of new lines (as the main screen's Feed)."""


class ChangeLogScreen(Screen[tuple[str, int] | None]):
    """Every change the store makes, newest at the bottom, followed live.

    Opens on the last BACKLOG changes the store's log kept, then adds each change as the
    store makes it (from a subscription, so a store that keeps no history still shows
    what happens while the screen is open). `/` filters by key and by source (see
    ChangeFilter). Dismissed with `(key, version)` of the change under the cursor on
    enter, or None on escape. At most `max_changes` are kept: the oldest go first.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("/", "filter", "Filter"),
        Binding("escape", "back", "Back"),
    ]

    DEFAULT_CSS = """
    ChangeLogScreen { background: $surface; }
    ChangeLogScreen > #change-filter {
        display: none; border: none; height: 1; padding: 0 1; background: $boost;
    }
    ChangeLogScreen > #change-filter.-shown { display: block; }
    ChangeLogScreen > #change-note {
        display: none; height: auto; max-height: 2; padding: 0 1; color: $text-muted;
    }
    ChangeLogScreen > #change-note.-shown { display: block; }
    ChangeLogScreen > ChangeList {
        height: 1fr;
        border: round $accent;
        border-title-color: $accent;
        text-wrap: nowrap;
    }
    """

    def __init__(self, store: Store, *, max_changes: int = MAX_CHANGES) -> None:
        super().__init__()
        self.store = store
        self.window = ChangeWindow(max_changes)
        """The lines kept and the filter's choice of them."""
        self.start_revision = 0
        """The list holds the changes after this revision (the older ones are not)."""
        self.fell_behind = 0
        """Changes the store's feed dropped before the screen took them."""
        self.note = ""
        """What the line above the list says (older changes, changes missed)."""
        self._subscription: Subscription | None = None
        self._last_version = 0
        self._poller: Timer | None = None
        self._typing: Timer | None = None
        self._no_history = False
        self._resting = False

    # -- what tests and callers read ----------------------------------------------------

    @property
    def change_filter(self) -> ChangeFilter | None:
        """The filter applied, if any."""
        return self.window.change_filter

    @property
    def shown_changes(self) -> list[ChangeRow]:
        """The changes the list shows, oldest first (built on each call)."""
        return [ChangeRow(*line) for line in self.window.shown_lines() if not isinstance(line, Gap)]

    @property
    def following(self) -> bool:
        """Whether the list follows the newest change."""
        return self.change_list.following

    @property
    def cursor_change(self) -> ChangeRow | None:
        """The change under the cursor."""
        return self.change_list.cursor_change

    # -- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Input(
            placeholder="filter: a key glob or text, @source (jobs:* @import.lua)",
            id="change-filter",
            select_on_focus=False,
        )
        yield Static("", id="change-note")
        yield ChangeList(self.window, id="changes")
        yield Footer()

    def on_mount(self) -> None:
        self.change_list = self.query_one(ChangeList)
        self.filter_input = self.query_one("#change-filter", Input)
        self._note = self.query_one("#change-note", Static)
        # Subscribed before the log is read: a change made in between comes twice (and is
        # taken once, by its version), rather than not at all.
        store = self.store
        self._subscription = store.subscribe()
        self.start_revision = max(0, store.revision - BACKLOG)
        try:
            backlog = store.changes_since(self.start_revision)
        except StateError as error:  # a store out of reach: the live changes only
            say_store_error(self.app, error)
            backlog = []
            self.start_revision = store.revision
        if backlog:
            self.start_revision = max(self.start_revision, backlog[0].version - 1)
        elif not store.history:
            self.start_revision = store.revision
            self._no_history = True
        self._take(backlog, 0)
        self._show_title()
        self._show_note()
        self.change_list.focus()
        self._poller = self.set_interval(POLL_SECONDS, self.poll)

    def on_unmount(self) -> None:
        if self._poller is not None:
            self._poller.stop()
        if self._subscription is not None:
            self._subscription.close()
            self._subscription = None

    # -- the live part ------------------------------------------------------------------

    def poll(self) -> None:
        """Add what the store changed since the last poll (at once, however much).

        After a poll of BUSY_CHANGES or more, the next one rests (the feed keeps them).
        """
        if self._subscription is None:
            return
        if self._resting:
            self._resting = False
            return
        changes, dropped = self._subscription.drain()
        if changes or dropped:
            self._resting = len(changes) >= BUSY_CHANGES
            self._take(changes, dropped)
            self._show_title()

    def _take(self, changes: list[Change], missed: int) -> None:
        skip = 0
        last = self._last_version
        while skip < len(changes) and changes[skip].version <= last:
            skip += 1  # read from the log already
        rows = change_rows(changes[skip:] if skip else changes)
        if not rows and not missed:
            return
        if rows:
            self._last_version = rows[-1][2]
        window = self.window
        dropped_before = window.dropped
        shown, gone = window.extend(rows, missed)
        self.change_list.added(rows, shown, gone)
        self.fell_behind += missed
        if missed or window.dropped != dropped_before:
            first = window.line(window.first)
            if window.dropped and not isinstance(first, Gap):
                self.start_revision = max(self.start_revision, first[2] - 1)
            self._show_note()

    def _show_title(self) -> None:
        window = self.window
        change_filter = window.change_filter
        if change_filter is None:
            title = f"Changes · {window.kept:,}"
        else:
            shown = f"{window.shown_changes:,} shown of {window.kept:,}"
            title = f"Changes · {shown} · /{change_filter.text}"
        self.change_list.border_title = Text(title)  # a filter may hold brackets: not markup

    def _show_note(self) -> None:
        parts = []
        start = self.start_revision
        if self._no_history and start and not self.window.dropped:
            parts.append(f"No history is kept: the changes after revision {start:,} are listed")
        elif start:
            older = "see `stateui log`" if self.store.location != "memory" else "not kept here"
            parts.append(f"The changes after revision {start:,} are listed; older ones: {older}")
        if self.fell_behind:
            missed = count_of(self.fell_behind, "change")
            parts.append(f"{missed} were not shown: the app fell behind")
        self.note = " · ".join(parts)
        self._note.update(Text(self.note))
        self._note.set_class(bool(self.note), "-shown")

    # -- filtering ----------------------------------------------------------------------

    def apply_filter(self, text: str) -> None:
        """Filter the list as `text` says (see ChangeFilter; "" shows every change)."""
        if self._typing is not None:
            self._typing.stop()
            self._typing = None
        change_filter = ChangeFilter.parse(text)
        if change_filter == self.window.change_filter:
            return
        self.window.refilter(change_filter)
        self.change_list.refiltered()
        self._show_title()

    def action_filter(self) -> None:
        """Open the filter line."""
        self.filter_input.add_class("-shown")
        self.filter_input.focus()

    def action_back(self) -> None:
        """Escape: close the filter line (the filter stays); with a filter, clear it;
        otherwise leave the screen."""
        if self.filter_input.has_class("-shown"):
            self._close_filter()
        elif self.window.change_filter is not None:
            self.filter_input.value = ""
            self.apply_filter("")
        else:
            self.dismiss(None)

    def _close_filter(self) -> None:
        self.apply_filter(self.filter_input.value)
        self.filter_input.remove_class("-shown")
        self.change_list.focus()

    @on(Input.Changed, "#change-filter")
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        if self._typing is not None:
            self._typing.stop()
        self._typing = self.set_timer(FILTER_DELAY, lambda: self.apply_filter(event.value))

    @on(Input.Submitted, "#change-filter")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._close_filter()

    @on(ChangeList.Chosen)
    def _chosen(self, event: ChangeList.Chosen) -> None:
        event.stop()
        self.dismiss((event.change.key, event.change.version))
