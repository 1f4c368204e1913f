"""The Python half of the `State` API; prelude/state.lua is the Lua half.

Each function returns its result, or (ERR, message) so that the Lua side raises the
error at the caller's line. Each first checks whether the run was stopped, so that a
script that spends its time inside State calls (big reads in a loop) stops at the
next call, not only at the next count hook.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable
from functools import wraps
from typing import Any

from lupa.lua54 import LuaRuntime, lua_type

from tui.lua.cancel import CancelToken
from tui.lua.convert import LuaConverter
from tui.lua.origins import Origins
from tui.state.change import Change
from tui.state.errors import StateError
from tui.state.store import Store
from tui.state.waiting import check_timeout, wait_for

# Called with no Lua value to build, so never under a lifted memory cap.
_PLAIN = ("check", "file_number", "stopping", "write", "write_err", "module", "exit")


class StateBridge:
    """The functions the prelude turns into `State`, `sleep` and `os.exit` for one runtime."""

    def __init__(
        self,
        lua: LuaRuntime,
        store: Store,
        *,
        source: str,
        token: CancelToken,
        on_output: Callable[[str], None],
        on_error_output: Callable[[str], None] | None = None,
        on_module: Callable[[str], None] | None = None,
        on_wait: Callable[[str | None], None] | None = None,
    ) -> None:
        self._lua = lua
        self._store = store
        self._source = source
        self._token = token
        self._on_output = on_output
        self._on_error_output = on_error_output or on_output
        self._on_module = on_module or (lambda path: None)
        self._on_wait = on_wait or (lambda pattern: None)
        self.origins = Origins()
        """Where the writes come from (the prelude passes each write's place)."""
        self._convert = self.converter = LuaConverter(lua, store.max_value_bytes, token.check)
        self.ERR = lua.table()
        """Returned first, with a message, when a call fails."""
        self.RETRY = lua.table()
        """Returned by set_pairs when the table needs the careful path."""

    def functions(self, max_memory: int | None) -> dict[str, Any]:
        """Everything the prelude receives as its `api` table."""
        functions: dict[str, Any] = {
            "check": self._token.check,
            "file_number": self.origins.file_number,
            "stopping": lambda: self._token.stopping,
            "write": _returning_nothing(self._on_output),
            "write_err": _returning_nothing(self._on_error_output),
            "module": self._module,
            "exit": self._exit,
            "sleep": self._sleep,
            "set_pairs": self._fast_set_pairs(),
            "get": self._fast_get(),
            "set": self._call("set", self._set),
            "delete": self._call("delete", self._delete),
            "list": self._call("list", self._list),
            "exists": self._call("exists", self._store.exists),
            "incr": self._call("incr", self._incr),
            "clear": self._call("clear", self._clear),
            "versioned": self._call("update", self._versioned),
            "cas": self._call("update", self._cas),
            "expire": self._call("expire", self._expire),
            "persist": self._call("persist", self._persist),
            "ttl": self._call("ttl", self._store.ttl),
            "revision": lambda: self._store.revision,
            "wait": self._call("wait", self._wait),
        }
        if max_memory:
            functions = self._lift_memory_cap(functions, max_memory)
        return {"ERR": self.ERR, "RETRY": self.RETRY, **functions}

    # -- wrappers -------------------------------------------------------------------

    def _call(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        """Check for a stop first; turn a StateError into (ERR, "State.NAME: message")."""
        token, err = self._token, self.ERR

        @wraps(function)
        def call(*args: Any) -> Any:
            if token.stopping:
                token.check()
            try:
                return function(*args)
            except StateError as error:
                return err, f"State.{name}: {error}"

        return call

    def _lift_memory_cap(self, functions: dict[str, Any], limit: int) -> dict[str, Any]:
        """Lift the cap while a function builds the Lua values it returns.

        Running out of Lua memory inside a Python callback wedges the runtime, so the
        cap is off during the call and the prelude puts it back the moment the call
        returns (`relimit`, which says whether the script is now over it); a call that
        raises puts it back itself.
        """
        lua = self._lua

        def lifting(function: Callable[..., Any]) -> Callable[..., Any]:
            @wraps(function)
            def call(*args: Any) -> Any:
                lua.set_max_memory(0)
                try:
                    return function(*args)
                except BaseException:
                    lua.set_max_memory(limit)
                    raise

            return call

        lifted = {
            name: function if name in _PLAIN else lifting(function)
            for name, function in functions.items()
        }

        def relimit() -> bool:
            lua.set_max_memory(limit)
            return bool(lua.get_memory_used() > limit)

        lifted["relimit"] = relimit
        lifted["lifted"] = self._lua.table_from([n for n in functions if n not in _PLAIN])
        return lifted

    # -- the hot paths: closures over locals, as attribute lookups are a measurable
    #    share of each call --------------------------------------------------------

    def _fast_set_pairs(self) -> Callable[..., Any]:
        encode_pairs, set_encoded = self._convert.encode_pairs, self._store.set_encoded
        token, err, retry, source = self._token, self.ERR, self.RETRY, self._source
        texts, origin_of = self.origins._texts, self.origins.text

        def set_pairs(key: Any, place: int, *pairs: Any) -> Any:
            if token.stopping:
                token.check()
            try:
                data = encode_pairs(pairs)
                if data is None:
                    return retry
                origin = texts.get(place)
                if origin is None:
                    origin = origin_of(place)
                set_encoded(key, data, source=source, origin=origin)
            except StateError as error:
                return err, f"State.set: {error}"
            return None

        return set_pairs

    def _fast_get(self) -> Callable[[Any], Any]:
        get_encoded, decode = self._store.get_encoded, self._convert.decode
        token, err = self._token, self.ERR

        def get(key: Any) -> Any:
            if token.stopping:
                token.check()
            try:
                data = get_encoded(key)
            except StateError as error:
                return err, f"State.get: {error}"
            return None if data is None else decode(data)

        return get

    # -- the rest ---------------------------------------------------------------------

    def _set(self, key: Any, value: Any, place: int, ttl: float | None = None) -> None:
        origin = self.origins.text(place)
        if value is None:
            self._store.delete(key, source=self._source, origin=origin)
        else:
            data = self._convert.encode(value)
            self._store.set_encoded(key, data, source=self._source, origin=origin, ttl=ttl)

    def _expire(self, key: Any, seconds: float, place: int) -> bool:
        origin = self.origins.text(place)
        return self._store.expire(key, seconds, source=self._source, origin=origin)

    def _persist(self, key: Any, place: int) -> bool:
        return self._store.persist(key, source=self._source, origin=self.origins.text(place))

    def _wait(self, pattern: str, timeout: float | None, after: int | None) -> Any:
        seconds = check_timeout(timeout)
        if after is not None and after < 0:
            raise StateError(f"after must be a revision of at least 0, got {after}")
        self._on_wait(pattern)
        try:
            change = wait_for(
                self._store, pattern, timeout=seconds, after=after, stop=self._token.check
            )
        finally:
            self._on_wait(None)
        return None if change is None else self._change_table(change)

    def _change_table(self, change: Change) -> Any:
        fields: dict[str, Any] = {
            "key": change.key,
            "op": change.op.value,
            "version": change.version,
        }
        if change.value is not None:
            fields["value"] = self._convert.decode(change.value)
        return self._lua.table_from(fields)

    def _delete(self, key: Any, place: int) -> bool:
        return self._store.delete(key, source=self._source, origin=self.origins.text(place))

    def _list(self, prefix: Any) -> Any:
        return self._lua.table_from(self._store.keys("" if prefix is None else prefix))

    def _incr(self, key: Any, by: Any, place: int) -> int | float:
        origin = self.origins.text(place)
        return self._store.incr(key, 1 if by is None else by, source=self._source, origin=origin)

    def _clear(self, prefix: Any, place: int) -> int:
        return self._store.clear(prefix, source=self._source, origin=self.origins.text(place))

    def _versioned(self, key: Any) -> tuple[Any, int]:
        data, version = self._store.versioned(key)
        return (None if data is None else self._convert.decode(data)), version

    def _cas(self, key: Any, value: Any, version: int, place: int) -> bool:
        data = None if value is None else self._convert.encode(value)
        origin = self.origins.text(place)
        return self._store.compare_and_set_encoded(
            key, data, version, source=self._source, origin=origin
        )

    def _sleep(self, seconds: float) -> Any:
        if not math.isfinite(seconds) or seconds < 0:
            return (
                self.ERR,
                f"sleep: seconds must be a finite number of at least 0, got {seconds!r}",
            )
        self._token.sleep(min(seconds, threading.TIMEOUT_MAX))
        return None

    def _module(self, path: Any) -> None:
        # A path that is not UTF-8 comes as a table of its bytes.
        if lua_type(path) == "table":
            path = os.fsdecode(bytes(path.values()))
        self._on_module(path)

    def _exit(self, status: int) -> None:
        self._token.request_exit(status)
        self._token.check()


def _returning_nothing(function: Callable[[str], object]) -> Callable[[str], None]:
    """`function`, whatever it returns kept from Lua: no Python object may reach a script."""

    @wraps(function)
    def call(text: str) -> None:
        function(text)

    return call
