"""Runs one script file in its own thread, with its own runtime, against the shared store."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

from tui.lua.cancel import CancelToken, ScriptCancelled, demote
from tui.lua.errors import ScriptError
from tui.lua.runtime import LuaStateRuntime
from tui.state.store import Store

T = TypeVar("T")


class RunStatus(StrEnum):
    """How a run ended."""

    OK = "ok"
    ERROR = "error"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class RunResult:
    """How a run ended."""

    script: Path
    number: int
    status: RunStatus
    duration: float
    """Seconds from start to end."""
    error: ScriptError | None = None
    reason: str = ""
    """Why a cancelled run was cancelled (`cancelled`, `timed out after 5s`)."""


def outcome(work: Callable[[], T]) -> tuple[RunStatus, T | None, ScriptError | None]:
    """Do a run's work: how it ended, what it gave, and its error (if it failed)."""
    try:
        return RunStatus.OK, work(), None
    except ScriptCancelled:
        return RunStatus.CANCELLED, None, None
    except ScriptError as failure:
        return RunStatus.ERROR, None, failure
    except Exception as failure:  # a bug of ours must still end the run cleanly
        return RunStatus.ERROR, None, ScriptError(f"internal error: {failure!r}")


def module_dirs(script: Path) -> list[Path]:
    """Where `require` looks first: the script's folder, and its target's if a link."""
    folders = [script.absolute().parent]
    real = script.resolve().parent
    if real != folders[0]:
        folders.append(real)
    return folders


MAX_LINE = 64 * 1024
"""Characters a line keeps: a script that writes without newlines cannot fill memory."""
CUT_NOTE = " … (line cut at 64 KiB)"
"""Ends a line that was cut at MAX_LINE; the rest of it, up to its newline, is dropped."""


class LineSplitter:
    """Turns written text into whole lines; `flush` gives out the unfinished last one.

    A line longer than MAX_LINE is emitted at that length, with CUT_NOTE, as soon as
    it gets there; what follows it up to the next newline is dropped.
    """

    def __init__(self, on_line: Callable[[str], None]) -> None:
        self._on_line = on_line
        self._partial: list[str] = []
        self._length = 0  # of the text in _partial
        self._dropping = False  # the current line was cut: drop up to its newline

    def write(self, text: str) -> None:
        """Take text as the script writes it; emit each line it completes."""
        start, size = 0, len(text)
        if size <= MAX_LINE - self._length and not self._dropping:
            # The usual case: no line in it can reach the limit.
            if "\n" not in text:
                if text:
                    self._partial.append(text)
                    self._length += size
                return
            first, *rest = text.split("\n")
            last = rest.pop()
            self._partial.append(first)
            self._emit()
            for line in rest:
                self._on_line(line)
            if last:
                self._partial.append(last)
                self._length = len(last)
            return
        while start < size:
            end = text.find("\n", start)
            if end < 0:
                self._take(text[start:])
                return
            self._take(text[start:end])
            if self._dropping:
                self._dropping = False
            else:
                self._emit()
            start = end + 1

    def _take(self, piece: str) -> None:
        if self._dropping or not piece:
            return
        room = MAX_LINE - self._length
        if len(piece) <= room:
            self._partial.append(piece)
            self._length += len(piece)
            return
        self._partial.append(piece[:room])
        self._partial.append(CUT_NOTE)
        self._emit()
        self._dropping = True

    def _emit(self) -> None:
        line = "".join(self._partial)
        self._partial.clear()
        self._length = 0
        self._on_line(line)

    def flush(self) -> None:
        """Emit what is left of an unfinished line."""
        if self._partial:
            self._emit()
        self._dropping = False


