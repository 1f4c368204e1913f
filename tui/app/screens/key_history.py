"""The kept versions of one key: each version's value, what it changed, and a way back to it.

The versions are read from the store's change log off the UI thread, and again whenever
the store's revision moves (polled ten times a second). They are drawn as a virtual
list, only the rows on screen: a `DataTable` takes about 1.5 s to take 10,000 rows. The
value and the diff of the selected version are made off the UI thread too, the latest
selection only, so that a held arrow key never queues up diffs of big values.
"""

from __future__ import annotations

import bisect
from functools import partial
from typing import ClassVar, Final

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.notifications import SeverityLevel
from textual.reactive import var
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import Worker, WorkerState

from tui.app.format import count_of, escape_controls, format_size
from tui.app.model.json_diff import DiffLine
from tui.app.model.key_versions import (
    Against,
    Detail,
    DetailRequest,
    HistoryRead,
    make_detail,
    read_history,
    removal_note,
)
from tui.app.screens.confirm import Confirm
from tui.app.widgets.diff_view import DiffView
from tui.app.widgets.json_view import JsonView
from tui.app.widgets.version_list import VersionList
from tui.state import MISSING, Change, Entry, Op, StateError, Store

POLL_SECONDS = 0.1
"""How often the screen looks whether the store moved on (a look is one attribute read)."""

RESTORE_SOURCE: Final = "restore"
"""What a restore's write carries as its source."""

FIRST_PAGE = 500
"""Versions read first, to show at once; the rest (thousands, from a file) follow."""

_READ: Final = "history-read"
_DETAIL: Final = "history-detail"


