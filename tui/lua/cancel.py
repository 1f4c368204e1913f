"""Stopping a running script from another thread: cancellation and `os.exit`."""

from __future__ import annotations

import os
import threading


class ScriptCancelled(Exception):
    """Raised inside a run to unwind it once it has been cancelled."""


class ScriptExit(Exception):
    """Raised inside a run to unwind it after the script called `os.exit`."""


class CancelToken:
    """A flag one thread sets and a running script checks (from its Lua hook)."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.stopping = False
        """The same as `cancelled`, as a plain attribute for the hot paths."""
        self.reason = ""
        """Why the run was cancelled, for the person reading the result."""
        self.exit_code: int | None = None
        """Set when the script asked to exit with `os.exit`."""

    @property
    def cancelled(self) -> bool:
        """Whether the run must stop."""
        return self._event.is_set()

    def cancel(self, reason: str = "cancelled") -> None:
        """Ask the run to stop as soon as it next checks (within milliseconds)."""
        if not self._event.is_set():
            self.reason = reason
            self.stopping = True
            self._event.set()

    def reset(self) -> None:
        """Arm the token again for the next run of a runtime that runs many (the console).

        Only between runs: nothing may be checking it meanwhile.
        """
        self._event.clear()
        self.stopping = False
        self.reason = ""
        self.exit_code = None

    def request_exit(self, code: int) -> None:
        """Record an `os.exit(code)` and stop the run (a run already cancelled stays so)."""
        if not self._event.is_set():
            self.exit_code = code
            self.cancel("exited")

    def check(self) -> None:
        """Raise the matching exception when the run must stop."""
        if self._event.is_set():
            raise ScriptExit() if self.exit_code is not None else ScriptCancelled(self.reason)

    def sleep(self, seconds: float) -> None:
        """Wait `seconds`, waking at once to raise if the run is stopped meanwhile."""
        if self._event.wait(seconds):
            self.check()


def demote(thread: threading.Thread) -> bool:
    """Let a thread that cannot be stopped run only while the machine is otherwise idle.

    For a run stuck inside one long call into Lua's C library: Linux's SCHED_IDLE
    policy for that one thread, so that it takes no CPU time that anything else wants.
    False where that is not available (another system, or the thread has ended).
    """
    tid = thread.native_id
    policy = getattr(os, "SCHED_IDLE", None)
    if tid is None or policy is None or not thread.is_alive():
        return False
    try:
        os.sched_setscheduler(tid, policy, os.sched_param(0))
    except OSError:
        return False
    return True
