"""A sandboxed Lua 5.4 runtime wired to the store: the `State` API, output, sleep, cancellation."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from importlib.resources import files
from pathlib import Path
from typing import Any, NoReturn

from lupa.lua54 import LuaError, LuaMemoryError, LuaRuntime

from tui.lua.bridge import StateBridge
from tui.lua.cancel import CancelToken, ScriptCancelled, ScriptExit
from tui.lua.errors import ScriptError
from tui.state.store import Store

PRELUDE = ("sandbox", "metatables", "stdio", "state", "entry")
"""The prelude's parts, files in tui/lua/prelude/, run in this order in every fresh runtime."""

_PRELUDE_CHUNKS = [
    files("tui.lua").joinpath("prelude").joinpath(f"{part}.lua").read_text(encoding="utf-8")
    for part in PRELUDE
]
_PRELUDE_NAME = "=stateui"
"""Every part's chunk name: `fail` skips these frames, and errors.py leaves them out."""

HOOK_COUNT = 10_000
"""Lua instructions between two cancellation checks (tens of microseconds)."""


def _deny_attributes(obj: object, name: object, is_setting: bool) -> NoReturn:
    raise AttributeError("Python objects cannot be inspected from Lua")


class LuaStateRuntime:
    """One Lua runtime with the `State` global over a store, for one script run or the console.

    A runtime runs one thing at a time; give each thread its own. Whatever the script
    prints goes to `on_output` as text (lines end with "\\n"), what it writes to
    io.stderr to `on_error_output` (or `on_output`); its writes carry `source`.
    `on_module` hears of each module file `require` is about to load, `on_wait` of
    each `State.wait` (its pattern as it starts, None as it ends). Without
    `stdin`, standard input is a stand-in at end of file.
    """

    def __init__(
        self,
        store: Store,
        *,
        source: str,
        on_output: Callable[[str], None],
        on_error_output: Callable[[str], None] | None = None,
        on_module: Callable[[Path], None] | None = None,
        on_wait: Callable[[str | None], None] | None = None,
        stdin: bool = True,
        token: CancelToken | None = None,
        max_memory: int | None = None,
        module_dirs: Sequence[Path] = (),
    ) -> None:
        self.store = store
        self.source = source
        self.token = token if token is not None else CancelToken()
        self.max_memory = max_memory
        self._lua = LuaRuntime(
            encoding="utf-8",
            register_eval=False,
            register_builtins=False,
            unpack_returned_tuples=True,
            attribute_filter=_deny_attributes,
            max_memory=max_memory,
        )
        bridge = StateBridge(
            self._lua,
            store,
            source=source,
            token=self.token,
            on_output=on_output,
            on_error_output=on_error_output,
            on_module=None
            if on_module is None
            else lambda path: on_module(Path(os.fsdecode(path))),
            on_wait=on_wait,
        )
        api = self._lua.table_from(bridge.functions(max_memory))
        folders = self._lua.table_from([os.fsencode(folder) for folder in module_dirs])
        prelude = self._lua.table_from(
            {"api": api, "hook_count": HOOK_COUNT, "module_dirs": folders, "no_stdin": not stdin}
        )
        for chunk in _PRELUDE_CHUNKS:
            entry = self._lua.execute(chunk, prelude, name=_PRELUDE_NAME)
        self._run_main, self._compile = entry.run, entry.compile
        self._evaluate, self.describe = entry.evaluate, entry.describe
        self.convert = bridge.converter
        self._origins = bridge.origins
        self.convert.real_of = prelude.real_of
        """Turns this runtime's Lua values into JSON-like Python data."""

    def state_functions(self) -> list[str]:
        """The names in this runtime's `State` table, sorted."""
        return sorted(str(name) for name in self._lua.globals().State)

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
        self._origins.script = path
        self.run_source(text, path.name)

    def run_source(self, text: str | bytes, name: str) -> None:
        """Compile and run a chunk named `name` (used as `name:LINE` in errors)."""
        self.call(self._compiled(text, name))

    def evaluate(self, text: str, name: str) -> list[Any]:
        """Run a line typed at a console: an expression gives its values, a statement none.

        As Lua's own console does, the line is first tried as an expression. The values
        are this runtime's (tables stay Lua tables: see `convert` and `describe`).
        """
        chunkname = os.fsencode(f"@{name}")
        self._origins.typed.add(name)  # its writes name no file and line
        try:
            chunk, _ = self._compile(f"return {text}", chunkname)
            packed = False
            if chunk is not None:
                # An expression. Its values are packed by a call of the prelude's
                # `table.pack` (the chunk's first argument) rather than returned: a
                # returned call is a tail call, whose errors lose their line. After a
                # comment the bracket would be commented out: then it stays returned.
                bare = text.rstrip().rstrip(";").rstrip()  # `f(x);` is `f(x)` here
                wrapped, _ = self._compile(f"return (...)({bare})", chunkname)
                if wrapped is not None:
                    chunk, packed = wrapped, True
        except LuaMemoryError:
            raise self._memory_error() from None
        if chunk is None:
            chunk = self._compiled(text, name)
        results = self._protected(self._evaluate, chunk, packed)
        if results is None:  # os.exit(0)
            return []
        return [results[i] for i in range(1, results.n + 1)]

    def call(self, function: Any, *args: Any) -> None:
        """Call a Lua function under the prelude's error handler and stop rules."""
        self._protected(self._run_main, function, *args)

    def _compiled(self, text: str | bytes, name: str) -> Any:
        try:
            chunk, problem = self._compile(text, os.fsencode(f"@{name}"))
        except LuaMemoryError:
            raise self._memory_error() from None
        if chunk is None:
            if problem == "not enough memory":
                raise self._memory_error()
            raise ScriptError.from_lua(problem)
        return chunk

    def _protected(self, entry: Any, function: Any, *args: Any) -> Any:
        """Call `function` through a prelude entry that returns (failure, results)."""
        results = None
        try:
            outcome = entry(function, *args)
            failure, results = outcome if isinstance(outcome, tuple) else (outcome, None)
        except LuaMemoryError:
            failure = "not enough memory"
        except (ScriptCancelled, ScriptExit) as stop:
            failure = stop
        except LuaError as error:
            failure = str(error)
        if self.token.cancelled:
            self._raise_stop()
            return results
        if failure is None:
            return results
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
