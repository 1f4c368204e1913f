"""JSON encoding of stored values, and the rules every stored value follows.

Values are held as compact JSON (orjson). The rules, shared with the Lua bridge:
integers fit in 64 signed bits, floats are finite, object keys are strings, nesting
is at most MAX_DEPTH levels deep, and one encoded value is at most the store's size
limit (DEFAULT_MAX_VALUE_BYTES unless configured).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import orjson

from tui.state.errors import StateError
from tui.state.keys import type_name

MAX_DEPTH = 100
"""How many levels of tables (arrays, objects) a value may nest."""

DEFAULT_MAX_VALUE_BYTES = 16 * 1024 * 1024
"""The default limit on one value's encoded JSON."""

INT_MIN = -(2**63)
INT_MAX = 2**63 - 1

STORABLE = "only nil, booleans, numbers, strings and tables can be stored"

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def format_path(parts: Sequence[str | int]) -> str:
    """Write a place in a value the way Lua code would name it: `config.items[2]`."""
    out: list[str] = []
    for part in parts:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif _IDENTIFIER.match(part):
            out.append(f".{part}" if out else part)
        else:
            out.append(f"[{orjson.dumps(part).decode()}]")
    return "".join(out)


def place(parts: Sequence[str | int]) -> str:
    """`value` for the whole value, `value at a.b` for a place inside it."""
    return f"value at {format_path(parts)}" if parts else "value"


def encode(value: Any, max_bytes: int = DEFAULT_MAX_VALUE_BYTES) -> bytes:
    """Encode a Python value (as JSON gives it) after checking the storage rules."""
    _check(value, [], 0)
    return check_size(orjson.dumps(value), max_bytes)


def decode(data: bytes | memoryview) -> Any:
    """Decode stored JSON into fresh Python objects."""
    return orjson.loads(data)


def check_size(data: bytes, max_bytes: int) -> bytes:
    """Return `data` when it is within the size limit; raise StateError otherwise."""
    if len(data) > max_bytes:
        raise StateError(
            f"value is {format_size(len(data))} as JSON, over the limit of {format_size(max_bytes)}"
        )
    return data


def format_size(size: int) -> str:
    """A byte count for people: `812 B`, `3.2 KiB`, `16 MiB`."""
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in ("KiB", "MiB", "GiB"):
        value /= 1024
        if value < 1024 or unit == "GiB":
            return f"{value:.1f} {unit}".replace(".0 ", " ")
    raise AssertionError("unreachable")


def check_number(value: int | float, parts: Sequence[str | int]) -> None:
    """Refuse integers beyond 64 bits and floats that are NaN or infinite."""
    if isinstance(value, float):
        if not math.isfinite(value):
            what = "NaN" if math.isnan(value) else "infinite"
            raise StateError(f"{place(parts)} is {what}; numbers must be finite")
    elif not INT_MIN <= value <= INT_MAX:
        raise StateError(f"{place(parts)} does not fit in a 64-bit integer")


def depth_error(parts: Sequence[str | int]) -> StateError:
    """The error for a value nested deeper than MAX_DEPTH."""
    return StateError(f"{place(parts)} is nested deeper than {MAX_DEPTH} levels")


def _check(value: Any, parts: list[str | int], depth: int) -> None:
    kind = type(value)
    if kind is str:
        _check_text(value, parts)
        return
    if kind is bool or value is None:
        return
    if kind is int or kind is float:
        check_number(value, parts)
        return
    if kind is dict or kind is list:
        if depth >= MAX_DEPTH:
            raise depth_error(parts)
        items = value.items() if kind is dict else enumerate(value)
        for name, item in items:
            if kind is dict:
                if type(name) is not str:
                    raise StateError(f"{place(parts)} has a key that is not a string")
                _check_text(name, parts)
            parts.append(name)
            _check(item, parts, depth + 1)
            parts.pop()
        return
    raise StateError(f"{place(parts)} is a {type_name(value)}; {STORABLE}")


def _check_text(text: str, parts: Sequence[str | int]) -> None:
    # Python strings can hold lone surrogates (JSON's "\ud800" gives one); UTF-8 cannot.
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise StateError(f"{place(parts)} holds a string that is not valid UTF-8") from None