class ScriptRun:
    """One run of one script: a thread, a fresh runtime, a cancel token.

    `on_line` gets each printed line as it happens (`on_error_line` each line written
    to io.stderr; `on_line` too when not given), `on_module` each module file the
    script loads, and `on_done` the result, before `wait` returns; all are called from
    the run's thread. Writes carry the source `NAME#NUMBER` (NAME is the file name
    unless `name` says otherwise). Without `stdin` the
    script reads an empty standard input.
    """

    def __init__(
        self,
        store: Store,
        script: Path,
        *,
        number: int = 1,
        on_line: Callable[[str], None],
        on_error_line: Callable[[str], None] | None = None,
        on_done: Callable[[RunResult], None] | None = None,
        on_module: Callable[[Path], None] | None = None,
        on_wait: Callable[[str | None], None] | None = None,
        stdin: bool = True,
        max_memory: int | None = None,
        name: str | None = None,
    ) -> None:
        self.store = store
        self.script = script
        self.number = number
        self.name = name or script.name
        """What the run's writes are labelled with, before `#NUMBER`."""
        self.token = CancelToken()
        self.result: RunResult | None = None
        self._lines = LineSplitter(on_line)
        self._error_lines = LineSplitter(on_error_line or on_line)
        self._on_done = on_done
        self._on_module = on_module
        self._on_wait = on_wait
        self.waiting: tuple[str, float] | None = None
        """While the run is in `State.wait`: the pattern, and since when (monotonic)."""
        self._stdin = stdin
        self._max_memory = max_memory
        self._done = threading.Event()
        self._finishing = threading.Lock()
        self._started = 0.0
        self._thread = threading.Thread(
            target=self._run, name=f"stateui {self.source}", daemon=True
        )

    @property
    def source(self) -> str:
        """How this run's writes are labelled in the store."""
        return f"{self.name}#{self.number}"

    def start(self) -> ScriptRun:
        """Start the run in its thread."""
        self._thread.start()
        return self

    def cancel(self, reason: str = "cancelled") -> None:
        """Stop the run wherever it is (it ends within milliseconds)."""
        self.token.cancel(reason)

    def wait(self, timeout: float | None = None) -> RunResult | None:
        """Wait for the run to end (`on_done` included); its result, or None on timeout."""
        return self.result if self._done.wait(timeout) else None

    def demote(self) -> bool:
        """Run this run's thread only while the machine is idle (see `cancel.demote`)."""
        return demote(self._thread)

    def abandon(self) -> bool:
        """Give up on a cancelled run that has not stopped, and say so in its result.

        Lua cannot be interrupted inside one long call into its C library; the thread
        is a daemon, so it does not keep the process alive. True when the run was
        abandoned; False when it had ended after all (its own result stands).
        """
        with self._finishing:
            if self.result is not None:
                return False
            self.result = RunResult(
                self.script,
                self.number,
                RunStatus.CANCELLED,
                time.perf_counter() - self._started,
                reason="did not stop: it is inside one long call into Lua's C library "
                "(a string pattern, a sort, io.read), which cannot be interrupted",
            )
        self._done.set()
        return True

    def _waiting(self, pattern: str | None) -> None:
        self.waiting = None if pattern is None else (pattern, time.monotonic())
        if self._on_wait is not None:
            self._on_wait(pattern)

    def _run(self) -> None:
        self._started = started = time.perf_counter()

        def run() -> None:
            runtime = LuaStateRuntime(
                self.store,
                source=self.source,
                on_output=self._lines.write,
                on_error_output=self._error_lines.write,
                on_module=self._on_module,
                on_wait=self._waiting,
                stdin=self._stdin,
                token=self.token,
                max_memory=self._max_memory,
                module_dirs=module_dirs(self.script),
            )
            runtime.run_file(self.script)

        status, _, error = outcome(run)
        for lines in (self._lines, self._error_lines):
            with contextlib.suppress(Exception):  # a failing reader must not lose the result
                lines.flush()
        with self._finishing:
            if self.result is not None:  # abandoned meanwhile: that result stands
                return
            self.result = RunResult(
                self.script,
                self.number,
                status,
                time.perf_counter() - started,
                error,
                self.token.reason if status is RunStatus.CANCELLED else "",
            )
        # on_done runs before `wait` returns, so that whoever waits sees what it did
        # (the CLI's error report must be out before the process exits).
        try:
            if self._on_done is not None:
                self._on_done(self.result)
        finally:
            self._done.set()
