"""The inspector's one screen: keys and scripts on the left; value, progress, output and
console on the right; kept live from the store's change feed and the runs' reports."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.command import Provider
from textual.containers import Horizontal, Vertical
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input, Static, Tree

from tui.app.commands import StateCommands
from tui.app.feed import Feed, Update
from tui.app.key_actions import KeyActions
from tui.app.model.progress_tracker import ProgressState
from tui.app.model.tree_items import FolderItem, Item, KeyItem, MoreItem
from tui.app.run_log import RunLog
from tui.app.screens.change_log import ChangeLogScreen
from tui.app.screens.key_history import KeyHistoryScreen
from tui.app.session import Session
from tui.app.store_errors import reads_store
from tui.app.store_status import StoreStatus
from tui.app.time_travel_view import TimeTravelView
from tui.app.widgets.console_pane import ConsolePane
from tui.app.widgets.filter_input import FilterInput
from tui.app.widgets.key_tree import REVEAL_MATCHES, KeyTree
from tui.app.widgets.output_log import OutputLog
from tui.app.widgets.progress_panel import ProgressPanel
from tui.app.widgets.script_list import ScriptList
from tui.app.widgets.tree_labels import GONE_AS
from tui.app.widgets.value_view import ValueView
from tui.lua.supervisor import RunEnded, RunStatus
from tui.lua.watcher import watch_scripts
from tui.state import Change, StateError

TICK_SECONDS = 1 / 20
"""How often the screen catches up with the store and the runs: at most 20 times a second."""

PROGRESS_SECONDS = 0.1
"""The progress panel is drawn at most 10 times a second (sorting a thousand bars)."""

WAITING_SECONDS = 1.0
"""While a script waits in `State.wait`, its line is drawn this often: the wait counts up."""


@dataclass(frozen=True)
class ViewOptions:
    """How the inspector shows its session."""

    delimiter: str = ":"
    """What separates the folders of a key in the key tree."""
    progress_prefix: str = "progress:"
    """The keys the progress panel shows."""
    watch: bool = True
    """Whether the scripts run again when their files change."""
    clock: Callable[[], float] = time.time
    """The time progress rates and stalls are judged by (the store's clock's kind)."""


class MainScreen(Screen[None]):
    """The live inspector of one session's store and scripts."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "edit", "Edit"),
        Binding("n", "new_key", "New"),
        Binding("d", "delete", "Delete"),
        Binding("/", "filter", "Filter"),
        Binding("y", "copy", "Copy", show=False),
        Binding(":", "console", "Console"),
        Binding("p", "pin", "Pin", show=False),
        Binding("f", "next_field", "Next field", show=False),
        Binding("g", "progress", "Progress", show=False),
        Binding("G", "progress_full", "Full progress", show=False),
        Binding("r", "rerun", "Rerun"),
        Binding("s", "stop", "Stop"),
        Binding("q", "quit", "Quit"),
        Binding("h", "history", "History"),
        Binding("L", "change_log", "Changes"),
        Binding("[", "travel_back", "Back in time", show=False),
        Binding("]", "travel_forward", "Forward", show=False),
        Binding("{", "travel_back_second", "Back a second", show=False),
        Binding("}", "travel_forward_second", "Forward a second", show=False),
        Binding("escape", "leave", "Leave", show=False),
    ]

    COMMANDS: ClassVar[set[type[Provider] | Callable[[], type[Provider]]]] = {StateCommands}

    def __init__(self, session: Session, options: ViewOptions) -> None:
        super().__init__()
        self.session = session
        self.clock = options.clock
        self.feed = Feed(
            session.store, delimiter=options.delimiter, progress_prefix=options.progress_prefix
        )
        self.key_actions = KeyActions(self)
        self._watch = options.watch and bool(session.supervisor.scripts)
        self._stop_watching = asyncio.Event()
        self._progress_drawn_at = 0.0
        self._progress_changed = False
        self._scripts_drawn_at = 0.0
        self._removal: Change | None = None  # the change that removed the key shown, if any
        self._shown_item: Item | None = None
        self._open_before_filter: set[str] = set()
        self._ticker: Timer | None = None
        self._panes_kept = False

    # -- layout ---------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="travel-banner")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield FilterInput(id="filter")
                yield KeyTree(self.feed.index, expiring=self.feed.expires, id="keys")
                yield ScriptList(id="scripts")
            with Vertical(id="right"):
                yield ValueView(clock=self.clock, id="value")
                yield ProgressPanel(id="progress")
                yield OutputLog(id="output")
                yield ConsolePane(
                    self.session,
                    keys=self._keys_for_completion,
                    delimiter=self.feed.index.delimiter,
                    id="console",
                )
        yield Footer()

    def on_mount(self) -> None:
        # Kept, rather than queried: the tick can still fire while the app takes its
        # screen down, when a query finds nothing.
        self.key_tree = self.query_one(KeyTree)
        self.output_log = self.query_one(OutputLog)
        self.script_list = self.query_one(ScriptList)
        self.value_view = self.query_one(ValueView)
        self.progress_panel = self.query_one(ProgressPanel)
        self.filter_input = self.query_one(FilterInput)
        self.console_pane = self.query_one(ConsolePane)
        self.run_log = RunLog(self.output_log)
        self.time_travel = TimeTravelView(self, self.query_one("#travel-banner", Static))
        self._panes_kept = True
        for widget, title in (
            (self.key_tree, "Keys"),
            (self.script_list, "Scripts"),
            (self.value_view, "Value"),
            (self.output_log, "Output"),
        ):
            widget.border_title = title
        supervisor = self.session.supervisor
        for script in supervisor.scripts:
            self.output_log.tag(script.label)
        if not supervisor.scripts:
            self.output_log.write("", ["No scripts: `stateui watch FILE.lua` runs one."])
        self._show_progress()
        self._show_scripts()
        self._show_key_count()
        self.store_status = StoreStatus(self)
        self.key_tree.focus()
        self._ticker = self.set_interval(TICK_SECONDS, self._tick)
        supervisor.start_all()
        if self._watch:
            self.run_worker(self._watch_files(), name="watch", exclusive=True)

    async def _watch_files(self) -> None:
        try:
            await watch_scripts(
                self.session.supervisor,
                self._stop_watching,
                on_stopped=lambda reason: self.say(
                    f"Scripts are not rerun on save for now: {reason}. "
                    "Trying again; saves made meanwhile will be caught up.",
                    title="File watching stopped",
                    severity="warning",
                    timeout=30,
                ),
                on_resumed=lambda: self.say(
                    "Scripts are rerun on save again.", title="File watching resumed"
                ),
            )
        except Exception as error:  # the app goes on without reruns, and says so
            self.say(
                f"Scripts are no longer rerun on save: {error}",
                title="File watching stopped",
                severity="error",
                timeout=30,
            )

    def stop(self) -> None:
        """Stop the tick, the file watching and the change feed (the app is closing)."""
        if self._ticker is not None:
            self._ticker.stop()
        self._stop_watching.set()
        self.feed.close()

    def say(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
    ) -> None:
        """A notification of ours, as plain text: keys and paths hold brackets."""
        self.notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Which actions the footer offers.

        While a line of text is being typed (the console, the filter), the keys that
        type a character type it, so their actions are not offered. Rerun and stop need
        scripts.
        """
        if action in _TYPING_ACTIONS and isinstance(self.focused, Input):
            return False
        if action in ("rerun", "stop"):
            return bool(self.session.supervisor.scripts)
        return True

    # -- actions --------------------------------------------------------------------

    @reads_store
    def action_edit(self) -> None:
        """Edit the value of the key under the cursor."""
        self.key_actions.edit()

    @reads_store
    def action_new_key(self) -> None:
        """Make a new key, in the folder under the cursor."""
        self.key_actions.new_key()

    @reads_store
    def action_delete(self) -> None:
        """Delete the key or the folder under the cursor, once asked."""
        self.key_actions.delete()

    @reads_store
    def action_copy(self) -> None:
        """Copy the value (or folder) under the cursor as JSON."""
        self.key_actions.copy()

    def action_rerun(self) -> None:
        """Run the highlighted script again (every script when none is highlighted)."""
        self.session.supervisor.rerun(self.script_list.selected_label)

    def action_stop(self) -> None:
        """Stop the highlighted script (every script when none is highlighted)."""
        self.session.supervisor.stop(self.script_list.selected_label)

    async def action_quit(self) -> None:
        """Stop every run, then leave."""
        await self.app.action_quit()

    def action_filter(self) -> None:
        """Open the filter above the key tree."""
        self.filter_input.open()

    def action_console(self) -> None:
        """Focus the console's input line."""
        self.console_pane.input.focus()

    @reads_store
    def action_leave(self) -> None:
        """Escape: leave the console for the key tree; elsewhere, come back from the past,
        or clear the filter."""
        if self.focused is self.console_pane.input:
            self.key_tree.focus()
        elif self.time_travel.active:
            self.time_travel.leave()
        elif self.feed.key_filter is not None or self.filter_input.shown:
            self.filter_input.close()
            self.key_tree.focus()

    def action_history(self, version: int | None = None) -> None:
        """Open the history of the key under the cursor."""
        item = self.key_tree.cursor_item
        if not isinstance(item, KeyItem):
            self.say("Select a key to see its history.", severity="warning")
            return
        self.app.push_screen(KeyHistoryScreen(self.session.store, item.key, version=version))

    @reads_store
    def action_change_log(self) -> None:
        """Open the change log; a line chosen there opens its key's history."""
        self.app.push_screen(ChangeLogScreen(self.session.store), self._jump_to_change)

    @reads_store
    def _jump_to_change(self, chosen: tuple[str, int] | None) -> None:
        if chosen is None:
            return
        key, version = chosen
        if self.time_travel.active:
            self.time_travel.leave()
        if self.feed.key_filter is not None and not self.feed.key_filter(key):
            self.filter_input.close()
        self.key_tree.select_key(key)  # its folders open now; their lines come after
        self.call_after_refresh(self._history_at, key, version)

    @reads_store
    def _history_at(self, key: str, version: int) -> None:
        if not self.key_tree.select_key(key):
            self.say(f"{key} is not in the tree now; here is its history.")
        self.app.push_screen(KeyHistoryScreen(self.session.store, key, version=version))

    @reads_store
    def action_travel_back(self) -> None:
        """Step the whole view back one change."""
        self.time_travel.back()

    @reads_store
    def action_travel_forward(self) -> None:
        """Step the view forward one change (live again after the last)."""
        self.time_travel.forward()

    @reads_store
    def action_travel_back_second(self) -> None:
        """Step the view back a second of store time."""
        self.time_travel.back(seconds=1)

    @reads_store
    def action_travel_forward_second(self) -> None:
        """Step the view forward a second of store time."""
        self.time_travel.forward(seconds=1)

    def action_next_field(self) -> None:
        """Chart the next numeric field of the selected object."""
        if isinstance(self.key_tree.cursor_item, KeyItem) and not self.value_view.next_field(
            self.feed.value_history
        ):
            self.say("The sparkline has only one number to chart here.", severity="warning")

    def action_progress(self) -> None:
        """Show or hide the progress panel."""
        self.progress_panel.toggle()

    def action_progress_full(self) -> None:
        """Make the progress panel fill the screen, or go back."""
        self.progress_panel.toggle_full()

    @reads_store
    def action_pin(self) -> None:
        """Pin the key under the cursor to the progress panel, or unpin it."""
        item = self.key_tree.cursor_item
        if not isinstance(item, KeyItem):
            self.say("Select a key with numeric current and total to pin it.", severity="warning")
            return
        key, progress = item.key, self.feed.progress
        if key in progress.pinned:
            progress.unpin(key)
            self.say(f"Unpinned {key} from the progress panel.")
        else:
            entry = self.session.store.entry(key)
            if entry is None or not progress.pin(key, entry.value, entry.time, entry.source):
                self.say(
                    f"{key} has no numeric current and total to show as progress.",
                    severity="warning",
                )
                return
            panel = self.progress_panel
            panel.shown = panel.shown or None
            self.say(f"Pinned {key} to the progress panel.")
        self._show_progress()

    # -- what the widgets say ---------------------------------------------------------

    @on(KeyTree.EditRequested)
    @reads_store
    def _edit_requested(self) -> None:
        self.key_actions.edit()

    @on(Tree.NodeHighlighted)
    def _highlighted(self, event: Tree.NodeHighlighted[Item]) -> None:
        self._show_item(event.node.data)

    @on(FilterInput.Applied)
    @reads_store
    def _filtered(self, event: FilterInput.Applied) -> None:
        tree, feed = self.key_tree, self.feed
        if feed.key_filter is None:
            self._open_before_filter = tree.open_prefixes()
        feed.refilter(event.key_filter)
        tree.rebuild(feed.index, filtered=True)
        if event.key_filter is None:
            tree.reopen(self._open_before_filter)
        elif len(feed.index) <= REVEAL_MATCHES:
            tree.reveal(sorted(feed.keys_under("")))
        self._show_key_count()
        self._show_item(tree.cursor_item)

    @on(FilterInput.Done)
    def _filter_done(self) -> None:
        self.key_tree.focus()

    def _keys_for_completion(self, prefix: str) -> list[str]:
        try:
            return self.session.store.keys(prefix, sort=False)
        except StateError:  # a store out of reach: nothing to complete with
            return []

    # -- showing ----------------------------------------------------------------------

    def _show_item(self, item: Item | None) -> None:
        """Show what the cursor is on in the value pane."""
        if item != self._shown_item:
            self._removal = None
        self._shown_item = item
        value = self.value_view
        if isinstance(item, KeyItem):
            try:
                entry = self.feed.entry(item.key)
            except StateError as error:  # a store out of reach: the pane says so
                value.show_unread(item.key, str(error))
                value.show_trend(None, self.feed.value_history)
                return
            value.show(item.key, entry, removal=self._removal)
            self.feed.value_history.watch(item.key, None if entry is None else entry.value)
            value.show_trend(item.key, self.feed.value_history)
            return
        if isinstance(item, FolderItem | MoreItem):
            folder = self.feed.index.folder(item.prefix)
            value.show_folder(item.prefix, 0 if folder is None else folder.count)
        else:
            value.show(None, None)
        value.show_trend(None, self.feed.value_history)

    def refresh_view(self) -> None:
        """Draw the key count, the value pane and the progress panel afresh (the view
        moved in time)."""
        self._show_key_count()
        self._show_item(self.key_tree.cursor_item)
        self._show_progress()

    def _show_key_count(self) -> None:
        count, key_filter = len(self.feed.index), self.feed.key_filter
        if key_filter is None:
            title = f"Keys · {count:,}"
        else:
            try:
                total = f" of {len(self.session.store):,}"
            except StateError:  # a store out of reach: the filtered count alone
                total = ""
            title = f"Keys · {count:,}{total} · /{key_filter.text}"
        load = self.feed.load
        if self.feed.stale:
            title += " · not read again: store unreachable"
        elif load is not None:  # a store read over the network, a batch at a time
            if load.error is not None:
                title += " · loading: store unreachable, retrying"
            elif load.total:
                title += f" · loading {min(99, 100 * load.loaded // load.total)}%"
            else:
                title += " · loading"
        self.key_tree.border_title = Text(title)  # a filter may hold brackets: not markup

    def _show_scripts(self) -> None:
        scripts = self.session.supervisor.scripts
        if not scripts:
            self.script_list.display = False
            return
        self._scripts_drawn_at = time.monotonic()
        self.script_list.show(scripts, self.output_log.tag_style)

    def _show_progress(self) -> None:
        """Draw the progress panel afresh."""
        if self._panes_kept:  # before mount, it is drawn once the panes are there
            self._progress_drawn_at = now = self.clock()
            self._progress_changed = False
            self.progress_panel.draw(self.feed.progress.rows(now))

    # -- the live part ------------------------------------------------------------------

    @reads_store
    async def _tick(self) -> None:
        """Catch up with everything that happened since the last tick, in one screen update."""
        update = await self.feed.catch_up()
        if update is not None:
            self._apply(update)
        elif self.key_tree.highlighting:
            self.key_tree.cool_down()
        self.store_status.check()
        reports = self.session.inbox.take()
        if reports:
            self.run_log.write(reports)
            self._runs_ended([r for r in reports if isinstance(r, RunEnded)])
            self._show_scripts()
        elif self.script_list.counting and (
            time.monotonic() - self._scripts_drawn_at >= WAITING_SECONDS
        ):
            self._show_scripts()  # how long a script has waited
        since = self.clock() - self._progress_drawn_at
        if (self._progress_changed and since >= PROGRESS_SECONDS) or (
            len(self.feed.progress) and since >= 1  # ETAs count down, and quiet keys stall
        ):
            self._show_progress()

    def _runs_ended(self, ended: list[RunEnded]) -> None:
        """The progress keys of failed and stopped runs say so."""
        states = {RunStatus.ERROR: ProgressState.FAILED, RunStatus.CANCELLED: ProgressState.STOPPED}
        for report in ended:
            state = states.get(report.result.status)
            if state is not None and self.feed.progress.run_ended(report.source, state):
                self._progress_changed = True

    def _apply(self, update: Update) -> None:
        """Bring the tree, the counts and the value pane up to date with an update."""
        if update.travelling:
            if update.loaded:  # a load in batches goes on while the view is in the past
                self.key_tree.refresh_from(set())
                self._show_key_count()
            self.time_travel.follow_live(update.touched)
            return
        tree, shown = self.key_tree, self._shown_item
        if isinstance(shown, KeyItem) and (update.dropped or shown.key in update.touched):
            last = update.last_change(shown.key)
            if last is not None:
                self._removal = last if last.op.removes else None
                tree.gone_as = GONE_AS.get(last.op, "deleted")  # the line stays, saying so
        if update.dropped:
            tree.rebuild(self.feed.index)
        else:
            tree.refresh_from(update.touched)
        if update.matches is not None and len(update.matches) <= REVEAL_MATCHES:
            tree.reveal(update.matches)  # a filter's few matches, read in batches
        if update.progress_changed:
            self._progress_changed = True
        self._show_key_count()
        cursor = tree.cursor_item
        if cursor != shown:
            self._show_item(cursor)  # the line that was under the cursor is gone
        elif isinstance(shown, KeyItem) and (update.dropped or shown.key in update.touched):
            self._show_item(shown)
        elif isinstance(shown, FolderItem):
            self._show_item(shown)  # its count


_TYPING_ACTIONS = frozenset(
    binding.action
    for binding in MainScreen.BINDINGS
    if isinstance(binding, Binding) and len(binding.key) == 1
)
"""The actions of keys that type a character (see `MainScreen.check_action`): every key
in the bindings is written as the character it types, or by the name of one that does not."""
