"""The stateui app: the live inspector of one store and the scripts that write to it."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import ClassVar

import orjson
from rich.text import Text
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input, Label, Tree

from tui.app.model.console_history import History, history_path
from tui.app.model.key_filter import KeyFilter
from tui.app.model.key_index import KeyIndex
from tui.app.model.progress_tracker import ProgressState, ProgressTracker
from tui.app.model.value_history import ValueHistory
from tui.app.screens.confirm import Confirm
from tui.app.screens.prompt import Prompt
from tui.app.screens.value_editor import SOURCE as EDITOR
from tui.app.screens.value_editor import ValueEditor, editable_text
from tui.app.widgets.console_input import ConsoleInput
from tui.app.widgets.key_tree import FolderItem, Item, KeyItem, KeyTree, MoreItem
from tui.app.widgets.output_log import ERROR, MARK, OK, STDERR, OutputLog
from tui.app.widgets.progress_panel import ProgressPanel
from tui.app.widgets.script_list import ScriptList, format_duration
from tui.app.widgets.value_view import ValueView
from tui.lua.console import SOURCE as CONSOLE
from tui.lua.console import Console, Evaluation
from tui.lua.supervisor import (
    STUCK_GRACE,
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

_LETTER_ACTIONS = frozenset(
    (
        "edit",
        "new_key",
        "delete",
        "filter",
        "copy",
        "console",
        "pin",
        "next_field",
        "progress",
        "progress_full",
        "rerun",
        "stop",
        "quit",
    )
)
"""The actions of one-letter keys (see `check_action`)."""

PROGRESS_SECONDS = 0.1
"""The progress panel is drawn at most 10 times a second (sorting a thousand bars)."""

FILTER_DELAY = 0.15
"""Seconds of no typing before the filter is applied (a big store takes a moment)."""

EXPORT_FILE = "stateui-dump.json"
"""The file the export offers first, in the current folder."""


class StateApp(App[None]):
    """Watches a store: the key tree, the selected value, the runs' output and the scripts."""

    CSS_PATH = "app.tcss"
    TITLE = "stateui"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "edit", "Edit"),
        Binding("n", "new_key", "New"),
        Binding("d", "delete", "Delete"),
        Binding("slash", "filter", "Filter"),
        Binding("y", "copy", "Copy"),
        Binding("colon", "console", "Console"),
        Binding("p", "pin", "Pin", show=False),
        Binding("f", "next_field", "Next field", show=False),
        Binding("g", "progress", "Progress"),
        Binding("G", "progress_full", "Full progress", show=False),
        Binding("r", "rerun", "Rerun"),
        Binding("s", "stop", "Stop"),
        Binding("q", "quit", "Quit"),
        Binding("escape", "leave", "Leave", show=False),
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
        progress_prefix: str = "progress:",
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self.store = store
        self.clock = clock
        """The time progress rates and stalls are judged by (the store's clock's kind)."""
        self._events: list[Event | Evaluation] = []
        self._events_lock = threading.Lock()
        self.supervisor = Supervisor(
            store, scripts, on_event=self._take_event, reset=reset, max_memory=max_memory
        )
        self.lua_console = Console(
            store,
            on_line=partial(self._take_console_line, False),
            on_error_line=partial(self._take_console_line, True),
            on_done=self._take_event,
            max_memory=max_memory,
        )
        self.history = History(history_path())
        self._watch = watch and bool(scripts)
        self._stop_watching = asyncio.Event()
        # Subscribe before reading the keys: a change made in between is applied twice,
        # which the index takes in its stride, rather than lost.
        self._feed = store.subscribe()
        self.index = KeyIndex(delimiter, store.keys(sort=False))
        self.progress = ProgressTracker(progress_prefix)
        """The progress keys, from the change feed, for the progress panel."""
        self._load_progress()
        self._progress_shown: bool | None = None
        """Whether the progress panel is shown: None shows it once there is progress."""
        self._progress_drawn_at = 0.0
        self._progress_changed = False
        self.value_history = ValueHistory()
        """Recent numbers of the keys looked at, for the value pane's sparkline."""
        self._trend_field: dict[str, str] = {}
        self.key_filter: KeyFilter | None = None
        """What the key tree is narrowed to, if anything."""
        self._filter_timer: Timer | None = None
        self._deleted_by = ""
        self._shown_item: Item | None = None
        self._resting = False

    # -- layout ---------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield Input(
                    placeholder="filter: a glob (cache:*:user_1*) or text",
                    id="filter",
                    select_on_focus=False,
                )
                yield KeyTree(self.index, id="keys")
                yield ScriptList(id="scripts")
            with Vertical(id="right"):
                yield ValueView(id="value")
                yield ProgressPanel(id="progress")
                yield OutputLog(id="output")
                with Horizontal(id="console"):
                    yield Label("lua>", classes="prompt")
                    yield ConsoleInput(
                        self.history,
                        functions=self.lua_console.functions,
                        keys=self._keys_for_completion,
                        delimiter=self.index.delimiter,
                        id="console-input",
                    )
        yield Footer()

    def on_mount(self) -> None:
        # Kept, rather than queried: the update tick can still fire while the app
        # takes its screen down, when a query finds nothing.
        self._tree = self.query_one(KeyTree)
        self._output = self.query_one(OutputLog)
        self._scripts = self.query_one(ScriptList)
        self._value = self.query_one(ValueView)
        self._progress_panel = self.query_one(ProgressPanel)
        self._filter_field = self.query_one("#filter", Input)
        self._console_input = self.query_one(ConsoleInput)
        self.query_one("#keys").border_title = "Keys"
        self.query_one("#scripts").border_title = "Scripts"
        self.query_one("#value").border_title = "Value"
        self.query_one("#output").border_title = "Output"
        self._progress_panel.border_title = "Progress"
        self._show_progress()
        output = self._output
        for script in self.supervisor.scripts:
            output.tag(script.label)
        output.tag(CONSOLE)
        self._history_problem_shown = bool(self.history.problem)
        if self.history.problem:
            self._say(self.history.problem, title="Console history", severity="warning")
        if not self.supervisor.scripts:
            output.write("", ["No scripts: `stateui watch FILE.lua` runs one."])
        self._show_scripts()
        self._show_key_count()
        self._tree.focus()
        self._ticker = self.set_interval(TICK_SECONDS, self._tick)
        self.supervisor.start_all()
        if self._watch:
            self.run_worker(self._watch_files(), name="watch", exclusive=True)

    async def _watch_files(self) -> None:
        try:
            await watch_scripts(self.supervisor, self._stop_watching)
        except Exception as error:  # the app goes on without reruns, and says so
            self._say(
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
        self.lua_console.cancel("the app quit")
        self.supervisor.close(QUIT_GRACE)

    def _say(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
    ) -> None:
        """A notification of ours, as plain text: keys and paths hold brackets."""
        self.notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    # -- actions --------------------------------------------------------------------

    def action_rerun(self) -> None:
        """Run the highlighted script again (every script when none is highlighted)."""
        self.supervisor.rerun(self._scripts.selected_label)

    def action_stop(self) -> None:
        """Stop the highlighted script (every script when none is highlighted)."""
        self.supervisor.stop(self._scripts.selected_label)

    async def action_quit(self) -> None:
        """Stop every run, then leave (any other way out stops them as the app unmounts)."""
        self._stop_everything()
        self.exit()

    # -- keys: edit, new, delete, copy ----------------------------------------------

    def action_edit(self) -> None:
        """Edit the value of the key under the cursor."""
        item = self._tree.cursor_item
        if not isinstance(item, KeyItem):
            self._say("Select a key to edit it (n makes a new one).", severity="warning")
            return
        entry = self.store.entry(item.key)
        if entry is None:
            self._say(f"{item.key} no longer exists.", severity="warning")
            return
        try:
            text = editable_text(entry.value)
        except ValueError as too_long:
            self._say(str(too_long), title=f"{item.key} is too big to edit here")
            return
        editor = ValueEditor(self.store, item.key, text=text, version=entry.version)
        self.push_screen(editor, self._saved)

    def on_key_tree_edit_requested(self, event: KeyTree.EditRequested) -> None:
        self.action_edit()

    def action_new_key(self) -> None:
        """Make a new key, in the folder under the cursor."""
        self.push_screen(ValueEditor(self.store, prefix=self._cursor_prefix()), self._saved)

    def _saved(self, key: str | None) -> None:
        if key is not None:
            entry = self.store.entry(key)
            version = f" (version {entry.version})" if entry is not None else ""
            self._say(f"Saved {key}{version}.", title="Saved")

    def _cursor_prefix(self) -> str:
        """The folder the cursor is in (or on), as a key prefix."""
        item = self._tree.cursor_item
        if isinstance(item, FolderItem | MoreItem):
            return item.prefix
        if isinstance(item, KeyItem):
            return item.key[: len(item.key) - len(item.name)]  # its folder's prefix
        return ""

    def action_delete(self) -> None:
        """Delete the key under the cursor, or every key in the folder under it, once asked."""
        item = self._tree.cursor_item
        if isinstance(item, KeyItem):
            key = item.key
            self.push_screen(
                Confirm("Delete key", f"Delete {key}?", yes="Delete"),
                lambda yes: self._delete_key(key) if yes else None,
            )
        elif isinstance(item, FolderItem):
            prefix = item.prefix
            which = f" that match {self.key_filter.text!r}" if self.key_filter else ""
            self._confirm_delete(self._keys_under(prefix), f"under {prefix}{which}")
        else:
            self._say("Select a key or a folder to delete it.", severity="warning")

    def _keys_under(self, prefix: str) -> list[str]:
        """The keys under `prefix` that the tree shows (through the filter)."""
        keys = self.store.keys(prefix, sort=False)
        return keys if self.key_filter is None else self.key_filter.select(keys)

    def _delete_key(self, key: str) -> None:
        if self.store.delete(key, source=EDITOR):
            self._say(f"Deleted {key}.", title="Deleted")
        else:
            self._say(f"{key} was already gone.", severity="warning")

    def _confirm_delete(self, keys: list[str], where: str) -> None:
        """Ask, then delete exactly `keys`: keys written meanwhile are not part of the deal."""
        count = len(keys)
        amount = f"{count:,} {_keys(count)}"

        def answered(yes: bool | None) -> None:
            if yes:
                deleted = self.store.delete_many(keys, source=EDITOR)
                self._say(f"Deleted {deleted:,} {_keys(deleted)} {where}.", title="Deleted")

        self.push_screen(
            Confirm("Delete keys", f"Delete the {amount} {where}?", yes=f"Delete {amount}"),
            answered,
        )

    def action_copy(self) -> None:
        """Copy the value under the cursor as JSON (a folder: its keys and values)."""
        item = self._tree.cursor_item
        if isinstance(item, KeyItem):
            data = self.store.get_encoded(item.key)
            if data is None:
                self._say(f"{item.key} no longer exists.", severity="warning")
                return
            text, what = _pretty(orjson.loads(data)), item.key
        elif isinstance(item, FolderItem):
            values = {key: self.store.get(key) for key in sorted(self._keys_under(item.prefix))}
            text = _pretty({key: value for key, value in values.items() if value is not None})
            what = f"{len(values):,} {_keys(len(values))} under {item.prefix}"
        else:
            self._say("Select a key or a folder to copy it.", severity="warning")
            return
        self.copy_to_clipboard(text)
        self._say(f"Copied {what} as JSON ({len(text.encode()):,} bytes).", title="Copied")

    # -- the key filter -----------------------------------------------------------------

    def action_filter(self) -> None:
        """Open the filter above the key tree."""
        field = self._filter_field
        field.add_class("shown")
        field.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id != "filter":
            return
        if self._filter_timer is not None:
            self._filter_timer.stop()
        self._filter_timer = self.set_timer(FILTER_DELAY, self._apply_filter)

    def _apply_filter(self) -> None:
        if self._filter_timer is not None:
            self._filter_timer.stop()
            self._filter_timer = None
        key_filter = KeyFilter.parse(self._filter_field.value)
        if key_filter == self.key_filter:
            return
        self.key_filter = key_filter
        self._reindex(filtered=True)

    def _reindex(self, *, filtered: bool = False) -> None:
        """Read the keys afresh into the index, through the filter (`filtered`: it changed)."""
        self.index = KeyIndex(self.index.delimiter, self._keys_under(""))
        self._tree.rebuild(self.index, filtered=filtered)
        self._show_key_count()
        self._show_item(self._tree.cursor_item)

    def _close_filter(self) -> None:
        field = self._filter_field
        field.value = ""
        field.remove_class("shown")
        self._apply_filter()
        self._tree.focus()

    # -- the console --------------------------------------------------------------------

    def action_console(self) -> None:
        """Focus the console's input line."""
        self._console_input.focus()

    def _keys_for_completion(self, prefix: str) -> list[str]:
        return self.store.keys(prefix, sort=False)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            self._apply_filter()
            self._tree.focus()
        elif isinstance(event.input, ConsoleInput):
            self._run_line(event.input)

    def _run_line(self, line: ConsoleInput) -> None:
        text = line.value
        if not text.strip():
            return
        output = self._output
        if self.lua_console.busy:
            output.write(CONSOLE, ["… the last line is still running: ctrl+c cancels it"], MARK)
            return
        self.history.add(text)
        if self.history.problem and not self._history_problem_shown:
            self._history_problem_shown = True
            self._say(self.history.problem, title="Console history", severity="warning")
        line.clear_line()
        self._show_pending_events()  # the last line's output comes before this one
        output.write(CONSOLE, [f"> {part}" for part in text.splitlines()], MARK)
        self.lua_console.submit(text)

    def on_console_input_interrupted(self, event: ConsoleInput.Interrupted) -> None:
        if not self._interrupt():
            self._console_input.clear_line()

    def _interrupt(self) -> bool:
        """Cancel the console's running line (given up on if it does not stop); False: none."""
        if not self.lua_console.cancel():
            return False
        number = self.lua_console.count
        self.set_timer(STUCK_GRACE, partial(self._give_up_on_line, number))
        return True

    def _give_up_on_line(self, number: int) -> None:
        if self.lua_console.busy and self.lua_console.count == number:
            self.lua_console.restart(
                "did not stop: it is inside one long call into Lua's C library, which "
                "cannot be interrupted; the console starts afresh, without its globals"
            )

    def on_console_input_choices(self, event: ConsoleInput.Choices) -> None:
        self._show_pending_events()
        width = max(20, self._output.size.width - 12)
        rows: list[str] = []
        for choice in event.choices:
            if rows and len(rows[-1]) + 2 + len(choice) <= width:
                rows[-1] += f"  {choice}"
            else:
                rows.append(choice)
        self._output.write(CONSOLE, rows, MARK)

    def _take_console_line(self, error: bool, text: str) -> None:
        self._take_event(Printed(CONSOLE, self.lua_console.count, text, stderr=error))

    def action_leave(self) -> None:
        """Escape: leave the console for the key tree; elsewhere, clear the filter."""
        if isinstance(self.focused, ConsoleInput):
            self._tree.focus()
        elif self.key_filter is not None or self._filter_field.has_class("shown"):
            self._close_filter()

    def _show_trend(self, key: str) -> None:
        fields = self.value_history.fields(key)
        field = self._trend_field.get(key, fields[0] if fields else "")
        values = self.value_history.values(key, field) if field in fields else []
        self._value.show_trend(field, values, len(fields))

    def action_next_field(self) -> None:
        """Chart the next numeric field of the selected object."""
        item = self._tree.cursor_item
        if not isinstance(item, KeyItem):
            return
        fields = self.value_history.fields(item.key)
        if len(fields) < 2:
            self._say("The sparkline has only one number to chart here.", severity="warning")
            return
        now = self._trend_field.get(item.key, fields[0])
        self._trend_field[item.key] = fields[(fields.index(now) + 1) % len(fields)]
        self._show_trend(item.key)

    # -- the progress panel -------------------------------------------------------------

    def _load_progress(self) -> None:
        """Read the progress keys (and the pinned ones) the store holds now, afresh."""
        old = self.progress
        self.progress = tracker = ProgressTracker(old.prefix)
        for key in sorted(old.pinned):
            entry = self.store.entry(key)
            if entry is not None:
                tracker.pin(key, entry.value, entry.time)
        found = [(key, self.store.entry(key)) for key in self.store.keys(old.prefix)]
        tracker.load((key, entry.value, entry.time) for key, entry in found if entry)

    def _show_progress(self) -> None:
        """Draw the panel afresh (shown once there is progress, unless hidden by hand)."""
        panel = self._progress_panel
        self._progress_drawn_at = now = self.clock()
        rows = self.progress.rows(now)
        self._progress_changed = False
        shown = bool(rows) if self._progress_shown is None else self._progress_shown
        panel.display = shown
        panel.show(rows if shown else ())
        running = sum(row.state is not ProgressState.DONE for row in rows)
        panel.border_title = f"Progress · {running:,} running · {len(rows) - running:,} done"
        if not self.screen.has_class("progress-full"):
            panel.styles.height = panel.wanted_height()

    def action_progress(self) -> None:
        """Show or hide the progress panel."""
        full = self.screen.has_class("progress-full")
        self._progress_shown = full or not self._progress_panel.display
        self.screen.remove_class("progress-full")
        self._show_progress()

    def action_progress_full(self) -> None:
        """Make the progress panel fill the screen, or go back."""
        full = not self.screen.has_class("progress-full")
        self.screen.set_class(full, "progress-full")
        self._progress_shown = True if full else self._progress_shown
        self._progress_panel.styles.height = "1fr" if full else None
        self._show_progress()

    def action_pin(self) -> None:
        """Pin the key under the cursor to the progress panel, or unpin it."""
        item = self._tree.cursor_item
        if not isinstance(item, KeyItem):
            self._say("Select a key with numeric current and total to pin it.", severity="warning")
            return
        key = item.key
        if key in self.progress.pinned:
            self.progress.unpin(key)
            self._say(f"Unpinned {key} from the progress panel.")
        else:
            entry = self.store.entry(key)
            if entry is None or not self.progress.pin(key, entry.value, entry.time):
                self._say(
                    f"{key} has no numeric current and total to show as progress.",
                    severity="warning",
                )
                return
            self._progress_shown = self._progress_shown or None
            self._say(f"Pinned {key} to the progress panel.")
        self._show_progress()

    # -- the command palette --------------------------------------------------------

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Edit key", "Edit the selected key's value as JSON", self.action_edit)
        yield SystemCommand("New key", "Make a key with a JSON value", self.action_new_key)
        yield SystemCommand(
            "Delete key or folder",
            "Delete the selected key, or a folder's keys",
            self.action_delete,
        )
        yield SystemCommand(
            "Filter keys", "Show only keys matching a glob or text", self.action_filter
        )
        yield SystemCommand(
            "Copy value", "Copy the selected value to the clipboard as JSON", self.action_copy
        )
        yield SystemCommand(
            "Clear keys under folder…",
            "Delete every key that starts with a prefix",
            self._ask_clear,
        )
        yield SystemCommand(
            "Export store to JSON file…",
            "Write every key to a file, as `stateui run --dump` does",
            self._ask_export,
        )
        yield SystemCommand(
            "Focus console", "Type Lua that runs against the store", self.action_console
        )
        yield SystemCommand(
            "Show or hide the progress panel", "Bars for the progress keys", self.action_progress
        )
        yield SystemCommand(
            "Progress panel full screen",
            "Fill the screen with the progress bars, or go back",
            self.action_progress_full,
        )
        yield SystemCommand(
            "Pin or unpin key to the progress panel",
            "Show a key with numeric current and total as a bar",
            self.action_pin,
        )
        if self.lua_console.busy:
            yield SystemCommand(
                "Cancel console line", "Stop the line the console is running", self._interrupt
            )
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

    def _ask_clear(self) -> None:
        def check(prefix: str) -> str | None:
            return None if self.store.keys(prefix) else f"No key starts with {prefix!r}."

        def confirm(prefix: str | None) -> None:
            if prefix is not None:
                where = f"under {prefix}" if prefix else "in the store"
                self._confirm_delete(self.store.keys(prefix, sort=False), where)

        self.push_screen(
            Prompt(
                "Clear keys under folder",
                "Every key that starts with this prefix is deleted (empty: every key).",
                value=self._cursor_prefix(),
                check=check,
            ),
            confirm,
        )

    def _ask_export(self) -> None:
        def check(name: str) -> str | None:
            if not name.strip():
                return "Type a file name."
            try:
                path = Path(name).expanduser()
                if path.is_dir():
                    return f"{name} is a folder: name a file."
                if not path.parent.is_dir():
                    return f"There is no folder {path.parent}."
                path.exists()  # a name too long, or a folder that cannot be read, fails here
            except (OSError, RuntimeError, ValueError) as error:  # ~nobody/, too long, NUL
                return f"Cannot write there: {getattr(error, 'strerror', None) or error}"
            return None

        def export(name: str | None) -> None:
            if name is None:
                return
            path = Path(name).expanduser()
            if path.exists():
                self.push_screen(
                    Confirm("Export store", f"{path} exists. Replace it?", yes="Replace"),
                    lambda yes: self._export(path) if yes else None,
                )
            else:
                self._export(path)

        self.push_screen(
            Prompt(
                "Export store to JSON file",
                "Every key and value as one JSON object, as `stateui run --dump` writes it.",
                value=EXPORT_FILE,
                check=check,
            ),
            export,
        )

    def _export(self, path: Path) -> None:
        """Write the store to `path` in a thread (a big store takes seconds), then say so."""

        def write() -> None:
            count = len(self.store)
            try:
                self.store.write_dump(path)
            except OSError as error:
                self._say(
                    f"Could not write {path}: {error.strerror or error}",
                    title="Export failed",
                    severity="error",
                )
                return
            self._say(f"Wrote {count:,} {_keys(count)} to {path}.", title="Exported")

        self.run_worker(write, name="export", thread=True, exit_on_error=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Which actions the footer offers.

        While a line of text is being typed (the console, the filter), the one-letter
        keys type letters, so they are not offered. Rerun and stop need scripts.
        """
        if action in _LETTER_ACTIONS and isinstance(self.focused, Input):
            return False
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
        value = self._value
        if isinstance(item, KeyItem):
            entry = self.store.entry(item.key)
            value.show(item.key, entry, deleted_by=self._deleted_by)
            self.value_history.watch(item.key, None if entry is None else entry.value)
            self._show_trend(item.key)
        elif isinstance(item, FolderItem | MoreItem):
            folder = self.index.folder(item.prefix)
            value.show_folder(item.prefix, 0 if folder is None else folder.count)
        else:
            value.show(None, None)
        if not isinstance(item, KeyItem):
            value.show_trend("", [], 0)

    # -- the live part -----------------------------------------------------------------

    def _take_event(self, event: Event | Evaluation) -> None:
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
        if changes or dropped:
            await self._apply_changes(changes, dropped)
            self._resting = len(changes) >= BUSY_CHANGES
        elif self._tree.highlighting:
            self._tree.cool_down()
        since = self.clock() - self._progress_drawn_at
        if (self._progress_changed and since >= PROGRESS_SECONDS) or (
            len(self.progress) and since >= 1  # ETAs count down, and quiet keys stall
        ):
            self._show_progress()
        self._show_pending_events()

    def _show_pending_events(self) -> None:
        """Show what the runs and the console reported since last time."""
        with self._events_lock:
            events, self._events = self._events, []
        if events:
            self._show_events(events)

    async def _apply_changes(self, changes: Sequence[Change], dropped: int) -> None:
        tree = self._tree
        if dropped:
            # The feed overflowed: some changes are lost, so read the keys afresh.
            self._reindex()
            self._load_progress()
            self._show_progress()
            touched: set[str] = set()
        else:
            await self._index(changes)
            touched = {change.key for change in changes}
            if not touched.isdisjoint(self.value_history.keys):
                self.value_history.apply(changes)
            if self.progress.apply(changes):
                self._progress_changed = True
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
        shown = self.key_filter
        for start in range(0, len(changes), CHUNK):
            if start:
                await asyncio.sleep(0)
            for change in changes[start : start + CHUNK]:
                if shown is not None and not shown(change.key):
                    continue
                if change.op is set_op:
                    add(change.key)
                else:
                    remove(change.key)

    def _show_key_count(self) -> None:
        count = len(self.index)
        if self.key_filter is None:
            title = f"Keys · {count:,}"
        else:
            title = f"Keys · {count:,} of {len(self.store):,} · /{self.key_filter.text}"
        self._tree.border_title = Text(title)  # a filter may hold brackets: not markup

    def _show_events(self, events: list[Event | Evaluation]) -> None:
        output = self._output
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
                if (event.label, event.stderr) != batch_from and batch:
                    write_batch()
                batch_from = (event.label, event.stderr)
                batch.append(event.text)
                continue
            if batch:
                write_batch()
            self._show_event(output, event)
        if batch:
            write_batch()
        self._show_scripts()

    def _show_event(self, output: OutputLog, event: Event | Evaluation) -> None:
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
        elif isinstance(event, Evaluation):
            self._show_evaluation(output, event)
        elif isinstance(event, ScriptMissing):
            output.write(
                event.label, [f"── {event.path} is not there: it runs when it appears"], ERROR
            )

    def _show_evaluation(self, output: OutputLog, done: Evaluation) -> None:
        took = format_duration(done.duration)
        if done.status is RunStatus.OK:
            lines = [line for result in done.results for line in result.splitlines()]
            if lines:
                output.write(CONSOLE, lines)
        elif done.status is RunStatus.ERROR:
            assert done.error is not None
            output.write(CONSOLE, done.error.describe().splitlines(), ERROR)
        else:
            why = f" ({done.reason})" if done.reason != "cancelled" else ""
            output.write(CONSOLE, [f"── cancelled{why} after {took}"], MARK)

    def _show_scripts(self) -> None:
        scripts = self._scripts
        if not self.supervisor.scripts:
            scripts.display = False
            return
        output = self._output
        tags = {script.label: output.tag(script.label) for script in self.supervisor.scripts}
        scripts.show(self.supervisor.scripts, tags)


def _keys(count: int) -> str:
    return "key" if count == 1 else "keys"


def _pretty(value: object) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
