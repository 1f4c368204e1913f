"""Keeps a set of scripts running against one store: runs, reruns, stops, and what happened."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import NamedTuple

from tui.lua.labels import script_labels
from tui.lua.runner import RunResult, RunStatus, ScriptRun
from tui.state.store import Store

STUCK_GRACE = 2.0
"""Seconds a cancelled run gets to stop before its script is marked stuck."""


class ScriptStatus(StrEnum):
    """Where a watched script stands."""

    WAITING = "waiting"
    RUNNING = "running"
    OK = "ok"
    ERROR = "error"
    CANCELLED = "cancelled"
    MISSING = "missing"
    STUCK = "stuck"
    """Cancelled, but inside one long call into Lua's C library: it cannot stop until
    that call ends, and the script is not run again before."""


class RunStarted(NamedTuple):
    """A run of a script began."""

    label: str
    number: int


class Printed(NamedTuple):
    """A run printed a line (written to io.stderr when `stderr`).

    The supervisor says with one too that a run is stuck (`── run 3 is stuck …`).
    """

    label: str
    number: int
    text: str
    stderr: bool = False


class RunEnded(NamedTuple):
    """A run ended (ok, error or cancelled)."""

    label: str
    result: RunResult
    source: str = ""
    """What the run's writes carried as their source (`x.lua#3`)."""


class Waiting(NamedTuple):
    """A run began waiting in `State.wait` for a key matching `pattern`, or stopped
    waiting (`pattern` None)."""

    label: str
    number: int
    pattern: str | None


class ScriptMissing(NamedTuple):
    """A script's file is not there; it runs again when it comes back."""

    label: str
    path: Path


Event = RunStarted | Printed | RunEnded | ScriptMissing | Waiting


@dataclass
class Script:
    """One watched script and its runs so far."""

    path: Path
    label: str
    """Its name in output, lists and write sources (see `script_labels`)."""
    status: ScriptStatus = ScriptStatus.WAITING
    runs: int = 0
    last_duration: float | None = None
    modules: set[Path] = field(default_factory=set)
    """Module files its runs loaded with `require`: changing one reruns the script."""
    run: ScriptRun | None = field(default=None, repr=False)
    rerun: bool = field(default=False, repr=False)
    """Start again as soon as the current run has ended."""

    @property
    def waiting(self) -> tuple[str, float] | None:
        """While its run is in `State.wait`: the pattern, and since when (monotonic)."""
        run = self.run
        return None if run is None else run.waiting

    def files(self) -> set[Path]:
        """The files whose change reruns this script."""
        own = {self.path.absolute(), self.path.resolve()}
        return own | self.modules


