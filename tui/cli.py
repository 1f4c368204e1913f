"""The `stateui` command line."""

from __future__ import annotations

import contextlib
import errno
import io
import json
import math
import os
import re
import signal
import stat
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any, NoReturn, TextIO

import click

from tui import __version__
from tui.lua import RunResult, RunStatus, ScriptRun, script_labels
from tui.lua.supervisor import STUCK_GRACE
from tui.state import StateError, Store
from tui.state.codec import MAX_DEPTH

USAGE_ERROR = 2
INTERRUPTED = 130


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


def fail(message: str) -> NoReturn:
    """Stop with a one-line message for a usage error."""
    click.echo(f"stateui: {message}", err=True)
    sys.exit(USAGE_ERROR)


def shown(path: str | os.PathLike[str]) -> str:
    """A path as a person reads it: bytes that are not UTF-8 as escapes such as `\\xe9`."""
    text = os.fspath(path)
    try:
        raw = os.fsencode(text)
    except UnicodeEncodeError:  # a lone surrogate that did not come from the file system
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return raw.decode("utf-8", "backslashreplace")


def reason(error: OSError) -> str:
    """What the system said went wrong, without the errno and the path."""
    return error.strerror or str(error)


class _Refused(ValueError):
    """A duplicate key, NaN or Infinity met while parsing; `_first_refusal` says where."""


def load_json_file(store: Store, path: Path) -> None:
    """Fill the store from a JSON object file, or stop with a one-line message."""
    name = shown(path)
    too_large = f"--load {name}: the file is too large to load (out of memory)"
    try:
        data = path.read_bytes()
    except OSError as error:
        fail(f"--load {name}: {reason(error)}")
    except MemoryError:
        fail(too_large)
    try:
        text = data.decode(json.detect_encoding(data))
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - data.rfind(b"\n", 0, error.start)  # in bytes
        where = f"byte 0x{data[error.start]:02x} at line {line}, column {column}"
        fail(f"--load {name}: invalid JSON: the file is not UTF-8 ({where})")
    except MemoryError:
        fail(too_large)
    del data
    try:
        # The standard parser, strict: it keeps integers of any size exact (so that the
        # store can refuse those beyond 64 bits) and refuses NaN, Infinity and keys
        # given twice in one object.
        values: Any = json.loads(
            text, parse_constant=_refuse_constant, object_pairs_hook=_unique_keys
        )
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}"
        fail(f"--load {name}: invalid JSON: {error.msg} at {where}")
    except _Refused:
        fail(f"--load {name}: {_first_refusal(text)}")
    except RecursionError:
        fail(f"--load {name}: nested too deeply (a value may be at most {MAX_DEPTH} levels deep)")
    except MemoryError:
        fail(too_large)
    if not isinstance(values, dict):
        fail(f"--load {name}: expected a JSON object of keys and values")
    try:
        store.load(values, source="cli")
    except StateError as error:
        fail(f"--load {name}: {error}")
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


def file_kind(path: Path, what: str) -> str | None:
    """What is at `path`: "file", "folder" or "other"; None when nothing is there.

    Stops with a one-line message when the system will not say (a folder on the way that
    cannot be searched): `what` names the option or argument in that message.
    """
    try:
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as error:
        fail(f"{what}{shown(path)}: {reason(error)}")
    if stat.S_ISREG(mode):
        return "file"
    return "folder" if stat.S_ISDIR(mode) else "other"


def check_scripts(scripts: Sequence[Path]) -> None:
    """Stop with a one-line message when a script cannot be run."""
    for script in scripts:
        kind = file_kind(script, "")
        if kind is None:
            fail(f"script not found: {shown(script)}")
        if kind != "file":
            fail(f"not a script file: {shown(script)}")


def check_dump(dump_to: str) -> None:
    """Stop with a one-line message when `--dump FILE` cannot be written where it says."""
    if not dump_to:
        fail("--dump needs a file name ('-' for standard output)")
    path = Path(dump_to)
    if file_kind(path.parent, "--dump ") != "folder":
        fail(f"--dump {shown(dump_to)}: no such folder: {shown(path.parent)}")
    kind = file_kind(path, "--dump ")
    if kind == "folder":
        fail(f"--dump {shown(dump_to)}: is a folder, not a file")
    folder = Path(os.path.realpath(path)).parent  # where a new file would be written
    if kind != "other" and not os.access(folder, os.W_OK | os.X_OK):  # not /dev/null
        fail(f"--dump {shown(dump_to)}: cannot write in the folder {shown(folder)}")


