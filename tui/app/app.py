"""The stateui app: the live inspector of one store and the scripts that write to it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import ClassVar

from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Tree

from tui.app.key_index import KeyIndex
from tui.app.key_tree import FolderItem, Item, KeyItem, KeyTree, MoreItem
from tui.app.output_log import ERROR, MARK, OK, STDERR, OutputLog
from tui.app.script_list import ScriptList, format_duration
from tui.app.value_view import ValueView
from tui.lua.supervisor import (
    Event,
    Printed,
    RunEnded,
    RunStarted,
    RunStatus,
    ScriptMissing,
    Supervisor,
)
from tui.lua.watcher import watch_scripts
from tui.state import Change, Op, Store

TICK_SECONDS = 1 / 20
"""How often the screen catches up with the store and the runs: at most 20 times a second."""

CHUNK = 2_000
"""Changes applied between two chances for other work (see `_index`)."""

BUSY_CHANGES = 2_000
"""Changes in one tick that make the next tick rest (see `_tick`)."""

QUIT_GRACE = 0.5
"""Seconds the runs get to stop when the app quits; stuck ones are left behind."""


class StateApp(App[None]):
    """Watches a store: the key tree, the selected value, the runs' output and the scripts."""

    CSS_PATH = "app.tcss"
    TITLE = "stateui"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "rerun", "Rerun"),
        Binding("s", "stop", "Stop"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(
        self,
        store: Store,
        scripts: Sequence[Path] = (),
        *,
        delimiter: str = ":",
        reset: bool = False,
        max_memory: int | None = None,
        watch: bool = True,
    ) -> None:
        super().__init__()
        self.store = store
        self._events: list[Event] = []
        self._events_lock = threading.Lock()
        self.supervisor = Supervisor(
            store, scripts, on_event=self._take_event, reset=reset, max_memory=max_memory
        )
        self._watch = watch and bool(scripts)
        self._stop_watching = asyncio.Event()
        # Subscribe before reading the keys: a change made in between is applied twice,
        # which the index takes in its stride, rather than lost.
        self._feed = store.subscribe()
        self.index = KeyIndex(delimiter, store.keys(sort=False))
        self._deleted_by = ""
        self._shown_item: Item | None = None
        self._resting = False

    # -- layout ---------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield KeyTree(self.index, id="keys")
                yield ScriptList(id="scripts")
            with Vertical(id="right"):
                yield ValueView(id="value")
                yield OutputLog(id="output")
        yield Footer()

    def on_mount(self) -> None:
        # Kept, rather than queried: the update tick can still fire while the app
        # takes its screen down.
        self._tree = self.query_one(KeyTree)
        self.query_one("#keys").border_title = "Keys"
        self.query_one("#scripts").border_title = "Scripts"
        self.query_one("#value").border_title = "Value"
        self.query_one("#output").border_title = "Output"
        output = self.query_one(OutputLog)
        for script in self.supervisor.scripts:
            output.tag(script.label)
        if not self.supervisor.scripts:
            output.write("", ["No scripts: `stateui watch FILE.lua` runs one."])
        self._show_scripts()
        self._show_key_count()
        self.query_one(KeyTree).focus()
        self._ticker = self.set_interval(TICK_SECONDS, self._tick)
        self.supervisor.start_all()
        if self._watch:
            self.run_worker(self._watch_files(), name="watch", exclusive=True)

    async def _watch_files(self) -> None:
        try:
            await watch_scripts(self.supervisor, self._stop_watching)
        except Exception as error:  # the app goes on without reruns, and says so
            self.notify(
                f"Scripts are no longer rerun on save: {error}",
                title="File watching stopped",
                severity="error",
                timeout=30,
            )

    def on_unmount(self) -> None:
        self._stop_everything()
        self._feed.close()

    def _stop_everything(self) -> None:
        # Twice is harmless: on `q`, then again as the app unmounts.
        self._ticker.stop()
        self._stop_watching.set()
        self.supervisor.close(QUIT_GRACE)

    # -- actions --------------------------------------------------------------------

    def action_rerun(self) -> None:
        """Run the highlighted script again (every script when none is highlighted)."""
        self.supervisor.rerun(self.query_one(ScriptList).selected_label)

    def action_stop(self) -> None:
        """Stop the highlighted script (every script when none is highlighted)."""
        self.supervisor.stop(self.query_one(ScriptList).selected_label)

    async def action_quit(self) -> None:
        """Stop every run, then leave (any other way out stops them as the app unmounts)."""
        self._stop_everything()
        self.exit()

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if not self.supervisor.scripts:
            return
        yield SystemCommand("Rerun all scripts", "Run every script again", self._rerun_all)
        yield SystemCommand("Stop all scripts", "Cancel every running script", self._stop_all)
        for script in self.supervisor.scripts:
            label = script.label
            yield SystemCommand(
                f"Rerun {label}", f"Run {script.path} again", partial(self.supervisor.rerun, label)
            )
            yield SystemCommand(
                f"Stop {label}",
                f"Cancel the run of {script.path}",
                partial(self.supervisor.stop, label),
            )

    def _rerun_all(self) -> None:
        self.supervisor.rerun(None)

    def _stop_all(self) -> None:
        self.supervisor.stop(None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Rerun and stop are offered (and shown in the footer) only when there are scripts."""
        if action in ("rerun", "stop"):
            return bool(self.supervisor.scripts)
        return True

    # -- selection ------------------------------------------------------------------

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[Item]) -> None:
        self._show_item(event.node.data)

    def _show_item(self, item: Item | None) -> None:
        """Show what the cursor is on in the value pane."""
        if item != self._shown_item:
            self._deleted_by = ""
        self._shown_item = item
        value = self.query_one(ValueView)
        if isinstance(item, KeyItem):
            value.show(item.key, self.store.entry(item.key), deleted_by=self._deleted_by)
        elif isinstance(item, FolderItem | MoreItem):
            folder = self.index.folder(item.prefix)
            value.show_folder(item.prefix, 0 if folder is None else folder.count)
        else:
            value.show(None, None)

    # -- the live part -----------------------------------------------------------------

    def _take_event(self, event: Event) -> None:
        # Called from run threads: only a quick append under a lock.
        with self._events_lock:
            self._events.append(event)

    async def _tick(self) -> None:
        """Catch up with everything that happened since the last tick, in one screen update."""
        if self._resting:
            # The last tick was a flood of changes: give the scripts this one, so that
            # a busy store is drawn 10 times a second rather than 20.
            self._resting = False
            return
        changes, dropped = self._feed.drain()
        with self._events_lock:
            events, self._events = self._events, []
        if changes or dropped:
            await self._apply_changes(changes, dropped)
            self._resting = len(changes) >= BUSY_CHANGES
        elif self._tree.highlighting:
            self._tree.cool_down()
        if events:
            self._show_events(events)

    async def _apply_changes(self, changes: Sequence[Change], dropped: int) -> None:
        tree = self._tree
        if dropped:
            # The feed overflowed: some changes are lost, so read the keys afresh.
            self.index = KeyIndex(self.index.delimiter, self.store.keys(sort=False))
            tree.rebuild(self.index)
            touched: set[str] = set()
        else:
            await self._index(changes)
            touched = {change.key for change in changes}
        tree.refresh_from(touched)
        self._show_key_count()
        shown, cursor = self._shown_item, tree.cursor_item
        if cursor != shown:
            self._show_item(cursor)  # the line that was under the cursor is gone
        elif isinstance(shown, KeyItem) and (dropped or shown.key in touched):
            last = next((c for c in reversed(changes) if c.key == shown.key), None)
            if last is not None and last.op is Op.DELETE:
                self._deleted_by = last.source
            self._show_item(shown)
        elif isinstance(shown, FolderItem):
            self._show_item(shown)  # its count

    async def _index(self, changes: Sequence[Change]) -> None:
        """Apply changes to the key index, a slice at a time.

        Between slices other work gets its turn (a key press, a screen update), so a
        flood of changes does not freeze the app.
        """
        add, remove, set_op = self.index.add, self.index.remove, Op.SET
        for start in range(0, len(changes), CHUNK):
            if start:
                await asyncio.sleep(0)
            for change in changes[start : start + CHUNK]:
                if change.op is set_op:
                    add(change.key)
                else:
                    remove(change.key)

    def _show_key_count(self) -> None:
        count = len(self.index)
        self.query_one(KeyTree).border_title = f"Keys · {count:,}"

    def _show_events(self, events: list[Event]) -> None:
        output = self.query_one(OutputLog)
        printed = sum(isinstance(event, Printed) for event in events)
        # Half the history for a flood, leaving room for the note and the runs' marks.
        skip = printed - output.max_lines // 2 if printed > output.max_lines // 2 else 0
        if skip:
            output.write(
                "", [f"… {skip:,} lines skipped: they came faster than they can be shown"], MARK
            )
        # Consecutive lines of one script to one stream are written in one go.
        batch: list[str] = []
        batch_from = ("", False)

        def write_batch() -> None:
            label, error = batch_from
            output.write(label, batch, STDERR if error else None)
            batch.clear()

        for event in events:
            if isinstance(event, Printed):
                if skip:
                    skip -= 1
                    continue
                if (event.label, event.error) != batch_from and batch:
                    write_batch()
                batch_from = (event.label, event.error)
                batch.append(event.text)
                continue
            if batch:
                write_batch()
            self._show_event(output, event)
        if batch:
            write_batch()
        self._show_scripts()

    def _show_event(self, output: OutputLog, event: Event) -> None:
        if isinstance(event, RunStarted):
            output.write(event.label, [f"── run {event.number} started"], MARK)
        elif isinstance(event, RunEnded):
            result = event.result
            took = format_duration(result.duration)
            if result.status is RunStatus.OK:
                output.write(event.label, [f"── run {result.number} ok in {took}"], OK)
            elif result.status is RunStatus.ERROR:
                assert result.error is not None
                output.write(event.label, result.error.describe().splitlines(), ERROR)
                output.write(event.label, [f"── run {result.number} failed after {took}"], ERROR)
            else:
                why = f" ({result.reason})" if result.reason else ""
                output.write(
                    event.label, [f"── run {result.number} cancelled{why} after {took}"], MARK
                )
        elif isinstance(event, ScriptMissing):
            output.write(
                event.label, [f"── {event.path} is not there: it runs when it appears"], ERROR
            )

    def _show_scripts(self) -> None:
        scripts = self.query_one(ScriptList)
        if not self.supervisor.scripts:
            scripts.display = False
            return
        output = self.query_one(OutputLog)
        tags = {script.label: output.tag(script.label) for script in self.supervisor.scripts}
        scripts.show(self.supervisor.scripts, tags)
