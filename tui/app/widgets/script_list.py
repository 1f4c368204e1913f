"""The watched scripts: status, how many runs, the last run's duration."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.binding import BindingType
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from tui.app.format import escape_controls, format_duration, format_eta
from tui.app.widgets.theme import component_style
from tui.lua.supervisor import Script, ScriptStatus

STATUS_MARK = {
    ScriptStatus.WAITING: "·",
    ScriptStatus.RUNNING: "▶",
    ScriptStatus.OK: "✓",
    ScriptStatus.ERROR: "✗",
    ScriptStatus.CANCELLED: "■",
    ScriptStatus.MISSING: "?",
    ScriptStatus.STUCK: "⧖",
}


_WAITING = Style(bold=False, italic=True)
"""A running script's status while it waits: the running colour, not bold."""


def waits(script: Script) -> tuple[str, float] | None:
    """What a running script waits for in `State.wait`, and since when (monotonic)."""
    return script.waiting if script.status is ScriptStatus.RUNNING else None


def script_line(
    script: Script, look: Style, tag: Style | None = None, *, now: float | None = None
) -> Text:
    """One script's line: status mark, name, status, runs and last duration.

    A run inside `State.wait` says what it waits for, and how long it has waited at
    `now` (monotonic), in place of `running`.
    """
    runs = f"{script.runs} run" + ("" if script.runs == 1 else "s")
    waiting = waits(script)
    if waiting is None:
        status: tuple[str, Style | str] = (script.status.value, look)
        waited = ""
    else:
        pattern, since = waiting
        status = (f"waiting for {escape_controls(pattern, one_line=True)}", look + _WAITING)
        waited = "  " + format_eta(max((time.monotonic() if now is None else now) - since, 0))
    return Text.assemble(
        (STATUS_MARK[script.status], look),
        " ",
        (escape_controls(script.label, one_line=True), tag or ""),
        "  ",
        status,
        (waited, "dim"),
        ("  " + runs if script.runs else "", "dim"),
        ("  " + format_duration(script.last_duration), "dim"),
    )


class ScriptList(OptionList):
    """The scripts pane. The highlighted script is the one `r` and `s` act on.

    Each status has the theme's colour (`script-list--ok` …).
    """

    BINDINGS: ClassVar[list[BindingType]] = [("escape", "clear_highlight", "All scripts")]

    COMPONENT_CLASSES: ClassVar[set[str]] = {f"script-list--{status}" for status in ScriptStatus}

    DEFAULT_CSS = """
    ScriptList > .script-list--waiting { color: $text-muted; }
    ScriptList > .script-list--running { color: $text-primary; text-style: bold; }
    ScriptList > .script-list--ok { color: $text-success; text-style: bold; }
    ScriptList > .script-list--error { color: $text-error; text-style: bold; }
    ScriptList > .script-list--cancelled { color: $text-warning; text-style: bold; }
    ScriptList > .script-list--missing { color: $text-accent; text-style: bold; }
    ScriptList > .script-list--stuck { color: $text-error; text-style: bold italic; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: tuple[Sequence[Script], Callable[[str], Style]] | None = None
        self.counting = False
        """Whether a script shown waits in `State.wait`: its line counts the wait up, if
        drawn again now and then."""

    def show(self, scripts: Sequence[Script], tag: Callable[[str], Style]) -> None:
        """Show the scripts as they stand now, keeping the highlight; `tag` colours names."""
        self._shown = (scripts, tag)
        highlighted = self.highlighted
        now = time.monotonic()
        lines = [
            script_line(
                script,
                component_style(self, f"script-list--{script.status}"),
                tag(script.label),
                now=now,
            )
            for script in scripts
        ]
        self.counting = any(waits(script) is not None for script in scripts)
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

    def notify_style_update(self) -> None:
        super().notify_style_update()
        if self._shown is not None:
            # The theme changed: the statuses are coloured afresh, once the new styles
            # have reached the component classes.
            self.call_after_refresh(self.show, *self._shown)

    def action_clear_highlight(self) -> None:
        """Act on every script again."""
        self.highlighted = None