class KeyHistoryScreen(Screen[None]):
    """The kept versions of one key, newest first, following the store live.

    For the selected version: its value, and what changed against the version before it
    (or, after `t`, from it to the current value). `r` writes the selected version back
    as the key's value, unless the key changed since the screen last read it.

    When a new version arrives the selection stays on the version it was on, wherever
    that row moved, even when it was the newest row: the newest row is where `home`
    goes.
    """

    DEFAULT_CSS = """
    KeyHistoryScreen { background: $surface; }
    KeyHistoryScreen .pane {
        background: $surface;
        border: round $foreground 30%;
        border-title-color: $foreground 70%;
        border-subtitle-color: $foreground 50%;
        padding: 0;
    }
    KeyHistoryScreen .pane:focus-within { border: round $accent; border-title-color: $accent; }
    KeyHistoryScreen #history-versions { height: 2fr; min-height: 4; }
    KeyHistoryScreen #history-columns { height: 1; color: $text-muted; text-wrap: nowrap; }
    KeyHistoryScreen #history-detail { height: 3fr; min-height: 3; }
    KeyHistoryScreen #history-value, KeyHistoryScreen #history-changes { width: 1fr; }
    KeyHistoryScreen .note { height: auto; max-height: 3; padding: 0 1; color: $text-muted; }
    KeyHistoryScreen #history-value-note { display: none; }
    KeyHistoryScreen #history-value-note.-shown { display: block; }
    KeyHistoryScreen #history-empty {
        height: 1fr;
        padding: 1 2;
        color: $text-muted;
        display: none;
    }
    KeyHistoryScreen.-empty #history-empty { display: block; }
    KeyHistoryScreen.-empty #history-versions, KeyHistoryScreen.-empty #history-detail {
        display: none;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "restore", "Restore"),
        Binding("t", "toggle_against", "Compare"),
        Binding("escape,h", "close", "Close"),
        Binding("q", "app.quit", "Quit", show=False),
    ]

    against: var[Against] = var(Against.BEFORE)
    """What the selected version is compared with (`t` toggles it)."""

    def __init__(self, store: Store, key: str, *, version: int | None = None) -> None:
        super().__init__()
        self.store = store
        self.key = key
        self.versions: list[Change] = []
        """The kept versions as last read, newest first."""
        self.current: Entry | None = None
        """The key as last read (None: it does not exist); a restore expects its version."""
        self.history = store.history
        """Versions the store keeps of each key, as last read."""
        self.loaded = False
        """Whether the history was read once."""
        self.complete = False
        """Whether every kept version was read (the newest FIRST_PAGE are read first)."""
        self.diff_lines: list[DiffLine] = []
        """The diff shown for the selected version."""
        self.diff_note = ""
        """What the diff shown compares."""
        self._initial_version = version
        self._known_version: int | None = None  # the key's version at the last read
        self._read_revision = -1
        self._reading = False
        self._detail_busy = False
        self._wanted: DetailRequest | None = None
        self._shown: tuple[int, Against, int | None] | None = None
        self._failure = ""

    # -- layout -----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        name = escape_controls(self.key, one_line=True)
        empty = Static(Text(f"Reading the history of {name}…"), id="history-empty", classes="pane")
        empty.border_title = Text(f"History of {name}")
        yield empty
        with Vertical(id="history-versions", classes="pane"):
            yield Static(id="history-columns")
            yield VersionList(id="history-list")
        with Horizontal(id="history-detail"):
            with Vertical(id="history-value", classes="pane"):
                yield Static(id="history-value-note", classes="note")
                yield JsonView(id="history-json")
            with Vertical(id="history-changes", classes="pane"):
                yield Static(id="history-diff-note", classes="note")
                yield DiffView(id="history-diff")
        yield Footer()

    def on_mount(self) -> None:
        self.add_class("-empty")
        self.query_one("#history-value").border_title = "Value"
        changes = self.query_one("#history-changes")
        changes.border_title = "Changes"
        changes.border_subtitle = "t: against the current value"
        self.query_one(VersionList).focus()
        self._start_read()
        self.set_interval(POLL_SECONDS, self._poll)

    # -- what tests and the app read ---------------------------------------------------

    @property
    def selected(self) -> Change | None:
        """The version under the cursor."""
        if not self.versions:
            return None
        return self.versions[self.query_one(VersionList).cursor]

    @property
    def current_version(self) -> int:
        """The key's version when the screen last read it (MISSING: it did not exist)."""
        return MISSING if self.current is None else self.current.version

    @property
    def settled(self) -> bool:
        """Whether the screen shows what it last read, the selected version's detail too."""
        if not self.complete or self._reading or self._detail_busy:
            return False
        request = self._request()
        return request is None or self._shown == request.key

    def say(
        self, message: str, *, title: str = "", severity: SeverityLevel = "information"
    ) -> None:
        """A notification, as plain text: keys and paths hold brackets."""
        self.notify(message, title=title, severity=severity, markup=False)

    # -- reading ------------------------------------------------------------------------

    def _poll(self) -> None:
        if self._reading:
            return
        if not self.complete or self.store.revision != self._read_revision:
            self._start_read()

    def _start_read(self) -> None:
        self._reading = True
        if not self.loaded:
            read = partial(read_history, self.store, self.key, [], None, first=FIRST_PAGE)
        elif not self.complete:
            read = partial(read_history, self.store, self.key, [], None)
        else:
            read = partial(read_history, self.store, self.key, self.versions, self._known_version)
        self.run_worker(read, name=_READ, thread=True, exit_on_error=False)

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        worker, state = event.worker, event.state
        if state not in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            return
        if worker.name == _READ:
            self._reading = False
            if state is WorkerState.SUCCESS and isinstance(worker.result, HistoryRead):
                self._took(worker.result)
            elif state is WorkerState.ERROR:
                self._read_failed(worker.error)
        elif worker.name == _DETAIL:
            self._detail_busy = False
            if state is WorkerState.SUCCESS and isinstance(worker.result, Detail):
                self._made(worker.result)
            elif state is WorkerState.ERROR:
                self._detail_failed(worker.error)

    def _took(self, read: HistoryRead) -> None:
        self._read_revision = read.revision
        self.current = read.entry
        self._known_version = self.current_version
        self.history = read.history
        self._failure = ""
        if read.versions is not None:
            self._show_versions(read.versions, complete=read.complete)
        self.loaded = True
        self._show_state()
        self._want_detail()
        if not self.complete:
            self._start_read()  # the rest, at once

    def _read_failed(self, error: BaseException | None) -> None:
        name = escape_controls(self.key, one_line=True)
        message = f"The history of {name} could not be read: {error}"
        if message != self._failure:  # once, not at every poll
            self._failure = message
            self.say(message, title="History", severity="error")

    def _show_versions(self, versions: list[Change], *, complete: bool) -> None:
        listing = self.query_one(VersionList)
        selected = self.selected
        if not self.complete and self._initial_version is not None:
            target: int | None = self._initial_version  # maybe older than the first page
        else:
            target = selected.version if selected is not None else None
        self.versions = versions
        self.complete = complete
        listing.show(versions, _row_of(versions, target))
        self.query_one("#history-columns", Static).update(Text(listing.header()))
        name = escape_controls(self.key, one_line=True)
        kept = count_of(len(versions), "version") if complete else f"{len(versions):,}+ versions"
        self.query_one("#history-versions").border_title = Text(f"History of {name} · {kept} kept")

    def _show_state(self) -> None:
        """The panes, or why there is nothing to show."""
        name = escape_controls(self.key, one_line=True)
        if not self.history:
            message = (
                "This store keeps no history: start it with --history N to keep the last "
                "N versions of each key."
            )
        elif not self.versions:
            message = (
                f"No history of {name} is kept: it has not changed since the store began "
                "keeping history, or its versions were dropped."
            )
        else:
            message = ""
        if self.has_class("-empty") != bool(message):
            self.set_class(bool(message), "-empty")
            self.refresh_bindings()  # restore and compare come and go with the versions
        if message:
            self.query_one("#history-empty", Static).update(Text(message))
            self.query_one("#history-empty").border_title = Text(f"History of {name}")

    # -- the selected version ---------------------------------------------------------

    @on(VersionList.Moved)
    def _moved(self) -> None:
        if self.loaded:
            self._want_detail()

    def watch_against(self) -> None:
        other = "the version before" if self.against is Against.CURRENT else "the current value"
        self.query_one("#history-changes").border_subtitle = f"t: against {other}"
        self._want_detail()

    def _request(self) -> DetailRequest | None:
        """What the detail panes should show now."""
        if not self.versions:
            return None
        index = self.query_one(VersionList).cursor
        change = self.versions[index]
        if self.against is Against.CURRENT:
            entry = self.current
            if entry is None:
                return DetailRequest(change, Against.CURRENT, MISSING, None)
            return DetailRequest(change, Against.CURRENT, entry.version, entry.value)
        if change.created:
            return DetailRequest(change, Against.BEFORE, MISSING, None)
        if index + 1 < len(self.versions):
            before = self.versions[index + 1]
            return DetailRequest(change, Against.BEFORE, before.version, before.value)
        return DetailRequest(change, Against.BEFORE, None, None)

    def _want_detail(self) -> None:
        request = self._wanted = self._request()
        if request is None or request.key == self._shown or self._detail_busy:
            return  # a detail being made starts the one wanted when it is done
        self._start_detail(request)

    def _start_detail(self, request: DetailRequest) -> None:
        self._detail_busy = True
        self.run_worker(
            partial(make_detail, request), name=_DETAIL, thread=True, exit_on_error=False
        )

    def _made(self, detail: Detail) -> None:
        wanted = self._wanted
        if wanted is None:
            return
        if detail.key != wanted.key:
            if wanted.key != self._shown:
                self._start_detail(wanted)  # the selection moved on meanwhile
            return
        self._shown = detail.key
        self.diff_lines = detail.lines
        self.diff_note = detail.note
        change = wanted.change
        self.query_one("#history-value").border_title = f"Version {change.version}"
        if change.op.removes:
            note = removal_note(change)
        elif detail.cut:
            note = f"Showing the first {format_size(len(detail.pretty))}: the value is too big."
        else:
            note = ""
        value_note = self.query_one("#history-value-note", Static)
        value_note.update(Text(note))
        value_note.set_class(bool(note), "-shown")
        self.query_one(JsonView).show(detail.pretty)
        self.query_one("#history-diff-note", Static).update(Text(detail.note))
        known = wanted.base_version is not None
        self.query_one(DiffView).show(detail.lines, empty="No differences." if known else "")

    def _detail_failed(self, error: BaseException | None) -> None:
        self.say(f"This version could not be shown: {error}", title="History", severity="error")

    # -- actions ------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Restore and compare are offered while there are versions to act on."""
        if action in ("restore", "toggle_against"):
            return bool(self.versions)
        return True

    def action_toggle_against(self) -> None:
        """Compare with the version before, or with the current value."""
        self.against = Against.CURRENT if self.against is Against.BEFORE else Against.BEFORE

    def action_close(self) -> None:
        """Back to where the screen was opened from."""
        self.dismiss()

    def action_restore(self) -> None:
        """Write the selected version back as the key's value (a removal's: delete the key)."""
        change = self.selected
        name = escape_controls(self.key, one_line=True)
        if change is None:
            self.say("There is no version to restore.", severity="warning")
            return
        reason = self.store.read_only
        if reason is not None:
            self.say(f"{reason}. Restoring is unavailable.", title="Read-only", severity="warning")
            return
        expected = self.current_version  # what the person saw when they chose
        if change.op.removes:
            if expected == MISSING:
                self.say(f"{name} is already deleted: nothing to restore.")
                return
            if change.op is Op.DELETE:
                what = f"Version {change.version} deleted {name}"
            else:
                how = "expired" if change.op is Op.EXPIRE else "was evicted"
                what = f"At version {change.version}, {name} {how}"
            question = (
                f"{what}: restoring it deletes the key now "
                f"(its current value stays in the history)."
            )
            self.app.push_screen(
                Confirm(f"Delete {name}", question, yes="Delete"),
                lambda yes: self._restore(change, expected) if yes else None,
            )
            return
        if expected == change.version:
            self.say(
                f"Version {change.version} is the current value of {name}: nothing to restore."
            )
            return
        self._restore(change, expected)

    def _restore(self, change: Change, expected: int) -> None:
        name = escape_controls(self.key, one_line=True)
        try:
            done = self.store.compare_and_set_encoded(
                self.key, change.value, expected, source=RESTORE_SOURCE
            )
        except StateError as error:
            self.say(f"Not restored: {error}", title="Not restored", severity="error")
            return
        if not done:
            self.say(
                f"{name} changed meanwhile (it is no longer version {expected}): nothing was "
                "written. The history now shows what it holds.",
                title="Not restored",
                severity="warning",
            )
            self._poll()
            return
        try:
            latest = self.store.versions(self.key, 1)
            now = f" (now version {latest[0].version if latest else self.store.revision})"
        except StateError:  # written, but the store went out of reach since
            now = ""
        self.say(f"Restored {name} to version {change.version}{now}.", title="Restored")
        self._poll()


def _row_of(versions: list[Change], version: int | None) -> int:
    """The row of `version` in versions newest first; if it is not kept, of the newest
    one older than it (the oldest row when none is); the newest row for None."""
    if version is None or not versions:
        return 0
    row = bisect.bisect_left(versions, -version, key=lambda change: -change.version)
    return min(row, len(versions) - 1)
