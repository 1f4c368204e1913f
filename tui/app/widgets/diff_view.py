"""A structural diff of two JSON values, one line a path, coloured by what happened there."""

from __future__ import annotations

from typing import ClassVar, Final

from rich.segment import Segment
from rich.style import Style

from tui.app.format import escape_controls
from tui.app.model.json_diff import MORE_PATH, DiffKind, DiffLine
from tui.app.widgets.line_view import LineView
from tui.app.widgets.theme import component_style
from tui.app.widgets.value_view import kind_of

_SIGNS: Final = {
    DiffKind.ADDED: ("+", "added"),
    DiffKind.REMOVED: ("-", "removed"),
    DiffKind.CHANGED: ("~", "changed"),
    DiffKind.TYPE: ("~", "changed"),
}


def diff_pieces(line: DiffLine) -> list[tuple[str, str]]:
    """A diff line as (text, colour) pieces: `+ $.path  new`, `- $.path  old`,
    `~ $.path  old → new`, with the JSON types after the values for a change of type.
    Colours name the `diff-view--` component classes ("" for the text's own)."""
    if line.path == MORE_PATH:
        return [(f"  … {line.new}", "muted")]
    sign, colour = _SIGNS[line.kind]
    path = escape_controls(line.path, one_line=True)
    old = escape_controls(line.old, one_line=True)
    new = escape_controls(line.new, one_line=True)
    head = [(f"{sign} ", colour), (path, colour), ("  ", "")]
    if line.kind is DiffKind.ADDED:
        return [*head, (new, colour)]
    if line.kind is DiffKind.REMOVED:
        return [*head, (old, colour)]
    if line.kind is DiffKind.TYPE:
        return [
            *head,
            (old, colour),
            (f" ({kind_of(line.old.encode())})", "muted"),
            (" → ", "muted"),
            (new, colour),
            (f" ({kind_of(line.new.encode())})", "muted"),
        ]
    return [*head, (old, colour), (" → ", "muted"), (new, colour)]


class DiffView(LineView):
    """The lines of a structural diff, coloured by what happened at each path."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "diff-view--added",
        "diff-view--removed",
        "diff-view--changed",
        "diff-view--muted",
    }

    DEFAULT_CSS = """
    DiffView > .diff-view--added { color: $text-success; }
    DiffView > .diff-view--removed { color: $text-error; }
    DiffView > .diff-view--changed { color: $text-warning; }
    DiffView > .diff-view--muted { color: $text-muted; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._lines: list[list[tuple[str, str]]] = []

    @property
    def line_count(self) -> int:
        return len(self._lines)

    def show(self, lines: list[DiffLine], *, empty: str = "") -> None:
        """Show the lines of a diff, or `empty` (dimmed) when there are none."""
        self._lines = [diff_pieces(line) for line in lines]
        if not lines and empty:
            self._lines = [[(empty, "muted")]]
        self.reset_size()
        widest = max((sum(len(text) for text, _ in line) for line in self._lines), default=0)
        self.update_size(widest)
        self.scroll_to(0, 0, animate=False)
        self.refresh()

    def line_text(self, index: int) -> str:
        """Line `index` as text."""
        return "".join(text for text, _ in self._lines[index])

    def line_segments(self, index: int) -> list[Segment]:
        segments = []
        for place, (text, colour) in enumerate(self._lines[index]):
            style = component_style(self, f"diff-view--{colour}") if colour else None
            if place < 2 and colour != "muted":  # the sign and the path
                style = (style or Style()) + Style(bold=True)
            segments.append(Segment(text, style))
        return segments