def run_scripts(
    store: Store,
    scripts: Sequence[Path],
    output: Output,
    *,
    timeout: float | None,
    max_memory: int | None,
) -> list[RunResult]:
    """Run scripts in parallel against one store; their results once all have ended."""
    labels = script_labels(scripts)
    runs = [
        ScriptRun(
            store,
            script,
            name=label,
            on_line=partial(output.line, label),
            on_error_line=partial(output.error_line, label),
            on_done=partial(report, output, label),
            max_memory=max_memory,
        )
        for script, label in zip(scripts, labels, strict=True)
    ]
    try:
        for run in runs:  # in the try: a run may print, and be stopped, before the next starts
            run.start()
        if not wait_all(runs, timeout):
            for run in runs:
                run.cancel(f"timed out after {timeout:g}s")
            wait_all(runs, STUCK_GRACE)
    except (KeyboardInterrupt, Terminated) as stop:
        for run in runs:
            run.cancel("interrupted" if isinstance(stop, KeyboardInterrupt) else "terminated")
        wait_all(runs, STUCK_GRACE)
        raise
    results = []
    for run, label in zip(runs, labels, strict=True):
        abandoned = run.abandon()  # False for a run that ended by itself
        result = run.wait()  # returns once that run's own report is out
        assert result is not None
        if abandoned:
            report(output, label, result)
        results.append(result)
    return results


def wait_all(runs: Sequence[ScriptRun], timeout: float | None) -> bool:
    """Wait for every run to end, at most `timeout` seconds; True when all have ended."""
    deadline = None if timeout is None else time.monotonic() + timeout
    for run in runs:
        while run.wait(0.1) is None:  # short waits keep Ctrl-C responsive
            if deadline is not None and time.monotonic() >= deadline:
                return False
    return True


def report(output: Output, label: str, result: RunResult) -> None:
    """Say on standard error how a run failed, as soon as it ends."""
    if result.status is RunStatus.ERROR and result.error is not None:
        output.error(label, result.error.describe())
    elif result.status is RunStatus.CANCELLED:
        output.error(label, f"{shown(label)}: {result.reason}")


class Seconds(click.ParamType[float]):
    """A length of time in seconds: a number above zero that a clock can reach."""

    name = "seconds"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        """The seconds as a float; a usage error for NaN, infinity, zero or less."""
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        if not math.isfinite(seconds) or seconds <= 0:
            self.fail(f"{value!r} is not a finite number of seconds above 0", param, ctx)
        return seconds


load_option = click.option(
    "--load",
    "load_file",
    type=click.Path(path_type=Path),
    metavar="FILE",
    help="Fill the store from a JSON object {key: value, ...} before the scripts start.",
)
max_memory_option = click.option(
    "--max-memory",
    type=click.IntRange(min=1, max=1_048_576),
    metavar="MB",
    help="Cap each script's Lua memory; going over it is an error.",
)


class Commands(click.Group):
    """The command group, whose help lists each command's whole one-line description."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Write the Commands section; click would cut descriptions short with '...'."""
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=sys.maxsize)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)  # wraps a long description rather than cutting it


