"""The Lua console: one runtime for a whole session, running what a person types, one line
at a time, in its own thread."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from lupa.lua54 import lua_type

from tui.lua.cancel import demote
from tui.lua.errors import ScriptError
from tui.lua.runner import LineSplitter, RunStatus, outcome
from tui.lua.runtime import LuaStateRuntime
from tui.state.errors import StateError
from tui.state.store import Store

CONSOLE_SOURCE = "console"
"""What the console's writes carry as their source, and the name of its chunks."""

MAX_RESULT_LINES = 1_000
"""The longest a result is shown; the rest is counted, not shown."""


@dataclass(frozen=True)
class Evaluation:
    """How one line typed at the console ended."""

    number: int
    text: str
    status: RunStatus
    duration: float
    results: tuple[str, ...] = ()
    """Each value the line gave, formatted for a person (tables as JSON)."""
    error: ScriptError | None = None
    reason: str = ""
    """Why a cancelled line was cancelled."""


class Console:
    """Runs lines of Lua against the store in one runtime that keeps its globals.

    `submit` starts a line in a thread of its own and returns at once; while it runs,
    `on_line` gets each printed line (`on_error_line` each line written to io.stderr),
    and `on_done` the Evaluation at the end. One line runs at a time. All callbacks
    are called from the line's thread.
    """

    def __init__(
        self,
        store: Store,
        *,
        on_line: Callable[[str], None],
        on_error_line: Callable[[str], None],
        on_done: Callable[[Evaluation], None],
        max_memory: int | None = None,
        module_dirs: Sequence[Path] = (),
    ) -> None:
        self.store = store
        self._on_line = on_line
        self._on_error_line = on_error_line
        self._on_done = on_done
        self._max_memory = max_memory
        self._module_dirs = list(module_dirs) or [Path.cwd()]
        self._lock = threading.Lock()
        self._running: int | None = None  # the number of the line running, if any
        self._started = 0.0
        self._ending = False  # the running line is reporting its end
        self._count = 0
        self._generation = 0
        self._thread: threading.Thread | None = None
        self._runtime, self._lines, self._error_lines = self._fresh_runtime()
        self.functions = tuple(self._runtime.state_functions())
        """The names in the `State` table (`set`, `get`...), for completion."""

    def _fresh_runtime(self) -> tuple[LuaStateRuntime, LineSplitter, LineSplitter]:
        generation = self._generation

        def current(emit: Callable[[str], None]) -> Callable[[str], None]:
            # A runtime given up on (see `restart`) may still print: it is not heard.
            def line(text: str) -> None:
                if generation == self._generation:
                    emit(text)

            return line

        lines = LineSplitter(current(self._on_line))
        error_lines = LineSplitter(current(self._on_error_line))
        runtime = LuaStateRuntime(
            self.store,
            source=CONSOLE_SOURCE,
            on_output=lines.write,
            on_error_output=error_lines.write,
            stdin=False,
            max_memory=self._max_memory,
            module_dirs=self._module_dirs,
        )
        return runtime, lines, error_lines

    @property
    def busy(self) -> bool:
        """Whether a line is running."""
        return self._running is not None

    @property
    def count(self) -> int:
        """How many lines have been submitted."""
        return self._count

    def submit(self, text: str) -> int | None:
        """Start running `text`; its number, or None when a line is still running."""
        with self._lock:
            if self._running is not None:
                return None
            self._count = number = self._count + 1
            self._running = number
            self._started = time.perf_counter()
            runtime = self._runtime
            runtime.token.reset()
            generation = self._generation
        self._thread = threading.Thread(
            target=self._run,
            args=(runtime, generation, number, text),
            name=f"stateui console #{number}",
            daemon=True,
        )
        self._thread.start()
        return number

    def cancel(self, reason: str = "cancelled") -> bool:
        """Stop the running line (within milliseconds); False when none is running."""
        with self._lock:
            if self._running is None:
                return False
            self._runtime.token.cancel(reason)
            return True

    def restart(self, reason: str) -> bool:
        """Give up on a running line that does not stop, and start a fresh runtime.

        For a line stuck inside one long call into Lua's C library, which cannot be
        interrupted. The globals the console had are gone. The abandoned line ends as
        cancelled with `reason`; False when no line was running after all.
        """
        with self._lock:
            number = self._running
            if number is None or self._ending:
                return False
            # What it wrote of an unfinished line is shown, as a cancel would.
            self._lines.flush()
            self._error_lines.flush()
            self._generation += 1
            self._running = None
            self._runtime.token.cancel(reason)
            if self._thread is not None:
                demote(self._thread)
            self._runtime, self._lines, self._error_lines = self._fresh_runtime()
            took = time.perf_counter() - self._started
        self._on_done(Evaluation(number, "", RunStatus.CANCELLED, took, reason=reason))
        return True

    def _run(self, runtime: LuaStateRuntime, generation: int, number: int, text: str) -> None:
        started = self._started
        status, shown, error = outcome(
            lambda: self._show_all(runtime, runtime.evaluate(text, CONSOLE_SOURCE))
        )
        results = shown or ()
        with self._lock:
            if generation != self._generation:
                return  # given up on (see `restart`): that ending was reported
            self._ending = True  # too late to give it up now
            lines, error_lines = self._lines, self._error_lines
        lines.flush()
        error_lines.flush()
        reason = runtime.token.reason if status is RunStatus.CANCELLED else ""
        evaluation = Evaluation(
            number, text, status, time.perf_counter() - started, results, error, reason
        )
        # Still busy while the end is reported: the next line's output cannot come
        # before this line's result.
        try:
            self._on_done(evaluation)
        finally:
            with self._lock:
                self._ending = False
                self._running = None

    def _show_all(self, runtime: LuaStateRuntime, values: list[Any]) -> tuple[str, ...]:
        """The values a line gave, formatted, up to about MAX_RESULT_LINES lines in all."""
        shown: list[str] = []
        lines = 0
        for at, value in enumerate(values):
            if lines >= MAX_RESULT_LINES:
                shown.append(f"… {len(values) - at:,} more values")
                break
            text = self._show(runtime, value)
            lines += text.count("\n") + 1
            shown.append(text)
        return tuple(shown)

    def _show(self, runtime: LuaStateRuntime, value: Any) -> str:
        """One value as the console shows it: JSON where it can be, Lua's name otherwise."""
        if isinstance(value, str):
            return orjson.dumps(value).decode()
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float) and math.isfinite(value):
            return orjson.dumps(value).decode()  # as in tables: the shortest exact form
        if value is None or isinstance(value, float):
            return str(runtime.describe(value))  # as Lua writes it: nil, inf, -nan
        name = str(runtime.describe(value))
        if lua_type(value) != "table" or name.startswith("file ("):  # io.stdout's stand-in
            return name
        try:
            data = runtime.convert.to_python(value)
        except StateError as problem:
            return f"{name} (not JSON: {problem})"
        text = orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()
        return _cut(text)


def _cut(text: str) -> str:
    """At most MAX_RESULT_LINES lines of a result, and how many more there were."""
    end = -1
    for _ in range(MAX_RESULT_LINES):
        end = text.find("\n", end + 1)
        if end < 0:
            return text
    hidden = text.count("\n", end + 1) + 1
    return f"{text[:end]}\n… {hidden:,} more lines"