class Supervisor:
    """Runs each script in its own thread against `store`, and reruns it when asked.

    Every start, printed line, end and missing file is passed to `on_event`, from
    whichever thread it happens on: it must be quick and must not block. A rerun of
    a running script cancels it and starts the new run once the old one has ended,
    so two runs of one script never overlap: a run that does not stop within
    `stuck_grace` seconds (it is inside one long call into Lua's C library) marks its
    script stuck, and the rerun waits for that call to end. With `reset`, the store is cleared
    before each run. Scripts read an empty standard input unless `stdin` is set (the
    inspector's terminal is not theirs to read).
    """

    def __init__(
        self,
        store: Store,
        paths: Sequence[Path],
        *,
        on_event: Callable[[Event], None],
        reset: bool = False,
        max_memory: int | None = None,
        stuck_grace: float = STUCK_GRACE,
        stdin: bool = False,
    ) -> None:
        self.store = store
        self.scripts = [
            Script(path, label) for path, label in zip(paths, script_labels(paths), strict=True)
        ]
        self._by_label = {script.label: script for script in self.scripts}
        self._on_event = on_event
        self._reset = reset
        self._max_memory = max_memory
        self._stuck_grace = stuck_grace
        self._stdin = stdin
        self._lock = threading.RLock()
        self._closed = False

    def script(self, label: str) -> Script:
        """The script called `label`."""
        return self._by_label[label]

    def start_all(self) -> None:
        """Run every script (the missing ones are reported as missing)."""
        self.rerun(None)

    def rerun(self, label: str | None) -> None:
        """Run a script again (every script for None), cancelling a run in progress."""
        with self._lock:
            for script in self._select(label):
                self._restart(script)

    def stop(self, label: str | None) -> None:
        """Cancel the running run of a script (of every script for None)."""
        with self._lock:
            for script in self._select(label):
                script.rerun = False
                self._cancel(script, "stopped")

    def files_changed(self, paths: Iterable[Path]) -> list[str]:
        """Rerun the scripts that depend on any of these files; their labels."""
        changed = {path.absolute() for path in paths}
        hit: list[str] = []
        with self._lock:
            for script in self.scripts:
                if script.files() & changed:
                    hit.append(script.label)
                    self._restart(script)
        return hit

    def check_files(self) -> list[str]:
        """Run the missing scripts whose file is back, and mark missing those whose file
        went; their labels.

        For what file events cannot tell: when a watched folder is deleted, or made
        again, its files' events can be lost with it.
        """
        found: list[str] = []
        with self._lock:
            for script in self.scripts:
                missing = script.status is ScriptStatus.MISSING
                if missing == script.path.is_file():
                    found.append(script.label)
                    self._restart(script)
        return found

    def watched_files(self) -> set[Path]:
        """Every file whose change reruns a script."""
        with self._lock:
            return set().union(*(script.files() for script in self.scripts))

    def close(self, timeout: float = 1.0) -> None:
        """Cancel every run and give them `timeout` seconds in all to end.

        Runs that have not ended by then are abandoned (their threads do not keep
        the process alive). A second call returns at once.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
            stopping = [(script, script.run) for script in self.scripts if script.run is not None]
            for script in self.scripts:
                script.rerun = False
        for _, run in stopping:
            run.cancel("stateui is closing")
        deadline = time.monotonic() + timeout
        for script, run in stopping:
            if run.wait(max(0.0, deadline - time.monotonic())) is None:
                self._abandon(script, run)

    # -- inside ------------------------------------------------------------------

    def _select(self, label: str | None) -> list[Script]:
        return self.scripts if label is None else [self._by_label[label]]

    def _restart(self, script: Script) -> None:
        if script.run is not None:
            script.rerun = True
            self._cancel(script, "restarted")
        else:
            self._start(script)

    def _start(self, script: Script) -> None:
        if self._closed:
            return
        if not script.path.is_file():
            script.status = ScriptStatus.MISSING
            self._on_event(ScriptMissing(script.label, script.path))
            return
        if self._reset:
            self.store.clear("", source="reset")
        script.runs += 1
        script.status = ScriptStatus.RUNNING
        label, number = script.label, script.runs
        script.run = ScriptRun(
            self.store,
            script.path,
            number=number,
            on_line=lambda text: self._on_event(Printed(label, number, text)),
            on_error_line=lambda text: self._on_event(Printed(label, number, text, stderr=True)),
            on_done=lambda result: self._ended(script, result),
            on_module=lambda path: self._module_loaded(script, path),
            on_wait=lambda pattern: self._on_event(Waiting(label, number, pattern)),
            stdin=self._stdin,
            max_memory=self._max_memory,
            name=label,
        )
        self._on_event(RunStarted(label, number))
        script.run.start()

    def _cancel(self, script: Script, reason: str) -> None:
        run = script.run
        if run is None or run.token.cancelled:
            return
        run.cancel(reason)
        timer = threading.Timer(self._stuck_grace, self._check_stuck, (script, run))
        timer.daemon = True
        timer.start()

    def _check_stuck(self, script: Script, run: ScriptRun) -> None:
        # The run is not abandoned: its thread would go on burning a core while a new
        # run started beside it, once per save. It stays the script's run, and its own
        # end (`_ended`) starts the rerun asked for meanwhile.
        with self._lock:
            if self._closed or script.run is not run or run.result is not None:
                return
            script.status = ScriptStatus.STUCK
            then = (
                "it will be run again once that call ends"
                if script.rerun
                else "it ends when that call does"
            )
            idle = "; meanwhile it runs only when the CPU is otherwise idle" if run.demote() else ""
            text = (
                f"── run {run.number} is stuck in one long call into Lua's C library "
                f"and cannot be stopped; {then}{idle}"
            )
            self._on_event(Printed(script.label, run.number, text, stderr=True))

    def _module_loaded(self, script: Script, path: Path) -> None:
        # Called from the run's thread as soon as `require` finds the file, so that a
        # script that runs for hours is rerun when its modules change too.
        with self._lock:
            script.modules.update((path.absolute(), path.resolve()))

    def _abandon(self, script: Script, run: ScriptRun) -> None:
        if run.abandon():
            assert run.result is not None
            self._ended(script, run.result)

    def _ended(self, script: Script, result: RunResult) -> None:
        with self._lock:
            if script.run is None or script.run.number != result.number:
                return  # an abandoned run that ended after all: its end was reported
            source, script.run = script.run.source, None
            script.last_duration = result.duration
            script.status = ScriptStatus(result.status.value)
            self._on_event(RunEnded(script.label, result, source))
            if script.rerun:
                script.rerun = False
                self._start(script)


__all__ = [
    "Event",
    "Printed",
    "RunEnded",
    "RunStarted",
    "RunStatus",
    "Script",
    "ScriptMissing",
    "ScriptStatus",
    "Supervisor",
    "Waiting",
]
