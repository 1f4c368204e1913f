"""The base of every dialog: a titled box in the middle of a dimmed screen."""

from __future__ import annotations

from typing import TypeVar

from rich.text import Text
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Static

T = TypeVar("T")


class Dialog(ModalScreen[T]):
    """A modal question that returns what the person chose.

    Subclasses compose inside `box()`, and may show what is wrong with `show_problem`
    in a `Static` with the class `problem`. Titles and messages are plain text, never
    markup: keys and paths hold brackets.
    """

    def __init__(self, title: str, *, classes: str = "") -> None:
        super().__init__(classes=f"dialog {classes}".strip())
        self.title_text = title

    def box(self) -> Vertical:
        """The dialog's box, titled: compose its content inside it."""
        box = Vertical(classes="box")
        box.border_title = Text(self.title_text)
        return box

    def show_problem(self, message: str, *, focus: Widget | None = None) -> None:
        """Say what is wrong (an empty message clears it), and focus where to fix it."""
        self.query_one(".problem", Static).update(Text(message))
        if focus is not None:
            focus.focus()
