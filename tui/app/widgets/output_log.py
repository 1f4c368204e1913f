"""Every run's printed lines, errors and start/end marks, tagged by script, bounded."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style

from tui.app.widgets.line_view import LineView

# Control characters would reach the terminal as they are (an escape sequence could
# repaint the screen); they are shown as escapes instead.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

MAX_LINES = 10_000
"""Lines kept; older ones scroll away for good."""

LONGEST_LINE = 4096
"""Characters of one printed line that are kept; the rest is replaced by a note."""

SCRIPT_COLOURS = ("#5fafff", "#87d787", "#d7af5f", "#d787d7", "#5fd7d7", "#ff8787", "#afafff")

ERROR = Style(color="#ff5f5f")
MARK = Style(dim=True)
OK = Style(color="#87d787")
STDERR = Style(color="#d7af5f")


class OutputLog(LineView):
    """The output pane. Follows the newest line unless scrolled up."""

    def __init__(
        self, *, max_lines: int = MAX_LINES, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(id=id, classes=classes)
        self._lines: deque[list[Segment]] = deque(maxlen=max_lines)
        self._tags: dict[str, Style] = {}
        self._tag_width = 0
        self._following = True

    @property
    def max_lines(self) -> int:
        """How many lines are kept."""
        return self._lines.maxlen or 0

    @property
    def line_count(self) -> int:
        return len(self._lines)

    def line_segments(self, index: int) -> list[Segment]:
        return self._lines[index]

    def tag(self, label: str) -> Style:
        """The colour of a script's tag (one per script, in order of first use)."""
        style = self._tags.get(label)
        if style is None:
            colour = SCRIPT_COLOURS[len(self._tags) % len(SCRIPT_COLOURS)]
            style = self._tags[label] = Style(color=colour, bold=True)
            self._tag_width = max(self._tag_width, cell_len(label))
        return style

    def write(self, label: str, texts: Iterable[str], style: Style | None = None) -> None:
        """Add lines from the script `label` (or `""` for stateui's own lines)."""
        tag = self.tag(label) if label else MARK
        prefix = Segment(f"{label:<{self._tag_width}} │ ", tag) if label else None
        widest = 0
        for text in texts:
            if len(text) > LONGEST_LINE:
                text = f"{text[:LONGEST_LINE]} … {len(text) - LONGEST_LINE:,} more characters"
            text = text.expandtabs(4)
            if not text.isprintable():
                text = _CONTROL.sub(lambda match: ascii(match.group())[1:-1], text)
            pieces = [prefix, Segment(text, style)] if prefix else [Segment(text, style)]
            self._lines.append(pieces)
            widest = max(widest, cell_len(text))
        self._changed(widest + self._tag_width + 3)

    def clear(self) -> None:
        """Remove every line."""
        self._lines.clear()
        self.reset_size()
        self._changed(0)

    def text(self) -> str:
        """Everything shown, as plain text."""
        return "\n".join("".join(piece.text for piece in line) for line in self._lines)

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        # Scrolled up, short of the bottom: the reader wants to stay there. Back at the
        # bottom: follow again. (Following itself only ever scrolls down, and a resize
        # that clamps the scroll leaves it at the bottom.)
        if new < old and new < self.max_scroll_y:
            self._following = False
        elif new >= self.max_scroll_y:
            self._following = True

    def on_resize(self) -> None:
        self.call_after_refresh(self._follow)

    def _changed(self, widest: int) -> None:
        self.update_size(widest)
        self.call_after_refresh(self._follow)
        self.refresh()

    def _follow(self) -> None:
        # After the refresh, when the new size is known.
        if self._following:
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True)
