"""The stateui app: the live inspector of one session's store and the scripts that write to it."""

from __future__ import annotations

import gc

from textual.app import App
from textual.command import CommandPalette
from textual.screen import Screen

from tui.app.commands import StatePalette
from tui.app.main_screen import MainScreen, ViewOptions
from tui.app.session import Session

QUIT_GRACE = 0.5
"""Seconds the runs get to stop when the app quits; stuck ones are left behind."""


class StateApp(App[None]):
    """The inspector, opened on a session the caller built (the CLI, a test, a benchmark).

    The app builds no engine object of its own: `session` holds the store, the scripts'
    supervisor, the console and its history. The app stops them all when it ends.
    """

    CSS_PATH = "app.tcss"
    TITLE = "stateui"

    def __init__(self, session: Session, options: ViewOptions | None = None) -> None:
        super().__init__()
        self.session = session
        self.main = MainScreen(session, options or ViewOptions())
        """The inspector's screen."""

    def get_default_screen(self) -> Screen[None]:
        return self.main

    def on_ready(self) -> None:
        # What exists once the screen is up (Textual, the Lua runtimes, a loaded store)
        # lives as long as the app: kept out of the garbage collector's full passes, which
        # otherwise walk it all and stall the screen during a flood of writes (p99 loop
        # lag 55 ms → 17 ms in tests/bench/bench_app.py).
        gc.freeze()

    def action_command_palette(self) -> None:
        """Open the command palette (stateui's, which survives keys typed ahead of it)."""
        if self.use_command_palette and not isinstance(self.screen, CommandPalette):
            self.push_screen(StatePalette(id="--command-palette"))

    async def action_quit(self) -> None:
        """Stop every run, then leave (any other way out stops them as the app unmounts)."""
        self._stop_everything()
        self.exit()

    def on_unmount(self) -> None:
        self._stop_everything()
        gc.unfreeze()  # what the app held may go now (another app may open in this process)

    def _stop_everything(self) -> None:
        # Twice is harmless: on `q`, then again as the app unmounts.
        self.main.stop()
        self.session.close(QUIT_GRACE)
