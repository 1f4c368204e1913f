"""The console's input line: Lua typed here runs against the store."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Input

from tui.app.model.completion import complete
from tui.app.model.console_history import History


class ConsoleInput(Input):
    """One line of Lua: up and down walk the history, tab completes, ctrl+c interrupts
    (or copies, when text is selected).

    Completion covers the `State.` functions and, inside a string, key names (a folder
    level at a time). Enter posts Input.Submitted as usual; the app runs the line.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "history_back", "Older line", show=False),
        Binding("down", "history_forward", "Newer line", show=False),
        Binding("tab", "complete", "Complete"),
        Binding("ctrl+c", "interrupt", "Cancel"),
        Binding("escape", "screen.leave", "Back to the keys"),
    ]

    class Interrupted(Message):
        """ctrl+c: cancel the running line (the input is cleared when none runs)."""

    class Choices(Message):
        """Tab found several completions: what could follow."""

        def __init__(self, choices: Sequence[str]) -> None:
            super().__init__()
            self.choices = choices

    def __init__(
        self,
        history: History,
        *,
        functions: Sequence[str],
        keys: Callable[[str], Iterable[str]],
        delimiter: str,
        id: str | None = None,
    ) -> None:
        super().__init__(
            placeholder='Lua, e.g. State.get("key") · ↑↓ history · tab completes',
            id=id,
            select_on_focus=False,  # a half-typed line waits, whole, for your return
        )
        self.history = history
        self._functions = functions
        self._keys = keys
        self._delimiter = delimiter

    def action_history_back(self) -> None:
        """Show the line typed before this one."""
        line = self.history.previous(self.value)
        if line is not None:
            self._show(line)

    def action_history_forward(self) -> None:
        """Show the line typed after this one (at the end, what was being typed)."""
        line = self.history.next()
        if line is not None:
            self._show(line)

    def _show(self, line: str) -> None:
        self.value = line
        self.cursor_position = len(line)

    def action_complete(self) -> None:
        """Complete the name or key at the cursor; list the choices when there are several."""
        if not self.value:
            self.screen.focus_next()
            return
        found = complete(
            self.value,
            self.cursor_position,
            functions=self._functions,
            keys=self._keys,
            delimiter=self._delimiter,
        )
        if found is None:
            return
        if found.text != self.value:
            self.value = found.text
        self.cursor_position = found.cursor
        if found.choices:
            self.post_message(self.Choices(found.choices))

    def action_interrupt(self) -> None:
        """Copy the selected text, if any; otherwise ask the app to cancel the running line."""
        if self.selected_text:
            self.action_copy()
            return
        self.post_message(self.Interrupted())

    def clear_line(self) -> None:
        """Empty the line and leave the history walk."""
        self.value = ""
        self.history.reset()
