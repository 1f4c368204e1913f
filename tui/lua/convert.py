"""Conversion between Lua values and stored JSON.

Lua to JSON: nil, booleans and strings stay themselves; integers stay integers and
floats stay floats (NaN and infinities are refused); a table whose keys are exactly
1..n becomes an array, the empty table `{}`, any other table an object with number
keys written in decimal. Boolean or table keys, functions, coroutines, userdata,
cycles and nesting deeper than MAX_DEPTH are refused with a StateError naming the
place. JSON to Lua: objects and arrays become fresh tables, null becomes nil.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import islice
from typing import Any

import orjson
from lupa.lua54 import LuaRuntime, lua_type

from tui.state.codec import (
    MAX_DEPTH,
    STORABLE,
    check_number,
    depth_error,
    format_size,
    place,
)
from tui.state.errors import StateError

_TABLE = type(LuaRuntime().table())
_CHUNK = 4096
"""Items read from a table between two checks for a cancel and the size limit."""

_LUA_NAMES = {"function": "function", "thread": "coroutine", "userdata": "userdata"}
# lupa hands over a coroutine that has not started yet as a callable whose lua_type
# is "function"; its class tells it apart.
_COROUTINE_CLASSES = {"_LuaThread", "_LuaCoroutineFunction"}


def _lua_kind(value: Any) -> str:
    """What a Lua value is, in the words of the error messages."""
    if type(value).__name__ in _COROUTINE_CLASSES:
        return "coroutine"
    return _LUA_NAMES.get(lua_type(value) or "", "userdata")


class LuaConverter:
    """Converts values of one LuaRuntime to JSON and back."""

    def __init__(
        self, runtime: LuaRuntime, max_bytes: int, check: Callable[[], None] = lambda: None
    ) -> None:
        self._max_bytes = max_bytes
        self._check = check  # raises when the run is stopped: long conversions ask it
        self._tables = 0
        # Every array item or object member costs at least 2 bytes of JSON, so a value
        # with more than max_bytes // 2 of them is over the limit: stop counting there
        # (tables that share sub-tables could otherwise take exponential time).
        self._max_items = max_bytes // 2
        self._budget = self._max_items
        self._rawequal = runtime.eval("rawequal")
        # Finds what in a table is not UTF-8, from the Lua side: such a string cannot
        # even be handed to Python.
        self._find_bad_text = runtime.eval(
            """function(t)
              for k, v in next, t do
                if type(k) == "string" and not utf8.len(k) then return "key" end
                if type(v) == "string" and not utf8.len(v) then return "value", k end
              end
            end"""
        )
        # Names a file (io.stdout, a stand-in table, or a real one) for the error
        # messages; nil for anything else.
        self._file_name = runtime.eval(
            """function(v)
              local ok, kind = pcall(io.type, v)
              if not ok or kind == nil then return nil end
              for _, name in ipairs({"stdout", "stderr", "stdin"}) do
                if rawequal(io[name], v) then return "io." .. name end
              end
              return "a file"
            end"""
        )
        self._table_from = runtime.table_from
        self._stack: list[tuple[Any, int]] = []
        self.real_of: Any = None
        """The prelude's map of metatables to their contents (see metatables.lua)."""

    def encode(self, value: Any) -> bytes:
        """The JSON for a Lua value (never nil); raises StateError when it cannot be stored."""
        return self._within_limit(self._encode(value))

    def _within_limit(self, data: bytes) -> bytes:
        if len(data) > self._max_bytes:
            # Both sizes to the byte: just over the limit reads "16 MiB, over 16 MiB".
            raise StateError(
                f"value is {format_size(len(data))} ({len(data):,} bytes) as JSON, over "
                f"the limit of {format_size(self._max_bytes)} ({self._max_bytes:,} bytes)"
            )
        return data

    def _encode(self, value: Any) -> bytes:
        kind = type(value)
        if kind is _TABLE:
            try:
                data = self._dump_record(dict(self._gather(value)))
            except UnicodeDecodeError:
                data = None
            # The careful way for anything unusual; it also gives the precise error.
            return data if data is not None else orjson.dumps(self.to_python(value))
        if kind is float:
            check_number(value, ())
        elif kind is not str and kind is not int and kind is not bool:
            raise self._unstorable(value, [])
        return orjson.dumps(value)

    def encode_pairs(self, pairs: tuple[Any, ...]) -> bytes | None:
        """The JSON for a small table given as key, value, key, value... (see prelude/state.lua).

        None when the table needs the careful path (`encode` of the table itself).
        """
        flat = iter(pairs)
        # zip(flat, flat) pairs them up; `strict=` would cost a third of this line.
        record = dict(zip(flat, flat))  # noqa: B905
        if len(record) * 2 != len(pairs):
            return None
        data = self._dump_record(record)
        return None if data is None else self._within_limit(data)

    def _dump_record(self, record: dict[Any, Any]) -> bytes | None:
        """The fast path for a table's top level: orjson on the dict as Lua gave it.

        None when it needs the careful path: number or boolean keys, NaN (which orjson
        writes as null, a value no Lua value becomes), anything unstorable.
        """
        try:
            data = orjson.dumps(record)
        except TypeError:
            # A nested table (converted through `default`), or something unusual.
            self._budget = self._max_items
            try:
                data = orjson.dumps(record, default=self._nested)
            except (TypeError, ValueError) as error:
                _reraise_too_large(error)
                return None
        return data if data.find(b"null") < 0 else None

    def to_python(self, value: Any) -> Any:
        """A Lua value as plain Python data (dict, list, str, int, float, bool)."""
        self._stack.clear()
        self._budget = self._max_items
        return self._value(value, [], 0)

    def decode(self, data: bytes) -> Any:
        """Stored JSON as a fresh Lua value."""
        value = orjson.loads(data)
        kind = type(value)
        if kind is dict or kind is list:
            # No bracket after the first byte: nothing nested, one flat table_from.
            if data.find(b"{", 1) < 0 and data.find(b"[", 1) < 0:
                return self._table_from(value)
            return self.to_lua(value)
        return value

    def to_lua(self, value: Any) -> Any:
        """Plain Python data (fresh: it is changed in place) as a fresh Lua value."""
        # Nested containers first, then one flat table_from: much faster than
        # table_from(recursive=True), which tracks every object it has seen.
        kind = type(value)
        if kind is dict:
            for name, item in value.items():
                if type(item) is dict or type(item) is list:
                    value[name] = self.to_lua(item)
            return self._table_from(value)
        if kind is list:
            for index, item in enumerate(value):
                if type(item) is dict or type(item) is list:
                    value[index] = self.to_lua(item)
            return self._table_from(value)
        return value

    def _nested(self, value: Any) -> Any:
        # A table one level down in a fast-path record: it starts at depth 2.
        if type(value) is _TABLE:
            self._stack.clear()
            return self._value(value, [], 1)
        raise TypeError

    def _gather(self, table: Any) -> list[tuple[Any, Any]]:
        """A table's items, read a chunk at a time: a huge table stops at a cancel, and
        at the size limit as soon as what was read is over it, not after all of it."""
        items = table.items()
        gathered: list[tuple[Any, Any]] = []
        size = 0  # a lower bound of the JSON's size: its values and commas
        while chunk := list(islice(items, _CHUNK)):
            gathered += chunk
            if len(chunk) < _CHUNK and len(gathered) == len(chunk):
                return gathered  # a small table: nothing more to ask
            self._check()
            try:
                size += len(orjson.dumps([value for _, value in chunk]))
            except TypeError:  # tables inside: count 2 bytes an item
                size += 2 * len(chunk)
            if size > self._max_bytes:
                raise _TooLarge(
                    f"value is over the limit of {format_size(self._max_bytes)} "
                    f"({self._max_bytes:,} bytes) as JSON: its first {len(gathered):,} "
                    f"items already take {size:,} bytes"
                )
        if not gathered and self.real_of is not None:
            # A table used as a metatable keeps its contents in its real table.
            real = self.real_of[table]
            if real is not None:
                return self._gather(real)
        return gathered

    def _value(self, value: Any, parts: list[str | int], depth: int) -> Any:
        kind = type(value)
        if kind is str or kind is int or kind is bool:
            return value
        if kind is float:
            check_number(value, parts)
            return value
        if kind is _TABLE:
            return self._table(value, parts, depth + 1)
        raise self._unstorable(value, parts)

    def _table(self, table: Any, parts: list[str | int], depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise self._cycle_error(parts) or depth_error(parts)
        self._stack.append((table, len(parts)))
        try:
            items = self._gather(table)
        except UnicodeDecodeError:
            raise self._text_error(table, parts) from None
        self._budget -= len(items) + 1
        if self._budget < 0:
            raise _TooLarge(
                f"value is larger than the limit of {format_size(self._max_bytes)} "
                f"({self._max_bytes:,} bytes) as JSON"
            )
        self._tables += 1
        if not self._tables & 1023:
            self._check()
        try:
            result = self._items(items, parts, depth)
        except StateError:
            # A file's stand-in is a table of functions: name the file, not a method.
            if (error := self._file_error(table, parts[: self._stack[-1][1]])) is not None:
                raise error from None
            raise
        self._stack.pop()
        return result

    def _file_error(self, value: Any, parts: list[str | int]) -> StateError | None:
        name = self._file_name(value)
        if name is None:
            return None
        what = f"{name}, a file," if name.startswith("io.") else "a file,"
        return StateError(f"{place(parts)} is {what} which cannot be stored as JSON")

    def _unstorable(self, value: Any, parts: list[str | int]) -> StateError:
        return self._file_error(value, parts) or _unstorable(value, parts)

    def _items(self, items: list[tuple[Any, Any]], parts: list[str | int], depth: int) -> Any:
        count = len(items)
        if count and all(type(key) is int for key, _ in items):
            keys = [key for key, _ in items]
            if min(keys) == 1 and max(keys) == count:
                by_index = dict(items)
                result: Any = []
                for index in range(1, count + 1):
                    parts.append(index)
                    result.append(self._value(by_index[index], parts, depth))
                    parts.pop()
                return result
        result = {}
        for key, item in items:
            name = _key_name(key, parts)
            if name in result:
                raise StateError(
                    f"{place(parts)} has both the key {name} and the key {name!r}; "
                    "they would be the same JSON key"
                )
            parts.append(key if type(key) is int else name)
            result[name] = self._value(item, parts, depth)
            parts.pop()
        return result

    def _text_error(self, table: Any, parts: list[str | int]) -> StateError:
        found = self._find_bad_text(table)
        what, key = found if isinstance(found, tuple) else (found, None)
        if what == "value" and type(key) in (str, int):
            return StateError(f"{place([*parts, key])} is not valid UTF-8")
        if what == "key":
            return StateError(f"{place(parts)} has a key that is not valid UTF-8")
        return StateError(f"{place(parts)} holds a string that is not valid UTF-8")

    def _cycle_error(self, parts: list[str | int]) -> StateError | None:
        stack = self._stack
        for later in range(len(stack)):
            for earlier in range(later):
                if self._rawequal(stack[earlier][0], stack[later][0]):
                    inner = parts[: stack[later][1]]
                    outer = parts[: stack[earlier][1]]
                    return StateError(f"{place(inner)} refers back to {place(outer)} (a cycle)")
        return None


class _TooLarge(StateError):
    """Over the size limit: final, so the fast path does not retry the careful way."""


def _reraise_too_large(error: Exception) -> None:
    # orjson wraps what its `default` raised; a size error is the answer already.
    if isinstance(error.__cause__, _TooLarge):
        raise error.__cause__ from None


def _key_name(key: Any, parts: list[str | int]) -> str:
    kind = type(key)
    if kind is str:
        return key  # type: ignore[no-any-return]
    if kind is int:
        return str(key)
    if kind is float:
        if not math.isfinite(key):
            raise StateError(f"{place(parts)} has an infinite number as a key")
        return repr(key)
    if kind is bool:
        raise StateError(
            f"{place(parts)} has a boolean key ({str(key).lower()}); "
            "keys of stored tables must be strings or numbers"
        )
    what = "table" if kind is _TABLE else _lua_kind(key)
    raise StateError(
        f"{place(parts)} has a {what} as a key; keys of stored tables must be strings or numbers"
    )


def _unstorable(value: Any, parts: list[str | int]) -> StateError:
    return StateError(f"{place(parts)} is a {_lua_kind(value)}; {STORABLE}")
