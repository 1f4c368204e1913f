"""Key rules: what a key may be, and the message when it is not."""

from __future__ import annotations

import re

from tui.state.errors import StateError

MAX_KEY_BYTES = 512
"""The longest key, in bytes of UTF-8."""

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# A key of at most this many characters is at most MAX_KEY_BYTES bytes long in UTF-8
# (4 bytes a character at most), so the common case needs no encoding to measure it.
_SHORT = MAX_KEY_BYTES // 4


def key_problem(key: object) -> str | None:
    """Say why `key` is not a valid key, or return None when it is."""
    if type(key) is not str:
        return f"key must be a string, got {type_name(key)}"
    if not key:
        return "key must not be empty"
    if len(key) > _SHORT and len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        return f"key is longer than {MAX_KEY_BYTES} bytes"
    if not key.isprintable():
        match = _CONTROL.search(key)
        if match is not None:
            return f"key contains a control character ({ascii(match.group())[1:-1]})"
    if not key.isascii():
        try:
            key.encode("utf-8")
        except UnicodeEncodeError:
            return "key is not valid UTF-8"
    return None


def is_plain_key(key: object) -> bool:
    """A quick yes for the common key: short, printable ASCII (a no means: check fully)."""
    return type(key) is str and 0 < len(key) <= _SHORT and key.isascii() and key.isprintable()


def check_key(key: object) -> str:
    """Return `key` when it is a valid key; raise StateError otherwise."""
    problem = key_problem(key)
    if problem is not None:
        raise StateError(problem)
    return key  # type: ignore[return-value]


def check_prefix(prefix: object) -> str:
    """Return `prefix` when it can select keys (any string, empty included)."""
    if type(prefix) is not str:
        raise StateError(f"prefix must be a string, got {type_name(prefix)}")
    return prefix


def type_name(value: object) -> str:
    """Name a value's type the way a Lua or JSON user would."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (dict, list)):
        return "table"
    return "userdata"
