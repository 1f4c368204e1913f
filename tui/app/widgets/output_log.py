"""Every run's printed lines, errors and start/end marks, tagged by script, bounded, wrapped."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from enum import StrEnum
from typing import ClassVar, NamedTuple

from rich.cells import cell_len, chop_cells
from rich.segment import Segment
from rich.style import Style

from tui.app.format import escape_controls
from tui.app.widgets.line_view import LineView
from tui.app.widgets.theme import component_style

# Control characters would reach the terminal as they are (an escape sequence could
# repaint the screen); they are shown as escapes instead (`escape_controls`).

MAX_LINES = 10_000
"""Lines kept; older ones scroll away for good."""

LONGEST_LINE = 4096
"""Characters of one printed line that are kept; the rest is replaced by a note."""

TAG_COLOURS = 5
"""Scripts' tags take the theme's colours in turn (`output-log--tag-0` …)."""


class Look(StrEnum):
    """What a line is, which decides its colour (a component class of the theme)."""

    PLAIN = "plain"
    ERROR = "error"
    MARK = "mark"
    """stateui's own lines: a run started or ended, a note."""
    OK = "ok"
    STDERR = "stderr"


class _Line(NamedTuple):
    label: str
    text: str
    look: Look


class _Row(NamedTuple):
    line: _Line
    text: str  # the part of the line's text on this row
    first: bool  # the row that starts the line (it shows the tag)


def wrap(text: str, width: int) -> list[str]:
    """Cut text into rows at most `width` cells wide, at a space where one is near the end."""
    if width <= 0 or cell_len(text) <= width:
        return [text]
    rows: list[str] = []
    while cell_len(text) > width:
        piece = text[:width] if text.isascii() else chop_cells(text, width)[0]
        space = piece.rfind(" ")
        if space > len(piece) // 2:
            piece = piece[: space + 1]
        rows.append(piece)
        text = text[len(piece) :]
    if text:
        rows.append(text)
    return rows


class OutputLog(LineView):
    """The output pane. Long lines wrap under their text; it follows the newest line
    unless scrolled up."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        *(f"output-log--{look}" for look in Look),
        *(f"output-log--tag-{n}" for n in range(TAG_COLOURS)),
    }

    DEFAULT_CSS = """
    OutputLog > .output-log--error { color: $text-error; }
    OutputLog > .output-log--mark { color: $text-muted; }
    OutputLog > .output-log--ok { color: $text-success; }
    OutputLog > .output-log--stderr { color: $text-warning; }
    OutputLog > .output-log--tag-0 { color: $text-primary; text-style: bold; }
    OutputLog > .output-log--tag-1 { color: $text-success; text-style: bold; }
    OutputLog > .output-log--tag-2 { color: $text-accent; text-style: bold; }
    OutputLog > .output-log--tag-3 { color: $text-secondary; text-style: bold; }
    OutputLog > .output-log--tag-4 { color: $text-warning; text-style: bold; }
    """

    def __init__(
        self, *, max_lines: int = MAX_LINES, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(id=id, classes=classes)
        self._lines: deque[_Line] = deque(maxlen=max_lines)
        self._rows: deque[_Row] = deque()
        self._row_counts: deque[int] = deque()  # rows of each line, oldest first
        self._wrapped_at = 0  # the text width the rows were wrapped at
        self._tags: dict[str, int] = {}
        self._tag_width = 0
        self._styles: dict[str, Style] = {}
        self._following = True

    @property
    def max_lines(self) -> int:
        """How many lines are kept."""
        return self._lines.maxlen or 0

    @property
    def line_count(self) -> int:
        return len(self._rows)

    def lines(self) -> list[tuple[str, str, Look]]:
        """The lines kept, oldest first: (label, text, look) each."""
        return [tuple(line) for line in self._lines]  # type: ignore[misc]

    def tag(self, label: str) -> str:
        """The component class of a script's tag (one colour per script, in turn)."""
        number = self._tags.get(label)
        if number is None:
            number = self._tags[label] = len(self._tags) % TAG_COLOURS
            self._tag_width = max(self._tag_width, cell_len(label))
            self._rewrap()
        return f"output-log--tag-{number}"

    def tag_style(self, label: str) -> Style:
        """The colour of a script's tag, from the theme."""
        return self._style(self.tag(label))

    def write(self, label: str, texts: Iterable[str], look: Look = Look.PLAIN) -> None:
        """Add lines from the script `label` (or `""` for stateui's own lines)."""
        if label:
            self.tag(label)
        self._rewrap()
        width = self._wrapped_at
        lines, rows, counts = self._lines, self._rows, self._row_counts
        for text in texts:
            if len(text) > LONGEST_LINE:
                text = f"{text[:LONGEST_LINE]} … {len(text) - LONGEST_LINE:,} more characters"
            line = _Line(label, escape_controls(text), look)
            if len(lines) == lines.maxlen:
                for _ in range(counts.popleft()):
                    rows.popleft()
            lines.append(line)
            pieces = wrap(line.text, width)
            counts.append(len(pieces))
            rows.extend(_Row(line, piece, at == 0) for at, piece in enumerate(pieces))
        self._changed()

    def clear(self) -> None:
        """Remove every line."""
        self._lines.clear()
        self._rows.clear()
        self._row_counts.clear()
        self._changed()

    def text(self) -> str:
        """Everything kept, as plain text, a line each (as written, not wrapped)."""
        return "\n".join(self._plain(line) for line in self._lines)

    def _plain(self, line: _Line) -> str:
        prefix = f"{line.label:<{self._tag_width}} │ " if line.label else ""
        return prefix + line.text

    # -- drawing ------------------------------------------------------------------

    def line_segments(self, index: int) -> list[Segment]:
        row = self._rows[index]
        line = row.line
        text = Segment(row.text, self._style(f"output-log--{line.look}"))
        if not line.label:
            return [text]
        if not row.first:
            return [Segment(" " * (self._tag_width + 3)), text]
        tag = self._style(self.tag(line.label))
        return [Segment(f"{line.label:<{self._tag_width}} │ ", tag), text]

    def _style(self, component: str) -> Style:
        style = self._styles.get(component)
        if style is None:
            style = self._styles[component] = component_style(self, component)
        return style

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()  # the theme changed: colours are looked up again
        self.refresh()

    def _text_width(self) -> int:
        """Cells a row of text gets beside the tags (0 before the pane has a size)."""
        # Room for a vertical scroll bar is kept, so that one appearing changes nothing.
        width = self.size.width - self.styles.scrollbar_size_vertical
        if width <= 0:
            return 0
        return max(8, width - (self._tag_width + 3 if self._tags else 0))

    def _rewrap(self) -> None:
        """Wrap every line afresh (the pane's width or the tags' width changed)."""
        width = self._text_width()
        if width == self._wrapped_at:
            return
        self._wrapped_at = width
        self._rows.clear()
        self._row_counts.clear()
        for line in self._lines:
            pieces = wrap(line.text, width)
            self._row_counts.append(len(pieces))
            self._rows.extend(_Row(line, piece, at == 0) for at, piece in enumerate(pieces))
        self._changed()

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
        self._rewrap()
        self.call_after_refresh(self._follow)

    def _changed(self) -> None:
        self.reset_size()
        self.update_size(0)
        self.call_after_refresh(self._follow)
        self.refresh()

    def _follow(self) -> None:
        # After the refresh, when the new size is known.
        if self._following:
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True)
