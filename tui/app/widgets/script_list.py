"""The watched scripts: status, how many runs, the last run's duration."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.binding import BindingType
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from tui.lua.supervisor import Script, ScriptStatus

STATUS_LOOK = {
    ScriptStatus.WAITING: ("·", "dim"),
    ScriptStatus.RUNNING: ("▶", "bold #5fafff"),
    ScriptStatus.OK: ("✓", "bold #87d787"),
    ScriptStatus.ERROR: ("✗", "bold #ff5f5f"),
    ScriptStatus.CANCELLED: ("■", "bold #d7af5f"),
    ScriptStatus.MISSING: ("?", "bold #d787d7"),
}


def format_duration(seconds: float | None) -> str:
    """A run's duration for people: `840 µs`, `12 ms`, `3.4 s`, `2 min 5 s`."""
    if seconds is None:
        return ""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.0f} ms"
    if seconds < 59.95:  # not "60.0 s"
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s"


def script_line(script: Script, tag: Style | None = None) -> Text:
    """One script's line: status mark, name, status, runs and last duration."""
    mark, look = STATUS_LOOK[script.status]
    runs = f"{script.runs} run" + ("" if script.runs == 1 else "s")
    return Text.assemble(
        (mark, look),
        " ",
        (script.label, tag or ""),
        "  ",
        (script.status.value, look),
        ("  " + runs if script.runs else "", "dim"),
        ("  " + format_duration(script.last_duration), "dim"),
    )


class ScriptList(OptionList):
    """The scripts pane. The highlighted script is the one `r` and `s` act on."""

    BINDINGS: ClassVar[list[BindingType]] = [("escape", "clear_highlight", "All scripts")]

    def show(self, scripts: Sequence[Script], tags: dict[str, Style]) -> None:
        """Show the scripts as they stand now, keeping the highlight."""
        highlighted = self.highlighted
        lines = [script_line(script, tags.get(script.label)) for script in scripts]
        if self.option_count != len(lines):
            self.clear_options()
            self.add_options(
                Option(line, id=s.label) for line, s in zip(lines, scripts, strict=True)
            )
            self.highlighted = highlighted
            return
        for index, line in enumerate(lines):
            self.replace_option_prompt_at_index(index, line)

    @property
    def selected_label(self) -> str | None:
        """The highlighted script's label, or None (meaning every script)."""
        if self.highlighted is None:
            return None
        return self.get_option_at_index(self.highlighted).id

    def action_clear_highlight(self) -> None:
        """Act on every script again."""
        self.highlighted = None
