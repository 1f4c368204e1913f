"""A scrollable view of many lines that renders only the ones on screen."""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip


class LineView(ScrollView, can_focus=True):
    """Base of the JSON and output views: subclasses say how many lines and draw one.

    Only visible lines are drawn, so a million lines cost what a screenful costs.
    """

    DEFAULT_CSS = """
    LineView {
        background: $surface;
        scrollbar-size: 1 1;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._width = 0

    @property
    def line_count(self) -> int:
        """How many lines there are."""
        raise NotImplementedError

    def line_segments(self, index: int) -> list[Segment]:
        """The styled pieces of line `index`."""
        raise NotImplementedError

    def update_size(self, widest: int) -> None:
        """Tell the scroll bars how big the content is now."""
        self._width = max(self._width, widest)
        self.virtual_size = Size(self._width, self.line_count)

    def reset_size(self) -> None:
        """Forget the widest line seen (after the content was replaced)."""
        self._width = 0

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.size.width
        style: Style = self.rich_style
        if index >= self.line_count:
            return Strip.blank(width, style)
        strip = Strip(self.line_segments(index)).apply_style(style)
        return strip.crop_extend(scroll_x, scroll_x + width, style)
