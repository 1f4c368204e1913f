"""The change log's list: one line a change, in columns, following the newest line.

It draws the lines of a ChangeWindow (`tui/app/model/change_window.py`), only those on
screen, each cut to its column's width: time, operation, key, source, file:line, size.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar

from rich.cells import cell_len, get_character_cell_size, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.message import Message
from textual.strip import Strip

from tui.app.format import count_of, escape_controls, format_size
from tui.app.model.change_window import (
    ChangeRow,
    ChangeWindow,
    Gap,
    Line,
    Row,
    key_of,
    origin_of,
    source_of,
)
from tui.app.widgets.line_view import LineView
from tui.app.widgets.theme import component_style

TIME_WIDTH = 12  # HH:MM:SS.mmm
OP_WIDTH = 6  # "delete", "expire"
SIZE_WIDTH = 10  # "1023.9 KiB"
SPACE = "  "
"""Between two columns."""

LONGEST_SOURCE = 24
"""Cells of the source column at most; a longer source is cut."""

LONGEST_ORIGIN = 32
"""Cells of the file:line column at most; a longer one is cut at its start."""

SHORTEST_KEY = 12
SHORTEST_SOURCE = 12
SHORTEST_ORIGIN = 18
"""The narrowest the key, source and file:line columns get in a narrow list: past
them, the line scrolls sideways."""

_FIXED_WIDTH = TIME_WIDTH + OP_WIDTH + SIZE_WIDTH + 5 * len(SPACE)


def clock_time(when: float) -> str:
    """A change's time of day, local: `14:03:27.512`."""
    return datetime.fromtimestamp(when).strftime("%H:%M:%S.%f")[:-3]


def fit(text: str, width: int, *, keep_end: bool = False) -> str:
    """`text` made exactly `width` cells wide: padded, or cut with `…` (at its end, or at
    its start with `keep_end`)."""
    if width <= 0:
        return ""
    if text.isascii():
        if len(text) <= width:
            return text.ljust(width)
        if keep_end:
            return "…" + text[len(text) - width + 1 :]
        return text[: width - 1] + "…"
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    if not keep_end:
        return set_cell_size(text, width - 1) + "…"
    cells, start = 0, len(text)
    while start and cells + get_character_cell_size(text[start - 1]) <= width - 1:
        start -= 1
        cells += get_character_cell_size(text[start])
    return set_cell_size("…" + text[start:], width)


