"""One line of text asked for, checked before it is taken."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Input, Static

from tui.app.screens.dialog import Dialog


class Prompt(Dialog[str | None]):
    """Asks for a line of text; dismissed with it (enter), or None (escape).

    `check` says what is wrong with the text (None when it is fine); the problem is
    shown and the prompt stays open.
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", show=False)]

    def __init__(
        self,
        title: str,
        message: str,
        *,
        value: str = "",
        placeholder: str = "",
        check: Callable[[str], str | None] = lambda text: None,
    ) -> None:
        super().__init__(title)
        self._message = message
        self._value = value
        self._placeholder = placeholder
        self._check = check

    def compose(self) -> ComposeResult:
        with self.box():
            yield Static(Text(self._message), classes="message")
            yield Input(self._value, placeholder=self._placeholder, select_on_focus=False)
            yield Static("", classes="problem")
            yield Static("enter: OK · escape: cancel", classes="help")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        problem = self._check(event.value)
        if problem is not None:
            self.show_problem(problem)
            return
        self.dismiss(event.value)

    def on_input_changed(self) -> None:
        self.show_problem("")

    def action_cancel(self) -> None:
        """Close without an answer."""
        self.dismiss(None)
