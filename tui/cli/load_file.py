"""`--load FILE`: a JSON object file read into the store, or a one-line refusal."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, NoReturn

from tui.cli.checks import fail, reason, shown
from tui.state import StateError, Store
from tui.state.codec import MAX_DEPTH


class _Refused(ValueError):
    """A duplicate key, NaN or Infinity met while parsing; `_first_refusal` says where."""


def load_json_file(store: Store, path: Path, what: str = "--load") -> None:
    """Fill the store from a JSON object file, or stop with a one-line message.

    `what` names the option or command in the messages (`--load FILE: ...`).
    """
    name = f"{what} {shown(path)}"
    try:
        data = path.read_bytes()
    except OSError as error:
        fail(f"{name}: {reason(error)}")
    except MemoryError:
        fail(f"{name}: the file is too large to load (out of memory)")
    values = parse_json(data, name)
    if not isinstance(values, dict):
        fail(f"{name}: expected a JSON object of keys and values")
    try:
        store.load(values, source="cli")
    except StateError as error:
        fail(f"{name}: {error}")
    except MemoryError:
        fail(f"{name}: the file is too large to load (out of memory)")


def parse_json(data: bytes, name: str) -> Any:
    """JSON text parsed strictly, or stop with a one-line message that starts with `name`."""
    too_large = f"{name}: the file is too large to load (out of memory)"
    try:
        text = data.decode(json.detect_encoding(data))
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - data.rfind(b"\n", 0, error.start)  # in bytes
        where = f"byte 0x{data[error.start]:02x} at line {line}, column {column}"
        fail(f"{name}: invalid JSON: the file is not UTF-8 ({where})")
    except MemoryError:
        fail(too_large)
    del data
    try:
        # The standard parser, strict: it keeps integers of any size exact (so that the
        # store can refuse those beyond 64 bits) and refuses NaN, Infinity and keys
        # given twice in one object.
        return json.loads(text, parse_constant=_refuse_constant, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}"
        fail(f"{name}: invalid JSON: {error.msg} at {where}")
    except _Refused:
        fail(f"{name}: {_first_refusal(text)}")
    except RecursionError:
        fail(f"{name}: nested too deeply (a value may be at most {MAX_DEPTH} levels deep)")
    except MemoryError:
        fail(too_large)


def _refuse_constant(name: str) -> NoReturn:
    raise _Refused(name)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    values = dict(pairs)
    if len(values) != len(pairs):
        raise _Refused("a key given twice")
    return values


_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[{}\[\]:,]|[^\s{}\[\]:,"]+')
_CONSTANTS = ("NaN", "Infinity", "-Infinity")


def _first_refusal(text: str) -> str:
    """Where the first NaN, Infinity or key given twice is in JSON text, said for a person.

    The parser tells neither where it met them: this walks the tokens again, without
    recursion, keeping the keys seen in each open object.
    """
    objects: list[set[str] | None] = []  # per open bracket: its keys, None for a list
    expect_key = False
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token == "{":
            objects.append(set())
            expect_key = True
        elif token == "[":
            objects.append(None)
            expect_key = False
        elif token in ("}", "]"):
            if objects:
                objects.pop()
            expect_key = False
        elif token == ",":
            expect_key = bool(objects) and objects[-1] is not None
        elif token == ":":
            expect_key = False
        elif token.startswith('"'):
            keys = objects[-1] if objects else None
            if expect_key and keys is not None:
                key = json.loads(token)
                if key in keys:
                    where = _where(text, match.start())
                    return f"key {_shortened(token)} appears twice in one object ({where})"
                keys.add(key)
            expect_key = False
        elif token.startswith(_CONSTANTS):
            constant = next(c for c in _CONSTANTS if token.startswith(c))
            return f"invalid JSON: {constant} is not valid JSON at {_where(text, match.start())}"
    return "invalid JSON: NaN, Infinity or a key given twice"


def _shortened(token: str, limit: int = 60) -> str:
    return token if len(token) <= limit else token[: limit - 4] + '..."'


def _where(text: str, position: int) -> str:
    line = text.count("\n", 0, position) + 1
    column = position - text.rfind("\n", 0, position)
    return f"line {line}, column {column}"
