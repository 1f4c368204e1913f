"""How the app writes numbers, sizes, durations, counts of things and JSON for people."""

from __future__ import annotations

import math
import re

import orjson

from tui.state.codec import format_size

__all__ = [
    "SHOWN_BYTES",
    "count_of",
    "escape_controls",
    "format_count",
    "format_duration",
    "format_eta",
    "format_number",
    "format_percent",
    "format_rate",
    "format_size",
    "format_time_left",
    "plural",
    "pretty",
    "pretty_json",
    "pretty_json_bytes",
]

SHOWN_BYTES = 1024 * 1024
"""Values whose JSON is bigger than this are shown cut short, formatted off the UI thread."""


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """`noun` or its plural as `count` asks: plural(1, "key") is `key`, plural(2, ...) `keys`."""
    return noun if count == 1 else (nouns or f"{noun}s")


def count_of(count: int, noun: str, nouns: str | None = None) -> str:
    """A count with its noun: `1 key`, `12,345 keys`."""
    return f"{count:,} {plural(count, noun, nouns)}"


def format_duration(seconds: float | None) -> str:
    """A run's duration: `840 µs`, `12 ms`, `3.4 s`, `2 min 5 s` ("" when unknown)."""
    if seconds is None:
        return ""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.0f} ms"
    if seconds < 59.95:  # not "60.0 s"
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s"


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


def format_time_left(seconds: float) -> str:
    """A TTL's time left, finer as it runs out: `41.2 s`, `3 min 12 s`, `2 h 10 min`, `3 d 4 h`."""
    if seconds < 59.95:  # not "60.0 s"
        return f"{max(seconds, 0.0):.1f} s"
    whole = math.ceil(seconds)  # counting down: "1 min" until less than a minute is left
    if whole < 3600:
        minutes, rest = divmod(whole, 60)
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    if whole < 86_400:
        hours, minutes = divmod(whole // 60, 60)
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(whole // 3600, 24)
    return f"{days:,} d {hours} h" if hours else f"{days:,} d"


def format_count(number: float) -> str:
    """A count of done things: 12 → `12`, 1234567 → `1,234,567`, 2.5 → `2.5`, 1e20 → `1e+20`."""
    if not math.isfinite(number):
        return "∞" if number > 0 else "-∞"
    if abs(number) >= 1e15 or (number and abs(number) < 0.05):
        return f"{number:.3g}"
    return f"{number:,.0f}" if number == int(number) else f"{number:,.1f}"


def format_percent(percent: float) -> str:
    """A share done, five cells wide for the usual ones: ` 42.5%`, `100.0%`, `1e+300%`."""
    if not math.isfinite(percent):
        return "∞%" if percent > 0 else ("-∞%" if percent < 0 else "?%")
    if abs(percent) >= 1e5:  # more digits than the column holds: written short
        return f"{percent:.3g}%"
    return f"{percent:5.1f}%"


def format_rate(per_second: float, unit: str = "/s") -> str:
    """A rate: `12/s`, `2.5%/s`."""
    return f"{format_count(per_second)}{unit}"


def format_number(value: float) -> str:
    """A charted number: whole ones with thousands marks, others to four figures."""
    if not math.isfinite(value) or abs(value) >= 1e15:
        return f"{value:.4g}"
    return f"{value:,.0f}" if value == int(value) else f"{value:,.4g}"


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_LINE_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# orjson escapes C0 controls in strings, but writes DEL and the C1 controls (U+0080 to
# U+009F, among them CSI) as they are. In UTF-8 these are 7F and C2 80 to C2 9F (C2
# only ever starts a character, so the pair is never part of another one).
_JSON_CONTROL = re.compile(rb"\x7f|\xc2[\x80-\x9f]")


def escape_controls(text: str, *, one_line: bool = False) -> str:
    """Text with its control characters written as escapes (`\\x1b`, `\\x9b`), tabs
    expanded: text from the store or a script, fit to reach the terminal.

    Line ends are kept, unless `one_line`.
    """
    text = text.expandtabs(4)
    if text.isprintable():
        return text
    pattern = _LINE_CONTROL if one_line else _CONTROL
    return pattern.sub(lambda match: ascii(match.group())[1:-1], text)


def _escape_json_control(match: re.Match[bytes]) -> bytes:
    return b"\\u%04x" % ord(match.group().decode())


def pretty_json_bytes(value: object) -> bytes:
    """Indented JSON with sorted keys, as the value pane shows it (UTF-8).

    Control characters are `\\u` escapes, DEL and C1 ones included: the same value, safe
    to show on a terminal.
    """
    text = orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
    if _JSON_CONTROL.search(text) is None:
        return text
    return _JSON_CONTROL.sub(_escape_json_control, text)


def pretty_json(value: object) -> str:
    """Indented JSON with sorted keys, as text: what the value pane shows, copy and edit."""
    return pretty_json_bytes(value).decode()


def pretty(data: bytes, limit: int = SHOWN_BYTES) -> tuple[bytes, bool]:
    """Indented JSON with sorted keys, cut at a line end after `limit` bytes; and if it was cut."""
    text = pretty_json_bytes(orjson.loads(data))
    if len(text) <= limit:
        return text, False
    end = text.rfind(b"\n", 0, limit)
    return text[: end if end > 0 else limit], True
