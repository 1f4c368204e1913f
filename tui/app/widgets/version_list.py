"""A key's versions as a virtual list, newest first, one row each, in columns."""

from __future__ import annotations

import time
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import var
from textual.strip import Strip

from tui.app.format import escape_controls, format_size
from tui.app.model.key_versions import format_moment, needs_dates
from tui.app.widgets.line_view import LineView
from tui.app.widgets.theme import component_style
from tui.state import Change

SIZE_WIDTH = 10
"""Cells of the size column: `1023.9 KiB`."""


class VersionList(LineView):
    """A key's versions, newest first, one row each; the cursor row is the selected version.

    Draws only the rows on screen, so ten thousand versions cost what a screenful does.
    Columns: version, time, operation, size, and who wrote it (last, as it is the one
    of varying width).
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "version-list--cursor",
        "version-list--muted",
        "version-list--delete",
    }

    DEFAULT_CSS = """
    VersionList { overflow-x: hidden; }
    VersionList > .version-list--cursor {
        color: $block-cursor-blurred-foreground;
        background: $block-cursor-blurred-background;
        text-style: $block-cursor-blurred-text-style;
    }
    VersionList:focus > .version-list--cursor {
        color: $block-cursor-foreground;
        background: $block-cursor-background;
        text-style: $block-cursor-text-style;
    }
    VersionList > .version-list--muted { color: $text-muted; }
    VersionList > .version-list--delete { color: $text-error; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "move(-1)", "Newer", show=False),
        Binding("down,j", "move(1)", "Older", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "jump(0)", "Newest", show=False),
        Binding("end", "jump(-1)", "Oldest", show=False),
    ]

    cursor: var[int] = var(0)
    """The row of the selected version (0: the newest)."""

    class Moved(Message):
        """The cursor is on another row, or the rows changed under it."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.rows: list[Change] = []
        self._dated = False
        self._version_width = 1

    @property
    def line_count(self) -> int:
        return len(self.rows)

    def show(self, rows: list[Change], cursor: int) -> None:
        """Show `rows` (newest first) with the cursor on row `cursor`.

        When the list is scrolled, rows added at the top push the view down with them, so
        that the rows on screen stay where they were.
        """
        shift = cursor - self.cursor
        self.rows = rows
        self._dated = needs_dates(rows, time.time())
        self._version_width = len(str(rows[0].version)) if rows else 1
        self.virtual_size = Size(0, len(rows))  # as wide as the view: no scrolling sideways
        if self.scroll_y > 0 and shift:
            self.scroll_to(y=self.scroll_y + shift, animate=False, immediate=True)
        self.set_reactive(VersionList.cursor, min(max(cursor, 0), max(len(rows) - 1, 0)))
        self.scroll_to_cursor()
        self.refresh()
        self.post_message(self.Moved())

    def header(self) -> str:
        """The columns' names, lined up with the rows."""
        when = "date       time" if self._dated else "time"
        width = len(format_moment(0, dated=self._dated))
        version = "v".rjust(self._version_width)
        return f" {version}  {when.ljust(width)}  {'op':<6}  {'size':>{SIZE_WIDTH}}  writer"

    def cells(self, index: int) -> tuple[str, str, str, str, str]:
        """Row `index` as its columns: version, time, operation, size, writer."""
        change = self.rows[index]
        size = "-" if change.value is None else format_size(len(change.value))
        return (
            f" {change.version:>{self._version_width}}  ",
            f"{format_moment(change.time, dated=self._dated)}  ",
            f"{change.op.value:<6}  ",
            f"{size:>{SIZE_WIDTH}}  ",
            escape_controls(change.writer, one_line=True),
        )

    def row_text(self, index: int) -> str:
        """Row `index` as text."""
        return "".join(self.cells(index))

    def line_segments(self, index: int) -> list[Segment]:
        version, moment, op, size, writer = self.cells(index)
        if index == self.cursor:  # in the cursor's own colours
            return [Segment(version, Style(bold=True)), Segment(moment + op + size + writer)]
        muted = component_style(self, "version-list--muted")
        removed = self.rows[index].op.removes
        return [
            Segment(version, Style(bold=True)),
            Segment(moment, muted),
            Segment(op, component_style(self, "version-list--delete") if removed else None),
            Segment(size, muted),
            Segment(writer),
        ]

    def render_line(self, y: int) -> Strip:
        index = self.scroll_offset.y + y
        width = self.size.width
        style: Style = self.rich_style
        if index >= len(self.rows):
            return Strip.blank(width, style)
        if index == self.cursor:
            style += self.get_component_rich_style("version-list--cursor")
        return Strip(self.line_segments(index)).apply_style(style).crop_extend(0, width, style)

    def watch_cursor(self, old: int, new: int) -> None:
        self.scroll_to_cursor()
        self.refresh()
        self.post_message(self.Moved())

    def validate_cursor(self, cursor: int) -> int:
        return min(max(cursor, 0), max(len(self.rows) - 1, 0))

    def scroll_to_cursor(self) -> None:
        """Scroll the cursor's row into view."""
        height = self.scrollable_content_region.height
        if height <= 0:
            return  # not laid out yet, or hidden: done on its next resize
        top = self.scroll_offset.y
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)

    def on_resize(self) -> None:
        self.scroll_to_cursor()

    def action_move(self, rows: int) -> None:
        """Move the cursor `rows` rows down (up when negative)."""
        self.cursor += rows

    def action_page(self, pages: int) -> None:
        """Move the cursor a screenful down (up when negative)."""
        self.cursor += pages * max(self.scrollable_content_region.height - 1, 1)

    def action_jump(self, row: int) -> None:
        """Put the cursor on row `row` (-1: the last)."""
        self.cursor = row if row >= 0 else len(self.rows) - 1

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is not None and self.scroll_offset.y + offset.y < len(self.rows):
            self.cursor = self.scroll_offset.y + offset.y
