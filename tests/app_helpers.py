"""Helpers for driving the app in tests: build it, wait on it, read its panes."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from textual.command import CommandList, CommandPalette
from textual.css.query import NoMatches
from textual.pilot import Pilot
from textual.widgets import Input

from tui.app.app import StateApp
from tui.app.main_screen import ViewOptions
from tui.app.model.console_history import History
from tui.app.model.tree_items import FolderItem, KeyItem
from tui.app.session import Session
from tui.app.widgets.key_tree import KeyTree
from tui.app.widgets.output_log import OutputLog
from tui.app.widgets.progress_panel import ProgressPanel
from tui.app.widgets.script_list import ScriptList
from tui.app.widgets.value_view import ValueView
from tui.state import Store
from tui.state.file import Follower


async def until(
    pilot: Pilot[None], condition: Callable[[], object], timeout: float = 10, what: str = ""
) -> None:
    """Let the app run until `condition()` holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not _holds(condition):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await pilot.pause(0.02)


def _holds(condition: Callable[[], object]) -> bool:
    try:
        return bool(condition())
    except NoMatches:  # the screen is still being put together
        return False


def tree_lines(app: StateApp) -> list[str]:
    """The key tree as text: one line per visible node, indented two spaces a level."""
    tree = app.query_one(KeyTree)
    lines = []
    for line in range(tree.last_line + 1):
        node = tree.get_node_at_line(line)
        assert node is not None
        depth, parent = 0, node.parent
        while parent is not None and parent is not tree.root:
            depth, parent = depth + 1, parent.parent
        lines.append("  " * depth + node.label.plain)
    return lines


def output_text(app: StateApp) -> str:
    """Everything in the output pane."""
    return app.query_one(OutputLog).text()


def value_text(app: StateApp) -> str:
    """The value pane: its header and the JSON shown."""
    view = app.query_one(ValueView)
    header = view.query_one("#value-header")
    note = view.query_one("#value-note")
    return f"{header.render()}\n{note.render()}\n{view.query_one('#value-json').text()}"  # type: ignore[attr-defined]


def script_line(app: StateApp, index: int = 0) -> str:
    """A line of the scripts pane."""
    scripts = app.query_one(ScriptList)
    return str(scripts.get_option_at_index(index).prompt)


def open_folder(app: StateApp, prefix: str) -> None:
    """Expand a folder line of the key tree."""
    node = app.query_one(KeyTree).node_for(FolderItem(prefix))
    assert node is not None, f"no folder {prefix}"
    node.expand()


def move_to_key(app: StateApp, key: str) -> None:
    """Put the tree's cursor on a key line."""
    tree = app.query_one(KeyTree)
    node = tree.node_for(KeyItem(key))
    assert node is not None, f"no key {key} in the tree"
    tree.move_cursor(node)


def write_script(path: Path, text: str) -> Path:
    """Write a script file and return its path."""
    path.write_text(text, encoding="utf-8")
    return path


class Clock:
    """A clock the test moves by hand, for the store and the app alike."""

    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def panel_text(app: StateApp) -> list[str]:
    """The progress panel's lines as text."""
    panel = app.query_one(ProgressPanel)
    return ["".join(s.text for s in panel.line_segments(i)) for i in range(panel.line_count)]


def make_app(
    store: Store,
    scripts: Sequence[Path] = (),
    *,
    reset: bool = False,
    max_memory: int | None = None,
    history: History | None = None,
    follower: Follower | None = None,
    **options: Any,
) -> StateApp:
    """The app on a session over `store` running `scripts`, as the CLI opens it.

    The console's history is kept in memory unless a `history` is given.
    """
    session = Session.open(
        store,
        scripts,
        reset=reset,
        max_memory=max_memory,
        history=History(None) if history is None else history,
        follower=follower,
    )
    return StateApp(session, ViewOptions(**options))


async def run_command(pilot: Pilot[None], search: str) -> None:
    """Open the command palette, type `search`, wait for its first match, and run it."""
    await pilot.press("ctrl+p", *search)
    app = pilot.app

    def found() -> bool:
        palette = app.screen
        if not isinstance(palette, CommandPalette):
            return False
        results = palette.query_one(CommandList)
        return bool(palette.query_one(Input).value == search and results.option_count)

    await until(pilot, found, what=f"a command matching {search!r}")
    await pilot.press("enter")
