"""The selected key's value as pretty JSON, with what it is and who last changed it."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.timer import Timer
from textual.widgets import Sparkline, Static

from tui.app.format import (
    SHOWN_BYTES,
    escape_controls,
    format_number,
    format_size,
    format_time_left,
    pretty,
)
from tui.app.model.value_history import ValueHistory
from tui.app.widgets.json_view import JsonView
from tui.state import Change, Entry, Op

TITLE_LINES = 2
"""Lines the key (or folder) takes at most in the header: the metadata line stays in view."""

COUNTDOWN_SECONDS = 0.25
"""How often the time left of a key with a TTL is drawn afresh, while one is shown."""

_KINDS = {ord("{"): "object", ord("["): "array", ord('"'): "string", ord("t"): "boolean"}
_KINDS |= {ord("f"): "boolean", ord("n"): "null"}


def kind_of(data: bytes) -> str:
    """The JSON type of an encoded value, from its first byte."""
    return _KINDS.get(data[0], "number") if data else "empty"


def fit_lines(text: str, width: int, lines: int = TITLE_LINES) -> str:
    """`text`, cut to what `lines` wrapped lines `width` cells wide hold, ending in `…` if cut."""
    if width <= 0 or len(Content(text).wrap(width)) <= lines:
        return text
    keep = sum(len(line.plain) for line in Content(text).wrap(width)[:lines])
    while keep > 1 and len(Content(text[: keep - 1] + "…").wrap(width)) > lines:
        keep -= 1  # a break at a space took a cell or two
    return text[: max(keep - 1, 0)] + "…"


def time_left(entry: Entry, now: float) -> Text | None:
    """How long a key with a TTL has left at `now` (None for a key without one)."""
    if not entry.expires:
        return None
    return Text(f"expires in {format_time_left(entry.expires - now)}", style="bold")


def after_line(text: Text, more: Text, width: int) -> Text:
    """`more` after `text`, on its last line when it fits there whole, else on a line of
    its own: a time left is never split in two."""
    lines = Content(text.plain).wrap(width) if width > 0 else []
    if lines and lines[-1].cell_length + 3 + more.cell_len > width:
        return Text.assemble(text, "\n", more)
    return Text.assemble(text, " · ", more)


def describe(entry: Entry) -> Text:
    """The metadata line: type, size, version, when, by whom and where (file:line)."""
    when = time.strftime("%H:%M:%S", time.localtime(entry.time))
    where = (" at ", (escape_controls(entry.origin, one_line=True), "bold")) if entry.origin else ""
    return Text.assemble(
        (kind_of(entry.value), "bold"),
        " · ",
        format_size(len(entry.value)),
        " · ",
        ("v", "dim"),
        str(entry.version),
        " · ",
        when,
        " by ",
        (escape_controls(entry.source, one_line=True), "bold"),
        *where,
    )


def gone_line(removal: Change | None, *, expired: bool = False) -> str:
    """What the value pane says of a key that is not in the store: how it went (the
    `removal` that removed it, or its TTL seen to run out: `expired`), if known."""
    op = removal.op if removal is not None else (Op.EXPIRE if expired else None)
    if op is Op.EXPIRE:
        return "This key expired: its TTL ran out."
    if op is Op.EVICT:
        return "This key was evicted to make room under the store's limits."
    if removal is not None:
        return f"This key was deleted by {escape_controls(removal.source, one_line=True)}."
    return "This key was not in the store."


class ValueView(Vertical):
    """The value pane: a header with the key and its metadata, then the value."""

    DEFAULT_CSS = """
    ValueView > #value-header { height: auto; max-height: 4; padding: 0 1; }
    ValueView > #value-note { height: auto; padding: 0 1; color: $warning; display: none; }
    ValueView > #value-note.shown { display: block; }
    ValueView.deleted > JsonView { opacity: 60%; }
    ValueView > #value-trend { height: 1; padding: 0 1; color: $foreground 60%; display: none; }
    ValueView > Sparkline { height: 2; margin: 0 1; display: none; }
    ValueView.trend > #value-trend, ValueView.trend > Sparkline { display: block; }
    """

    def __init__(self, *, clock: Callable[[], float] = time.time, id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock
        """The time a TTL counts down by (the store's clock's kind)."""
        self.key: str | None = None
        self.version = 0
        self._entry: Entry | None = None  # the key's, as shown (None: no key, or gone)
        self._expired = False  # the key shown is gone, its TTL seen to run out
        self._countdown: Timer | None = None
        self._trend_field: dict[str, str] = {}  # the field charted, once chosen with `f`
        # The header's key or folder, the rest, and the time left of a key with a TTL.
        self._title: tuple[str, Text, Text | None] | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text("No key selected", style="dim"), id="value-header")
        yield Static(id="value-note")
        yield Static(id="value-trend")
        yield Sparkline([], id="value-spark")
        yield JsonView(id="value-json")

    def show_trend(self, key: str | None, history: ValueHistory) -> None:
        """A sparkline of the recent values of `key` (of one of its fields, for an object):
        the field chosen with `next_field`, else the one that changed last."""
        fields = history.fields(key) if key is not None else []
        field = self._trend_field.get(key or "", fields[0] if fields else "")
        values = history.values(key, field) if key is not None and field in fields else []
        self._draw_trend(field, values, len(fields))

    def next_field(self, history: ValueHistory) -> bool:
        """Chart the shown key's next numeric field; False when it has fewer than two."""
        key = self.key
        fields = history.fields(key) if key is not None else []
        if key is None or len(fields) < 2:
            return False
        now = self._trend_field.get(key, fields[0])
        at = fields.index(now) if now in fields else -1
        self._trend_field[key] = fields[(at + 1) % len(fields)]
        self.show_trend(key, history)
        return True

    def _draw_trend(self, field: str, values: list[float], fields: int) -> None:
        # Numbers so far apart that their span overflows cannot be charted.
        chartable = len(values) >= 2 and math.isfinite(max(values) - min(values))
        self.set_class(chartable, "trend")
        if not chartable:
            return
        name = f"{escape_controls(field, one_line=True)}: " if field else ""
        more = " · f: next field" if fields > 1 else ""
        low, high, last = min(values), max(values), values[-1]
        self.query_one("#value-trend", Static).update(
            Text(
                f"{name}last {len(values)} values · {format_number(low)} to "
                f"{format_number(high)}, now {format_number(last)}{more}"
            )
        )
        self.query_one(Sparkline).data = values

    def show(self, key: str | None, entry: Entry | None, *, removal: Change | None = None) -> None:
        """Show `key` as the store holds it now (None: no key, or it is gone, by
        `removal` when that is known)."""
        same = key == self.key
        shown = self._entry
        # A key whose TTL was seen to run out is gone the moment it does.
        self._expired = (
            same
            and entry is None
            and (self._expired or (shown is not None and 0 < shown.expires <= self.clock()))
        )
        self.key = key
        self._entry = entry
        self._follow_expiry()
        header = self.query_one("#value-header", Static)
        body = self.query_one(JsonView)
        if key is None:
            self._title = None
            header.update(Text("No key selected", style="dim"))
            self._note("")
            body.show(b"")
            self.remove_class("deleted")
            return
        title = escape_controls(key, one_line=True)
        if entry is None:
            self._note("")
            self.add_class("deleted")
            gone = gone_line(removal, expired=self._expired)
            self._draw_header(title, Text(gone, style="italic"))
            if not same:
                body.show(b"")
            return
        self.remove_class("deleted")
        self._draw_header(title, describe(entry), time_left(entry, self.clock()))
        if same and entry.version == self.version:
            return
        self.version = entry.version
        if len(entry.value) > SHOWN_BYTES:
            self._note(f"Formatting {format_size(len(entry.value))}…")
            self._format_big(key, entry, same)
            return
        text, _ = pretty(entry.value)
        self._note("")
        body.show(text, keep_scroll=same)

    def _follow_expiry(self) -> None:
        """Count down while the key shown has a TTL; stop counting when it has none."""
        counting = self._entry is not None and self._entry.expires > 0
        if counting and self._countdown is None:
            self._countdown = self.set_interval(COUNTDOWN_SECONDS, self._count_down)
        elif not counting and self._countdown is not None:
            self._countdown.stop()
            self._countdown = None

    def _count_down(self) -> None:
        """Draw the time left afresh; once it has run out, the key is gone."""
        entry, key = self._entry, self.key
        if entry is None or key is None or self._title is None:
            return
        now = self.clock()
        if entry.expires <= now:
            self.show(key, None)
            return
        left = time_left(entry, now)
        if left != self._title[2]:
            self._draw_header(*self._title[:2], left)

    def show_unread(self, key: str, reason: str) -> None:
        """`key` could not be read (a store out of reach): say why, and show no value."""
        self.key, self._entry, self.version = key, None, 0
        self._follow_expiry()
        self.remove_class("deleted")
        self._note("")
        self._draw_header(
            escape_controls(key, one_line=True), Text(f"not read: {reason}", style="italic")
        )
        self.query_one(JsonView).show(b"")

    def show_folder(self, prefix: str, count: int) -> None:
        """Show what a folder holds (the whole store for "")."""
        self.key = None
        self.version = 0
        self._entry = None
        self._follow_expiry()
        if not prefix and not count:
            self.show(None, None)
            self.query_one("#value-header", Static).update(
                Text(
                    "The store is empty: keys appear here as scripts set them, "
                    "or as you make them (n, or Lua typed after : in the console).",
                    style="dim",
                )
            )
            return
        self.remove_class("deleted")
        keys = f"{count:,} key" + ("" if count == 1 else "s")
        self._draw_header(
            escape_controls(prefix, one_line=True), Text(f"A folder of {keys}.", style="dim")
        )
        self._note("")
        self.query_one(JsonView).show(b"")

    @work(thread=True, exclusive=True, group="value")
    def _format_big(self, key: str, entry: Entry, same: bool) -> None:
        text, cut = pretty(entry.value)
        self.app.call_from_thread(self._show_big, key, entry.version, text, cut, same)

    def _show_big(self, key: str, version: int, text: bytes, cut: bool, same: bool) -> None:
        if key != self.key or version != self.version:
            return  # the selection moved on while this was being formatted
        self.query_one(JsonView).show(text, keep_scroll=same)
        size = format_size(len(text))
        self._note(
            f"Showing the first {size}: the value is too big to show in full." if cut else ""
        )

    def _draw_header(self, title: str, rest: Text, left: Text | None = None) -> None:
        """The key or folder in bold, cut to TITLE_LINES lines, then `rest` below it (and
        the time `left`, for a key with a TTL)."""
        self._title = (title, rest, left)
        header = self.query_one("#value-header", Static)
        width = header.content_region.width
        shown = fit_lines(title, width)
        if left is not None:
            rest = after_line(rest, left, width)
        header.update(Text.assemble((shown, "bold"), "\n", rest))

    def on_resize(self) -> None:
        if self._title is not None:  # the key is cut anew for the new width
            self._draw_header(*self._title)

    def _note(self, text: str) -> None:
        note = self.query_one("#value-note", Static)
        note.update(text)
        note.set_class(bool(text), "shown")
