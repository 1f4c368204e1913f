"""A sandboxed Lua 5.4 runtime wired to the store: the `State` API, output, sleep, cancellation."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import Any, NoReturn

from lupa.lua54 import LuaError, LuaMemoryError, LuaRuntime

from tui.lua.cancel import CancelToken, ScriptCancelled, ScriptExit
from tui.lua.convert import LuaConverter
from tui.lua.errors import ScriptError
from tui.state.errors import StateError
from tui.state.store import Store

_PRELUDE = files("tui.lua").joinpath("prelude.lua").read_text(encoding="utf-8")

HOOK_COUNT = 10_000
"""Lua instructions between two cancellation checks (tens of microseconds)."""


def _deny_attributes(obj: object, name: object, is_setting: bool) -> NoReturn:
    raise AttributeError("Python objects cannot be inspected from Lua")


class LuaStateRuntime:
    """One Lua runtime with the `State` global over a store, for one script run or the console.

    A runtime runs one thing at a time; give each thread its own. Whatever the script
    prints goes to `on_output` as text (lines end with "\\n"); its writes carry `source`.
    """

    def __init__(
        self,
        store: Store,
        *,
        source: str,
        on_output: Callable[[str], None],
        token: CancelToken | None = None,
        max_memory: int | None = None,
        module_dir: Path | None = None,
    ) -> None:
        self.store = store
        self.source = source
        self.token = token if token is not None else CancelToken()
        self.max_memory = max_memory
        self._on_output = on_output
        self._lua = LuaRuntime(
            encoding="utf-8",
            register_eval=False,
            register_builtins=False,
            unpack_returned_tuples=True,
            attribute_filter=_deny_attributes,
            max_memory=max_memory,
        )
        self._convert = LuaConverter(self._lua, store.max_value_bytes)
        self._error_marker = self._lua.table()
        self._retry_marker = self._lua.table()
        functions: dict[str, Any] = {
            "ERR": self._error_marker,
            "RETRY": self._retry_marker,
            "set_pairs": self._fast_set_pairs(),
            "check": self.token.check,
            "stopping": lambda: self.token.cancelled,
            "write": on_output,
            "sleep": self._sleep,
            "exit": self._exit,
            "set": self._set,
            "get": self._fast_get(),
            "delete": self._delete,
            "list": self._list,
            "exists": self._exists,
            "incr": self._incr,
            "clear": self._clear,
            "versioned": self._versioned,
            "cas": self._cas,
        }
        if max_memory:
            functions = self._lift_memory_cap_during(functions)
        api = self._lua.table_from(functions)
        entry = self._lua.execute(_PRELUDE, api, HOOK_COUNT, name="=stateui")
        self._run_main, self._compile = entry.run, entry.compile
        if module_dir is not None:
            package = self._lua.globals().package
            package.path = f"{module_dir}/?.lua;{module_dir}/?/init.lua;" + package.path

    def _lift_memory_cap_during(self, functions: dict[str, Any]) -> dict[str, Any]:
        """Wrap the State functions so that the cap is off while they run (see prelude)."""
        lua, limit = self._lua, self.max_memory

        def lifting(function: Callable[..., Any]) -> Callable[..., Any]:
            def call(*args: Any) -> Any:
                lua.set_max_memory(0)
                return function(*args)

            return call

        lifted = {"check", "stopping", "write", "exit", "ERR", "RETRY"}
        wrapped = {
            name: value if name in lifted else lifting(value) for name, value in functions.items()
        }
        wrapped["relimit"] = lambda: lua.set_max_memory(limit)
        return wrapped

    # -- running code ----------------------------------------------------------------

    def run_file(self, path: Path) -> None:
        """Run a script file; raise ScriptError, ScriptCancelled or nothing (ok, or os.exit(0))."""
        try:
            text = path.read_bytes()
        except OSError as error:
            raise ScriptError(f"cannot read {path}: {error.strerror}") from None
        # Like the `lua` command: skip a UTF-8 byte order mark and a `#!` first line
        # (kept as an empty comment, so that line numbers stay true).
        text = text.removeprefix(b"\xef\xbb\xbf")
        if text.startswith(b"#"):
            text = b"--" + text
        self.run_source(text, path.name)

    def run_source(self, text: str | bytes, name: str) -> Any:
        """Compile and run a chunk named `name` (used as `name:LINE` in errors)."""
        try:
            chunk, problem = self._compile(text, f"@{name}")
        except LuaMemoryError:
            raise self._memory_error() from None
        if chunk is None:
            if problem == "not enough memory":
                raise self._memory_error()
            raise ScriptError.from_lua(problem)
        return self.call(chunk)

    def call(self, function: Any, *args: Any) -> None:
        """Call a Lua function under the prelude's error handler and stop rules."""
        try:
            failure = self._run_main(function, *args)
        except LuaMemoryError:
            failure = "not enough memory"
        except (ScriptCancelled, ScriptExit) as stop:
            failure = stop
        except LuaError as error:
            failure = str(error)
        if self.token.cancelled:
            self._raise_stop()
            return
        if failure is None:
            return
        if isinstance(failure, BaseException):
            raise ScriptError(f"internal error: {failure!r}") from failure
        if not isinstance(failure, str):
            raise ScriptError("(error object is a userdata value)")
        if failure == "not enough memory" or failure.startswith("not enough memory\n"):
            raise self._memory_error()
        raise ScriptError.from_lua(failure)

    def _raise_stop(self) -> None:
        code = self.token.exit_code
        if code is None:
            raise ScriptCancelled(self.token.reason)
        if code != 0:
            raise ScriptError(f"the script called os.exit({code})")

    def _memory_error(self) -> ScriptError:
        limit = self.max_memory or 0
        return ScriptError(
            f"not enough memory: the script went over its limit of {limit // 2**20} MB"
            if limit
            else "not enough memory"
        )

    # -- the Python half of the State API (see prelude.lua) ------------------------
    # Each returns its result, or (ERR, message) so that Lua raises at the caller.

    def _fail(self, function: str, error: StateError) -> tuple[Any, str]:
        return self._error_marker, f"State.{function}: {error}"

    def _set(self, key: Any, value: Any) -> str | None:
        try:
            if value is None:
                self.store.delete(key, source=self.source)
            else:
                self.store.set_encoded(key, self._convert.encode(value), source=self.source)
        except StateError as error:
            return f"State.set: {error}"
        return None

    # State.set of a small table and State.get are the hot paths: closures over
    # locals, because attribute lookups are a measurable share of each call.

    def _fast_set_pairs(self) -> Callable[..., Any]:
        encode_pairs, set_encoded = self._convert.encode_pairs, self.store.set_encoded
        retry, source = self._retry_marker, self.source

        def set_pairs(key: Any, *pairs: Any) -> Any:
            data = encode_pairs(pairs)
            if data is None:
                return retry
            try:
                set_encoded(key, data, source=source)
            except StateError as error:
                return f"State.set: {error}"
            return None

        return set_pairs

    def _fast_get(self) -> Callable[[Any], Any]:
        get_encoded, decode, fail = self.store.get_encoded, self._convert.decode, self._fail

        def get(key: Any) -> Any:
            try:
                data = get_encoded(key)
            except StateError as error:
                return fail("get", error)
            return None if data is None else decode(data)

        return get

    def _delete(self, key: Any) -> Any:
        try:
            return self.store.delete(key, source=self.source)
        except StateError as error:
            return self._fail("delete", error)

    def _list(self, prefix: Any) -> Any:
        try:
            return self._lua.table_from(self.store.keys("" if prefix is None else prefix))
        except StateError as error:
            return self._fail("list", error)

    def _exists(self, key: Any) -> Any:
        try:
            return self.store.exists(key)
        except StateError as error:
            return self._fail("exists", error)

    def _incr(self, key: Any, by: Any) -> Any:
        try:
            return self.store.incr(key, 1 if by is None else by, source=self.source)
        except StateError as error:
            return self._fail("incr", error)

    def _clear(self, prefix: Any) -> Any:
        try:
            return self.store.clear(prefix, source=self.source)
        except StateError as error:
            return self._fail("clear", error)

    def _versioned(self, key: Any) -> Any:
        try:
            data, version = self.store.versioned(key)
        except StateError as error:
            return self._fail("update", error)
        return (None if data is None else self._convert.decode(data)), version

    def _cas(self, key: Any, value: Any, version: int) -> Any:
        try:
            data = None if value is None else self._convert.encode(value)
            return self.store.compare_and_set(key, data, version, source=self.source)
        except StateError as error:
            return self._fail("update", error)

    def _sleep(self, seconds: float) -> str | None:
        if not math.isfinite(seconds) or seconds < 0:
            return f"sleep: seconds must be a finite number of at least 0, got {seconds!r}"
        self.token.sleep(min(seconds, threading.TIMEOUT_MAX))
        return None

    def _exit(self, code: Any = None) -> None:
        if code is None or code is True:
            status = 0
        elif code is False:
            status = 1
        elif type(code) is int:
            status = code
        else:
            status = 1
        self.token.request_exit(status)
        self.token.check()
