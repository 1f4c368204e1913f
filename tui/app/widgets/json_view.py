"""Pretty JSON with syntax colours, for values of any size."""

from __future__ import annotations

import re
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.cache import LRUCache

from tui.app.widgets.line_view import LineView
from tui.app.widgets.theme import component_style

# Pretty JSON as orjson writes it keeps every string on one line, so each line can be
# coloured on its own: only the lines on screen are ever looked at.
_TOKEN = re.compile(
    r'(?P<key>"(?:[^"\\]|\\.)*")(?=:)'
    r'|(?P<string>"(?:[^"\\]|\\.)*")'
    r"|(?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)"
    r"|(?P<literal>true|false|null)"
    r"|(?P<punct>[{}\[\],:])"
)

LONGEST_LINE = 4096
"""Bytes of one line that are drawn; a longer one (a huge string) ends in a note."""

TOKENS = ("key", "string", "number", "literal", "punct")
"""The kinds of JSON token, each coloured by a component class (`json-view--key` …)."""


def json_segments(line: str, styles: dict[str, Style]) -> list[Segment]:
    """One line of pretty JSON as coloured pieces, a style for each kind of token."""
    segments: list[Segment] = []
    position = 0
    for match in _TOKEN.finditer(line):
        start = match.start()
        if start > position:
            segments.append(Segment(line[position:start]))
        kind = match.lastgroup
        assert kind is not None
        segments.append(Segment(match.group(), styles[kind]))
        position = match.end()
    if position < len(line):
        segments.append(Segment(line[position:]))
    return segments


class JsonView(LineView):
    """Shows pretty-printed JSON text, coloured line by line as it scrolls into view."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {f"json-view--{token}" for token in TOKENS}

    DEFAULT_CSS = """
    JsonView > .json-view--key { color: $text-primary; text-style: bold; }
    JsonView > .json-view--string { color: $text-success; }
    JsonView > .json-view--number { color: $text-warning; }
    JsonView > .json-view--literal { color: $text-accent; }
    JsonView > .json-view--punct { color: $text-muted; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._lines: list[bytes] = []
        self._drawn: LRUCache[int, list[Segment]] = LRUCache(1024)
        self._styles: dict[str, Style] = {}

    @property
    def line_count(self) -> int:
        return len(self._lines)

    def show(self, pretty: bytes, *, keep_scroll: bool = False) -> None:
        """Show pretty JSON (UTF-8); keep the scroll position when it is the same value."""
        self._lines = pretty.split(b"\n")
        self._drawn.clear()
        self.reset_size()
        # Bytes, not cells: a little wide for non-ASCII text, and quick for a million lines.
        self.update_size(min(LONGEST_LINE + 40, max(map(len, self._lines), default=0)))
        if not keep_scroll:
            self.scroll_to(0, 0, animate=False)
        self.refresh()

    def text(self) -> str:
        """What is shown, as text."""
        return b"\n".join(self._lines).decode("utf-8", "replace")

    def line_segments(self, index: int) -> list[Segment]:
        drawn = self._drawn.get(index)
        if drawn is None:
            line = self._lines[index]
            styles = self._token_styles()
            drawn = json_segments(line[:LONGEST_LINE].decode("utf-8", "replace"), styles)
            if len(line) > LONGEST_LINE:
                rest = len(line) - LONGEST_LINE
                drawn.append(Segment(f" … {rest:,} more bytes on this line", styles["punct"]))
            self._drawn[index] = drawn
        return drawn

    def _token_styles(self) -> dict[str, Style]:
        if not self._styles:
            self._styles = {token: component_style(self, f"json-view--{token}") for token in TOKENS}
        return self._styles

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = {}  # the theme changed: the lines are coloured afresh
        self._drawn.clear()
        self.refresh()
