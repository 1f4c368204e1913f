"""The console: a `lua>` prompt and its input line, running what is typed against the store."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import Input, Label

from tui.app.session import Choices, Echo, Note, Session
from tui.app.widgets.console_input import ConsoleInput
from tui.lua.supervisor import STUCK_GRACE

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
"""The prompt's frames while a line runs."""

SPIN_SECONDS = 0.1


class ConsolePane(Horizontal):
    """The console's line under the output pane.

    Enter runs the line in the session's console (one at a time); the prompt spins
    while it runs. ctrl+c cancels it, and a line stuck in one long C call is given up
    on after STUCK_GRACE seconds (the console starts afresh). What the line prints, and
    the line itself, reach the output through the session's inbox, in order.
    """

    DEFAULT_CSS = """
    ConsolePane { height: 1; background: $surface; }
    ConsolePane > #prompt { width: 7; padding: 0 1; color: $text-accent; text-style: bold; }
    ConsolePane.running > #prompt { color: $text-warning; }
    """

    running: reactive[bool] = reactive(False)
    """Whether a line is running (the prompt spins)."""

    def __init__(
        self,
        session: Session,
        *,
        keys: Callable[[str], Iterable[str]],
        delimiter: str,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.session = session
        self._keys = keys
        self._delimiter = delimiter
        self._frame = 0
        self._spinner: Timer | None = None
        self._history_problem_said = False

    def compose(self) -> ComposeResult:
        yield Label("lua>", id="prompt")
        yield ConsoleInput(
            self.session.history,
            functions=self.session.console.functions,
            keys=self._keys,
            delimiter=self._delimiter,
            id="console-input",
        )

    def on_mount(self) -> None:
        self._say_history_problem()

    def _say_history_problem(self) -> None:
        """Say once that the history file cannot be used (the history goes on in memory)."""
        problem = self.session.history.problem
        if problem and not self._history_problem_said:
            self._history_problem_said = True
            self.notify(problem, title="Console history", severity="warning", markup=False)

    @property
    def input(self) -> ConsoleInput:
        """The input line."""
        return self.query_one(ConsoleInput)

    def watch_running(self, running: bool) -> None:
        self.set_class(running, "running")
        if running:
            self._frame = 0
            self._spin()
            self._spinner = self.set_interval(SPIN_SECONDS, self._spin)
        else:
            if self._spinner is not None:
                self._spinner.stop()
                self._spinner = None
            self.query_one("#prompt", Label).update("lua>")

    def _spin(self) -> None:
        if not self.session.console.busy:
            self.running = False
            return
        self._frame = (self._frame + 1) % len(SPINNER)
        self.query_one("#prompt", Label).update(f"{SPINNER[self._frame]} …")

    @on(Input.Submitted, "#console-input")
    def _run_line(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value
        if not text.strip():
            return
        session = self.session
        if session.console.busy:
            session.inbox.put(Note("… the last line is still running: ctrl+c cancels it"))
            return
        session.history.add(text)
        self._say_history_problem()
        self.input.clear_line()
        session.inbox.put(Echo(text))
        session.console.submit(text)
        self.running = True

    @on(ConsoleInput.Interrupted)
    def _interrupted(self) -> None:
        if not self.interrupt():
            self.input.clear_line()

    @on(ConsoleInput.Choices)
    def _choices(self, event: ConsoleInput.Choices) -> None:
        self.session.inbox.put(Choices(event.choices))

    def interrupt(self) -> bool:
        """Cancel the running line (given up on if it does not stop); False when none runs."""
        console = self.session.console
        if not console.cancel():
            return False
        self.set_timer(STUCK_GRACE, partial(self._give_up_on_line, console.count))
        return True

    def _give_up_on_line(self, number: int) -> None:
        console = self.session.console
        if console.busy and console.count == number:
            console.restart(
                "did not stop: it is inside one long call into Lua's C library, which "
                "cannot be interrupted; the console starts afresh, without its globals"
            )
