"""The progress panel: a bar for each progress key, with its rate and ETA."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.reactive import var

from tui.app.format import format_count, format_eta, format_percent, format_rate
from tui.app.model.progress_tracker import ProgressRow, ProgressState
from tui.app.widgets.line_view import LineView
from tui.app.widgets.theme import component_style

BAR_WIDTH = 20
"""Cells of a bar."""

MIN_BAR_WIDTH = 6
"""The narrowest a bar gets in a narrow pane."""

# What follows a bar on a busy line: ` 100.0%  1,000/1,000  99.9/s  ETA 10 min`.
_NUMBERS_WIDTH = 40

LONGEST_NAME = 32
"""Cells of a name before it is cut."""

_BLOCKS = " ▏▎▍▌▋▊▉█"  # eighths of a cell

_ENDED = (ProgressState.DONE, ProgressState.FAILED, ProgressState.STOPPED)
"""The states whose row ends in a word rather than a rate and an ETA."""


def bar(percent: float, width: int = BAR_WIDTH) -> str:
    """A bar `width` cells wide, filled to `percent`, in eighths of a cell."""
    eighths = round(max(0.0, min(percent, 100.0)) / 100 * width * 8)
    full, part = divmod(eighths, 8)
    text = "█" * full + (_BLOCKS[part] if part else "")
    return text.ljust(width, "·")


def panel_title(rows: Sequence[ProgressRow]) -> Text:
    """`Progress · 2 running · 1 failed · 3 done`: running (and stalled) ones always, the
    others when there are any."""
    counts = {state: 0 for state in ProgressState}
    for row in rows:
        counts[row.state] += 1
    running = counts[ProgressState.RUNNING] + counts[ProgressState.STALLED]
    parts = [f"Progress · {running:,} running"]
    for state in (ProgressState.FAILED, ProgressState.STOPPED):
        if counts[state]:
            parts.append(f"{counts[state]:,} {state.value}")
    parts.append(f"{counts[ProgressState.DONE]:,} done")
    return Text(" · ".join(parts))


class ProgressPanel(LineView):
    """The progress keys, running ones first, each as one line: a bar and its numbers.

    Colours come from the theme: a component class for each state.
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "progress-panel--name",
        *(f"progress-panel--{state}" for state in ProgressState),
    }

    DEFAULT_CSS = """
    ProgressPanel > .progress-panel--name { text-style: bold; }
    ProgressPanel > .progress-panel--running { color: $text-primary; }
    ProgressPanel > .progress-panel--stalled { color: $text-warning; }
    ProgressPanel > .progress-panel--done { color: $text-success; }
    ProgressPanel > .progress-panel--failed { color: $text-error; }
    ProgressPanel > .progress-panel--stopped { color: $text-error; }
    ProgressPanel > .progress-panel--other { color: $text-muted; }
    """

    shown: var[bool | None] = var(None)
    """Whether the panel is shown: None shows it once there is progress (g sets it)."""

    full: var[bool] = var(False)
    """Whether the panel fills the screen (G): the screen gets the class `progress-full`."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._lines: dict[int, list[Segment]] = {}
        self._widths = (0, BAR_WIDTH)
        self._widest = 0
        self._styles: dict[str, Style] = {}
        self.rows: Sequence[ProgressRow] = ()

    @property
    def line_count(self) -> int:
        return len(self.rows)

    def line_segments(self, index: int) -> list[Segment]:
        # Drawn when first shown: of a thousand bars, only a screenful is ever drawn.
        line = self._lines.get(index)
        if line is None:
            line = self._lines[index] = self._line(self.rows[index], *self._widths)
        return line

    def toggle(self) -> None:
        """Show the panel, or hide it (from full screen: back to its place, shown)."""
        shown = self.full or not self.display
        self.full = False
        self.shown = shown

    def toggle_full(self) -> None:
        """Fill the screen with the panel, or go back."""
        self.full = not self.full
        if self.full:
            self.shown = True

    def draw(self, rows: Sequence[ProgressRow]) -> None:
        """Show these rows if the panel is shown: once there are any, unless hidden by hand."""
        shown = bool(rows) if self.shown is None else self.shown
        self.display = shown
        self.show(rows if shown else ())
        self.styles.height = "1fr" if self.full else self.wanted_height()

    def watch_full(self, full: bool) -> None:
        self.screen.set_class(full, "progress-full")
        self.draw(self.rows)

    def watch_shown(self) -> None:
        self.draw(self.rows)

    def show(self, rows: Sequence[ProgressRow]) -> None:
        """Draw these rows (from ProgressTracker.rows), bars as wide as the pane allows."""
        self.rows = rows
        self.border_title = panel_title(rows)
        width = min(LONGEST_NAME, max((cell_len(row.name) for row in rows), default=0))
        room = self.size.width - width - _NUMBERS_WIDTH
        bar_width = BAR_WIDTH if self.size.width == 0 else max(MIN_BAR_WIDTH, min(BAR_WIDTH, room))
        self._widths = (width, bar_width)
        self._lines = {}
        # The widest line, near enough: a value of another shape is as wide as its text.
        texts = max((cell_len(row.text) for row in rows), default=0)
        self._widest = width + 2 + max(bar_width + _NUMBERS_WIDTH - 8, texts) if rows else 0
        self.reset_size()
        self.update_size(self._widest)
        self.refresh()

    def wanted_height(self, most: int = 10) -> int:
        """Lines for up to `most` bars, the border and a scroll bar if one is needed."""
        scroll_bar = 1 if self._widest > self.size.width > 0 else 0
        return min(max(self.line_count, 1), most) + 2 + scroll_bar

    def on_resize(self) -> None:
        self.show(self.rows)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()  # the theme changed: the bars are drawn afresh
        self._lines = {}
        self.refresh()

    def _style(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            style = self._styles[name] = component_style(self, f"progress-panel--{name}")
        return style

    def _line(self, row: ProgressRow, width: int, bar_width: int) -> list[Segment]:
        name = row.name if cell_len(row.name) <= width else row.name[: width - 1] + "…"
        pieces = [Segment(f"{name:<{width}}  ", self._style("name"))]
        style, dim = self._style(row.state), self._style(ProgressState.OTHER)
        if row.state is ProgressState.OTHER:
            pieces.append(Segment(row.text, dim))
            return pieces
        percent = row.percent if row.percent is not None and math.isfinite(row.percent) else 0.0
        pieces.append(Segment(bar(percent, bar_width), style))
        pieces.append(Segment(f" {format_percent(percent)}", style))
        if row.current is not None and row.total is not None:
            pieces.append(Segment(f"  {format_count(row.current)}/{format_count(row.total)}"))
        if row.state in _ENDED:
            pieces.append(Segment(f"  {row.state.value}", style))
            return pieces
        if row.rate is not None:
            unit = "%/s" if row.total is None else "/s"
            pieces.append(Segment(f"  {format_rate(row.rate, unit)}", dim))
        if row.state is ProgressState.STALLED:
            pieces.append(Segment("  stalled", style))
        elif row.eta is not None:
            pieces.append(Segment(f"  ETA {format_eta(row.eta)}", dim))
        return pieces