@click.group(
    cls=Commands,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name="stateui")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """stateui: see and steer the shared State of Lua scripts.

    With no command, opens the inspector on an empty store (`stateui watch`).
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(watch)


@cli.command()
@click.argument("scripts", nargs=-1, required=True, type=click.Path(path_type=Path))
@load_option
@click.option(
    "--dump",
    "dump_to",
    metavar="FILE|-",
    help="Write the final store as one JSON object with sorted keys ('-' for standard output).",
)
@click.option(
    "--timeout",
    type=Seconds(),
    metavar="SECONDS",
    help="Cancel runs still going after this many seconds.",
)
@max_memory_option
def run(
    scripts: tuple[Path, ...],
    load_file: Path | None,
    dump_to: str | None,
    timeout: float | None,
    max_memory: int | None,
) -> None:
    """Run Lua scripts in parallel against one shared store, without the UI.

    \b
    Exit status: 0 when every script succeeded; 1 when any failed, was
    cancelled or timed out, or the output or the dump could not be written;
    2 for a usage error; 130 after Ctrl-C, 143 after SIGTERM, 129 after SIGHUP.
    """
    check_scripts(scripts)
    if dump_to is not None and dump_to != "-":
        check_dump(dump_to)
    store = Store()
    if load_file is not None:
        load_json_file(store, load_file)
    for stream in (sys.stdout, sys.stderr):
        # Whatever the terminal's encoding, a script's text gets through, escaped.
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    output = Output(sys.stdout, sys.stderr, prefixed=len(scripts) > 1)
    try:
        with terminated_by_signals():
            ok = run_and_dump(store, scripts, output, dump_to, timeout, max_memory)
    except KeyboardInterrupt:
        sys.exit(INTERRUPTED)
    except Terminated as stop:
        sys.exit(128 + stop.signum)
    if output.lost is not None:
        click.echo(
            f"stateui: cannot write to standard output ({output.lost}): the output was lost",
            err=True,
        )
        ok = False
    sys.exit(0 if ok else 1)


def run_and_dump(
    store: Store,
    scripts: Sequence[Path],
    output: Output,
    dump_to: str | None,
    timeout: float | None,
    max_memory: int | None,
) -> bool:
    """Run the scripts, then write the dump; True when all went well."""
    results = run_scripts(
        store,
        scripts,
        output,
        timeout=timeout,
        max_memory=None if max_memory is None else max_memory * 2**20,
    )
    ok = all(result.status is RunStatus.OK for result in results)
    if dump_to is None:
        return ok
    try:
        if dump_to == "-":
            output.dump(store.dump_json() + b"\n")
        else:
            store.write_dump(Path(dump_to))
    except OSError as error:
        click.echo(f"stateui: --dump {shown(dump_to)}: {reason(error)}", err=True)
        return False
    except MemoryError:
        click.echo(f"stateui: --dump {shown(dump_to)}: the store is too large to dump", err=True)
        return False
    return ok


@cli.command()
@click.argument("scripts", nargs=-1, type=click.Path(path_type=Path))
@load_option
@click.option(
    "--delimiter",
    default=":",
    show_default=True,
    metavar="TEXT",
    help="What separates the folders of a key in the key tree.",
)
@click.option("--reset", is_flag=True, help="Empty the store before each run.")
@click.option(
    "--progress-prefix",
    default="progress:",
    show_default=True,
    metavar="TEXT",
    help="The keys the progress panel shows.",
)
@max_memory_option
def watch(
    scripts: tuple[Path, ...] = (),
    load_file: Path | None = None,
    delimiter: str = ":",
    reset: bool = False,
    progress_prefix: str = "progress:",
    max_memory: int | None = None,
) -> None:
    """Open the live inspector; run the scripts, and run each again when it changes.

    \b
    Keys: e edits the selected key as JSON (ctrl+s saves), n makes a new key,
    d deletes a key or a folder, / filters the keys, y copies a value,
    : goes to the Lua console (ctrl+c cancels a line, escape comes back),
    g shows or hides the progress panel (G fills the screen with it),
    p pins a key with numeric current and total to it,
    r reruns the highlighted script (all of them when none is), s stops it,
    q quits, ctrl+p opens the command palette.
    """
    from tui.app.app import StateApp  # Textual loads only for the app
    from tui.app.main_screen import ViewOptions
    from tui.app.session import Session

    if not delimiter:
        fail("--delimiter must not be empty")
    if not progress_prefix:
        fail("--progress-prefix must not be empty")
    for script in scripts:
        if file_kind(script, "") not in (None, "file"):
            fail(f"not a script file: {shown(script)}")
        if file_kind(script.absolute().parent, "") != "folder":
            fail(f"no such folder: {shown(script.absolute().parent)}")
    store = Store()
    if load_file is not None:
        load_json_file(store, load_file)
    session = Session.open(
        store,
        scripts,
        reset=reset,
        max_memory=None if max_memory is None else max_memory * 2**20,
    )
    options = ViewOptions(delimiter=delimiter, progress_prefix=progress_prefix)
    app = StateApp(session, options)
    app.run()
    sys.exit(app.return_code or 0)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: run the CLI, turning usage errors into one-line messages."""
    try:
        cli.main(args=argv, prog_name="stateui", standalone_mode=False)
    except click.UsageError as error:
        command = error.ctx.command_path if error.ctx is not None else "stateui"
        click.echo(f"{command}: {error.format_message()}", err=True)
        sys.exit(USAGE_ERROR)
    except click.ClickException as error:
        click.echo(f"stateui: {error.format_message()}", err=True)
        sys.exit(error.exit_code)
    except click.Abort:
        sys.exit(INTERRUPTED)
    except BrokenPipeError:
        # The reader of our output went away (`stateui run ... | head`): stop quietly,
        # and keep Python from complaining when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
