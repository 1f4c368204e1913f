"""A yes-or-no question before something that cannot be undone."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Button, Static

from tui.app.screens.dialog import Dialog


class Confirm(Dialog[bool]):
    """Asks before an action; dismissed with True (`y`, or the action's button) or False.

    The focus starts on the cancel button, so that `enter` does nothing rash.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes", show=False),
        Binding("n,escape", "answer(False)", "No", show=False),
    ]

    def __init__(self, title: str, message: str | Text, *, yes: str, no: str = "Cancel") -> None:
        super().__init__(title)
        self._message = message
        self._yes = yes
        self._no = no

    def compose(self) -> ComposeResult:
        with self.box():
            # Keys and paths hold brackets: the message is plain text, never markup.
            message = self._message
            yield Static(Text(message) if isinstance(message, str) else message, classes="message")
            with Horizontal(classes="buttons"):
                yield Button(f"{self._yes} (y)", variant="error", id="yes")
                yield Button(f"{self._no} (n)", id="no")

    def on_mount(self) -> None:
        # enter cancels: what cannot be undone takes a deliberate `y`.
        self.query_one("#no").focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        """Close with the answer."""
        self.dismiss(yes)
