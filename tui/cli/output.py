"""What the scripts print, on standard output and error, from many run threads."""

from __future__ import annotations

import contextlib
import errno
import signal
import threading
from collections.abc import Callable, Iterator
from typing import TextIO

from tui.cli.checks import reason, shown
from tui.lua import RunResult, RunStatus


class Output:
    """Writes script output and errors line by line, safely from many run threads.

    A stream that is closed (`>&-`) or fails (`>/dev/full`) loses what is written to
    it; `lost` then says why standard output could not be written. A reader that went
    away (`| head`) is not an error: what it did not want is dropped quietly.
    """

    def __init__(self, out: TextIO | None, err: TextIO | None, prefixed: bool) -> None:
        self._out, self._err = out, err
        self._prefixed = prefixed
        self._lock = threading.Lock()
        self.lost: str | None = None

    def line(self, name: str, text: str) -> None:
        """One printed line of the script `name`, on standard output."""
        self._write(self._out, self._prefix(name) + text + "\n")

    def error_line(self, name: str, text: str) -> None:
        """One line the script `name` wrote to io.stderr, on standard error."""
        self._write(self._err, self._prefix(name) + text + "\n")

    def error(self, name: str, text: str) -> None:
        """An error of the script `name`, on standard error."""
        prefix = self._prefix(name)
        self._write(self._err, "".join(f"{prefix}{line}\n" for line in text.splitlines()))

    def dump(self, data: bytes) -> None:
        """The store's dump, on standard output after everything printed."""
        with self._lock:
            self._guarded(self._out, lambda stream: stream.buffer.write(data))

    def _prefix(self, name: str) -> str:
        return f"[{shown(name)}] " if self._prefixed else ""

    def _write(self, stream: TextIO | None, text: str) -> None:
        with self._lock:
            self._guarded(stream, lambda stream: stream.write(text))

    def _guarded(self, stream: TextIO | None, write: Callable[[TextIO], object]) -> None:
        try:
            if stream is None:  # Python found the descriptor closed when it started
                raise OSError(errno.EBADF, "it is closed")
            write(stream)
            stream.flush()
        except (BrokenPipeError, ValueError):
            pass  # the reader went away (a closed pipe or stream); the run goes on
        except OSError as error:
            if stream is self._out and self.lost is None:
                self.lost = reason(error)


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived: unwinds like Ctrl-C, so that `finally` cleans up."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextlib.contextmanager
def terminated_by_signals() -> Iterator[None]:
    """Turn the first SIGTERM or SIGHUP into `Terminated` meanwhile; later ones are ignored.

    Without it those signals end the process on the spot: runs are not cancelled and a
    `--dump` file being written is left behind half done.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread can take signals (main() called from a thread)
        return
    signums = [signal.SIGTERM, *([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])]

    def stop(signum: int, frame: object) -> None:
        for each in signums:
            signal.signal(each, signal.SIG_IGN)  # one is enough; cleaning up goes on
        raise Terminated(signum)

    previous = {signum: signal.signal(signum, stop) for signum in signums}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def report(output: Output, label: str, result: RunResult) -> None:
    """Say on standard error how a run failed, as soon as it ends."""
    if result.status is RunStatus.ERROR and result.error is not None:
        output.error(label, result.error.describe())
    elif result.status is RunStatus.CANCELLED:
        output.error(label, f"{shown(label)}: {result.reason}")