class ChangeList(LineView):
    """The lines of a ChangeWindow with a cursor; it follows the newest line unless
    scrolled up or moved off it (`end` follows again).

    Posts `ChangeList.Chosen` on enter (or a double click) on a change.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "choose", "Go to key"),
        Binding("up", "cursor_up", "Up", show=False),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "last", "Follow"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "change-list--time",
        "change-list--set",
        "change-list--delete",
        "change-list--expire",
        "change-list--evict",
        "change-list--source",
        "change-list--origin",
        "change-list--size",
        "change-list--gap",
        "change-list--cursor",
        "change-list--cursor-blurred",
    }

    DEFAULT_CSS = """
    ChangeList > .change-list--time { color: $text-muted; }
    ChangeList > .change-list--set { color: $text-success; }
    ChangeList > .change-list--delete { color: $text-error; }
    ChangeList > .change-list--expire { color: $text-warning; }
    ChangeList > .change-list--evict { color: $text-warning; }
    ChangeList > .change-list--origin { color: $text-muted; }
    ChangeList > .change-list--size { color: $text-muted; }
    ChangeList > .change-list--gap { color: $text-warning; text-style: italic; }
    ChangeList > .change-list--cursor {
        color: $block-cursor-foreground;
        background: $block-cursor-background;
        text-style: $block-cursor-text-style;
    }
    ChangeList > .change-list--cursor-blurred {
        color: $block-cursor-blurred-foreground;
        background: $block-cursor-blurred-background;
        text-style: $block-cursor-blurred-text-style;
    }
    """

    class Chosen(Message):
        """Enter on a change: go and look at it."""

        def __init__(self, change: ChangeRow) -> None:
            super().__init__()
            self.change = change

    def __init__(self, window: ChangeWindow, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.window = window
        self.following = True
        """Whether the cursor and the view stay on the newest line as lines come."""
        self._cursor = 0  # the position of the line under the cursor, when not following
        self._longest = (0, 0, 1)  # of the keys, sources and file:lines seen
        self._widths = (SHORTEST_KEY, 1, 1)  # of the key, source and file:line columns
        # Each line's pieces by position, and the strips drawn of them (by position, scroll
        # and width): a frame of lines already drawn costs a lookup each.
        self._drawn: LRUCache[int, list[Segment]] = LRUCache(512)
        self._strips: LRUCache[tuple[int, int, int], Strip] = LRUCache(512)
        self._styles: dict[str, Style] = {}
        self._scrolling = False  # the list scrolls itself: not the reader scrolling up

    # -- what it shows --------------------------------------------------------------

    @property
    def line_count(self) -> int:
        return self.window.shown

    @property
    def cursor_line(self) -> int:
        """The index of the line under the cursor (-1 when there are none)."""
        shown = self.window.shown
        if self.following or not shown:
            return shown - 1
        return min(self.window.index_of(self._cursor), shown - 1)

    @property
    def cursor_change(self) -> ChangeRow | None:
        """The change under the cursor (None on a gap, or with no lines)."""
        index = self.cursor_line
        if index < 0:
            return None
        line = self.window.line(self.window.position(index))
        return None if isinstance(line, Gap) else ChangeRow(*line)

    def line_text(self, index: int) -> str:
        """Line `index` as plain text, as it is drawn."""
        return "".join(segment.text for segment in self.line_segments(index)).rstrip()

    def added(self, rows: Sequence[Row], shown: int, dropped: int) -> None:
        """Lines were added to the window (`rows` are its changes): `shown` of them
        show, and `dropped` shown lines went from the front."""
        if rows:
            self._measure(rows)
        if not self.following and dropped:
            # The lines moved up under the view: the view moves with them.
            if self._cursor < self.window.first:
                self._cursor = self.window.position(0) if self.window.shown else 0
            self._scroll(y=max(0.0, self.scroll_y - dropped))
        if shown or dropped:
            self._resize()

    def refiltered(self) -> None:
        """The window's filter changed: show its lines, the cursor on the same change or
        the next one shown."""
        if not self.following and self.window.shown:
            index = min(self.window.index_of(self._cursor), self.window.shown - 1)
            self._cursor = self.window.position(index)
        self._resize()
        self.call_after_refresh(self._show_cursor)

    # -- keys -----------------------------------------------------------------------

    def action_cursor_up(self) -> None:
        """Move the cursor a line up."""
        self.move_cursor(self.cursor_line - 1)

    def action_cursor_down(self) -> None:
        """Move the cursor a line down (onto the newest, it follows)."""
        self.move_cursor(self.cursor_line + 1)

    def action_page_up(self) -> None:
        """Move the cursor a screenful up."""
        self.move_cursor(self.cursor_line - max(1, self.scrollable_content_region.height - 1))

    def action_page_down(self) -> None:
        """Move the cursor a screenful down."""
        self.move_cursor(self.cursor_line + max(1, self.scrollable_content_region.height - 1))

    def action_first(self) -> None:
        """Move the cursor to the oldest line."""
        self.move_cursor(0)

    def action_last(self) -> None:
        """Move the cursor to the newest line, and follow the new ones."""
        self.move_cursor(self.window.shown - 1)

    def action_choose(self) -> None:
        """Post `Chosen` for the change under the cursor."""
        change = self.cursor_change
        if change is not None:
            self.post_message(self.Chosen(change))

    def move_cursor(self, index: int) -> None:
        """Put the cursor on line `index` (clamped); on the newest line, it follows."""
        shown = self.window.shown
        if not shown:
            return
        index = max(0, min(index, shown - 1))
        self.following = index == shown - 1
        self._cursor = self.window.position(index)
        self._show_cursor()
        self.refresh()

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        self.move_cursor(int(self.scroll_y) + offset.y)
        if event.chain >= 2:
            self.action_choose()

    # -- scrolling --------------------------------------------------------------------

    def _scroll(self, *, y: float) -> None:
        self._scrolling = True
        try:
            self.scroll_to(y=y, animate=False, immediate=True)
        finally:
            self._scrolling = False

    def _show_cursor(self) -> None:
        """Scroll so that the cursor's line is in view (to the end when following)."""
        if self.following:
            self._scroll(y=self.max_scroll_y)
            return
        line, height = self.cursor_line, self.scrollable_content_region.height
        if line < self.scroll_y:
            self._scroll(y=line)
        elif height and line >= self.scroll_y + height:
            self._scroll(y=line - height + 1)

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if self._scrolling:
            return
        # The reader scrolled (the wheel, the scroll bar): up, the list stops following;
        # back down to the end, it follows again. (A shorter list that clamps the scroll
        # leaves it at the end, moving up: that changes nothing.)
        if new < old and new < self.max_scroll_y:
            if self.following and self.window.shown:
                self._cursor = self.window.position(self.window.shown - 1)
            self.following = False
        elif new > old and new >= self.max_scroll_y and not self.following:
            self.following = True
            self.refresh()

    def on_resize(self) -> None:
        self._layout()
        self.call_after_refresh(self._show_cursor)

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def _resize(self) -> None:
        self.update_size(self._line_width())
        if self.following:
            # At once, so that the frame drawn next is at the end; and again once laid
            # out, for the list that just became taller than the screen.
            self._show_cursor()
            self.call_after_refresh(self._show_cursor)
        self.refresh()

    # -- drawing ----------------------------------------------------------------------

    def _measure(self, rows: Sequence[Row]) -> None:
        """Widen the columns for longer keys, sources or file:lines."""
        key, source, origin = self._longest
        longest = (
            max(key, max(map(len, map(key_of, rows)))),
            max(source, max(map(len, map(source_of, rows)))),
            max(origin, max(map(len, map(origin_of, rows)))),
        )
        if longest != self._longest:
            self._longest = longest
            self._layout()

    def _layout(self) -> None:
        """Decide the columns' widths from the longest texts seen and the list's width.

        Each column is as wide as its longest text (source and file:line up to a limit).
        When the line is too wide for the list, the file:line column gives way first,
        then the source's, then the key's, each down to a floor; past that the line
        scrolls sideways.
        """
        key, source, origin = self._longest
        source = max(1, min(source, LONGEST_SOURCE))
        origin = max(1, min(origin, LONGEST_ORIGIN))
        room = self.size.width - self.styles.scrollbar_size_vertical - _FIXED_WIDTH
        over = key + source + origin - room
        if over > 0:
            cut = min(over, origin - min(origin, SHORTEST_ORIGIN))
            origin, over = origin - cut, over - cut
        if over > 0:
            cut = min(over, source - min(source, SHORTEST_SOURCE))
            source, over = source - cut, over - cut
        if over > 0:
            key -= min(over, key - min(key, SHORTEST_KEY))
        widths = (max(1, key), source, origin)
        if widths != self._widths:
            self._widths = widths
            self._forget_drawn()
            self.reset_size()
            self.update_size(self._line_width())
            self.refresh()

    def _line_width(self) -> int:
        return _FIXED_WIDTH + sum(self._widths)

    def line_segments(self, index: int) -> list[Segment]:
        position = self.window.position(index)
        drawn = self._drawn.get(position)
        if drawn is None:
            drawn = self._drawn[position] = self._segments(self.window.line(position))
        return drawn

    def _segments(self, line: Line) -> list[Segment]:
        """A line's pieces in their colours, each exactly as wide as its column."""
        if isinstance(line, Gap):
            text = f"⋯ {count_of(line.missed, 'change')} not shown here: the app fell behind"
            return [Segment(text, self._style("gap"))]
        op, key, _, source, when, size, origin = line
        key_width, source_width, origin_width = self._widths
        key = fit(escape_controls(key, one_line=True), key_width)
        source = fit(escape_controls(source, one_line=True), source_width)
        origin = fit(escape_controls(origin, one_line=True) or "-", origin_width, keep_end=True)
        size_text = ("-" if size is None else format_size(size)).rjust(SIZE_WIDTH)
        return [
            Segment(clock_time(when) + SPACE, self._style("time")),
            Segment(f"{op:<{OP_WIDTH}}{SPACE}", self._style(op)),
            Segment(key + SPACE, self._style("")),
            Segment(source + SPACE, self._style("source")),
            Segment(origin + SPACE, self._style("origin")),
            Segment(size_text[-SIZE_WIDTH:], self._style("size")),
        ]

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.size.width
        if index >= self.line_count:
            return Strip.blank(width, self._style(""))
        if index == self.cursor_line:
            # The cursor's colours over the whole line, the columns' own ones left out.
            style = self._style("cursor" if self.has_focus else "cursor-blurred")
            segments = [Segment(segment.text, style) for segment in self.line_segments(index)]
            return self._strip(segments, scroll_x, width, style)
        drawn = (self.window.position(index), scroll_x, width)
        strip = self._strips.get(drawn)
        if strip is None:
            segments = self.line_segments(index)
            strip = self._strips[drawn] = self._strip(segments, scroll_x, width, self._style(""))
        return strip

    def _strip(self, segments: list[Segment], scroll_x: int, width: int, style: Style) -> Strip:
        """A line's pieces as the part of it in view, padded with `style`.

        The pieces' widths are known (the columns'), so that none is measured again.
        """
        length = self._line_width() if len(segments) > 1 else cell_len(segments[0].text)
        if scroll_x == 0 and length <= width:
            return Strip([*segments, Segment(" " * (width - length), style)], width)
        return Strip(segments, length).crop_extend(scroll_x, scroll_x + width, style)

    def _style(self, name: str) -> Style:
        """The list's colours ("") with those of a column, or of the cursor, over them."""
        style = self._styles.get(name)
        if style is None:
            style = self.rich_style  # it walks every parent: kept, not asked per line
            if name.startswith("cursor"):
                style += self.get_component_rich_style(f"change-list--{name}")
            elif name:
                style += component_style(self, f"change-list--{name}")
            self._styles[name] = style
        return style

    def _forget_drawn(self) -> None:
        self._drawn.clear()
        self._strips.clear()
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()  # the theme or the focus changed: the lines are drawn afresh
        self._forget_drawn()
