"""The progress panel: a bar for each progress key, with its rate and ETA."""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style

from tui.app.model.progress_tracker import ProgressRow, ProgressState
from tui.app.widgets.line_view import LineView

BAR_WIDTH = 20
"""Cells of a bar."""

MIN_BAR_WIDTH = 6
"""The narrowest a bar gets in a narrow pane."""

# What follows a bar on a busy line: ` 100.0%  1,000/1,000  99.9/s  ETA 10 min`.
_NUMBERS_WIDTH = 40

LONGEST_NAME = 32
"""Cells of a name before it is cut."""

_BLOCKS = " ▏▎▍▌▋▊▉█"  # eighths of a cell

NAME = Style(bold=True)
DIM = Style(dim=True)
STYLES = {
    ProgressState.RUNNING: Style(color="#5fafff"),
    ProgressState.STALLED: Style(color="#d7af00"),
    ProgressState.DONE: Style(color="#5faf5f"),
    ProgressState.OTHER: DIM,
}


def bar(percent: float, width: int = BAR_WIDTH) -> str:
    """A bar `width` cells wide, filled to `percent`, in eighths of a cell."""
    eighths = round(max(0.0, min(percent, 100.0)) / 100 * width * 8)
    full, part = divmod(eighths, 8)
    text = "█" * full + (_BLOCKS[part] if part else "")
    return text.ljust(width, "·")


def format_count(number: float) -> str:
    """12 → `12`, 1234567 → `1,234,567`, 2.5 → `2.5`, 1e20 → `1e+20`."""
    if not math.isfinite(number):
        return "∞" if number > 0 else "-∞"
    if abs(number) >= 1e15 or (number and abs(number) < 0.05):
        return f"{number:.3g}"
    return f"{number:,.0f}" if number == int(number) else f"{number:,.1f}"


def format_eta(seconds: float) -> str:
    """Seconds left, as a person says them: `8 s`, `3 min 5 s`, `2 h 10 min`."""
    if not math.isfinite(seconds) or seconds >= 100 * 3600:
        return "over 100 h"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


class ProgressPanel(LineView):
    """The progress keys, running ones first, each as one line: a bar and its numbers."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._lines: dict[int, list[Segment]] = {}
        self._widths = (0, BAR_WIDTH)
        self._widest = 0
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

    def show(self, rows: Sequence[ProgressRow]) -> None:
        """Draw these rows (from ProgressTracker.rows), bars as wide as the pane allows."""
        self.rows = rows
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

    def _line(self, row: ProgressRow, width: int, bar_width: int) -> list[Segment]:
        name = row.name if cell_len(row.name) <= width else row.name[: width - 1] + "…"
        pieces = [Segment(f"{name:<{width}}  ", NAME)]
        style = STYLES[row.state]
        if row.state is ProgressState.OTHER:
            pieces.append(Segment(row.text, DIM))
            return pieces
        percent = row.percent if row.percent is not None and math.isfinite(row.percent) else 0.0
        pieces.append(Segment(bar(percent, bar_width), style))
        pieces.append(Segment(f" {percent:5.1f}%", style))
        if row.current is not None and row.total is not None:
            pieces.append(Segment(f"  {format_count(row.current)}/{format_count(row.total)}"))
        if row.state is ProgressState.DONE:
            pieces.append(Segment("  done", style))
            return pieces
        if row.rate is not None:
            unit = "%/s" if row.total is None else "/s"
            pieces.append(Segment(f"  {format_count(row.rate)}{unit}", DIM))
        if row.state is ProgressState.STALLED:
            pieces.append(Segment("  stalled", style))
        elif row.eta is not None:
            pieces.append(Segment(f"  ETA {format_eta(row.eta)}", DIM))
        return pieces
