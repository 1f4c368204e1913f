"""What the app is opened on: a store, the scripts' supervisor, the console and its history.

Built by the CLI (or a test) and handed to `StateApp`, which builds none of them: the
same app opens any store. No Textual here.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from tui.app.model.console_history import History, history_path
from tui.lua.console import CONSOLE_SOURCE, Console, Evaluation
from tui.lua.supervisor import Event, Printed, Supervisor
from tui.state import Store
from tui.state.file import Follower


class Echo(NamedTuple):
    """A line typed at the console, shown before what it prints."""

    text: str


class Choices(NamedTuple):
    """What could complete the console's line, listed in the output."""

    choices: Sequence[str]


class Note(NamedTuple):
    """A line of stateui's own about the console (`still running`)."""

    text: str


Report = Event | Evaluation | Echo | Choices | Note
"""Everything the output pane shows, in the order it happened."""


class Inbox:
    """What the runs and the console report, from any thread, until the app takes it.

    `put` is a quick append under a lock, cheap enough for every printed line; the app
    takes everything at once on its tick.
    """

    def __init__(self) -> None:
        self._reports: list[Report] = []
        self._lock = threading.Lock()

    def put(self, report: Report) -> None:
        """Add a report (from any thread)."""
        with self._lock:
            self._reports.append(report)

    def take(self) -> list[Report]:
        """Everything reported since the last take, oldest first."""
        with self._lock:
            reports, self._reports = self._reports, []
        return reports


@dataclass
class Session:
    """The engine objects one app works on, wired to report into one inbox."""

    store: Store
    supervisor: Supervisor
    console: Console
    history: History
    inbox: Inbox
    follower: Follower | None = None
    """Set when the store is a file another process owns: this app follows it, read-only."""

    @classmethod
    def open(
        cls,
        store: Store,
        scripts: Sequence[Path] = (),
        *,
        reset: bool = False,
        max_memory: int | None = None,
        history: History | None = None,
        inbox: Inbox | None = None,
        follower: Follower | None = None,
    ) -> Session:
        """A session on `store` running `scripts`; the history file is the user's unless given.

        `reset` empties the store before each run; `max_memory` caps every run's and the
        console's Lua memory, in bytes.
        """
        inbox = Inbox() if inbox is None else inbox
        supervisor = Supervisor(
            store, scripts, on_event=inbox.put, reset=reset, max_memory=max_memory
        )
        console: Console

        def printed(stderr: bool, text: str) -> None:
            inbox.put(Printed(CONSOLE_SOURCE, console.count, text, stderr))

        console = Console(
            store,
            on_line=lambda text: printed(False, text),
            on_error_line=lambda text: printed(True, text),
            on_done=inbox.put,
            max_memory=max_memory,
        )
        history = History(history_path()) if history is None else history
        if follower is not None:
            follower.start()
        return cls(store, supervisor, console, history, inbox, follower)

    def close(self, grace: float) -> None:
        """Cancel the console's line and every run (they get `grace` seconds to end),
        then close the store: a file store has everything on disk when this returns."""
        self.console.cancel("the app quit")
        self.supervisor.close(grace)
        self.store.close()
