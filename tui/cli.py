"""The `stateui` command line."""

from __future__ import annotations

import io
import json
import os
import sys
import threading
import time
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import IO, Any, NoReturn

import click

from tui import __version__
from tui.lua import RunResult, RunStatus, ScriptRun, script_labels
from tui.lua.supervisor import STUCK_GRACE
from tui.state import StateError, Store

USAGE_ERROR = 2
INTERRUPTED = 130


class Output:
    """Writes script output and errors line by line, safely from many run threads."""

    def __init__(self, out: IO[str], err: IO[str], prefixed: bool) -> None:
        self._out, self._err = out, err
        self._prefixed = prefixed
        self._lock = threading.Lock()

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

    def _prefix(self, name: str) -> str:
        return f"[{name}] " if self._prefixed else ""

    def _write(self, stream: IO[str], text: str) -> None:
        with self._lock:
            try:
                stream.write(text)
                stream.flush()
            except (BrokenPipeError, ValueError):
                pass  # the reader went away (a closed pipe or stream); the run goes on


def fail(message: str) -> NoReturn:
    """Stop with a one-line message for a usage error."""
    click.echo(f"stateui: {message}", err=True)
    sys.exit(USAGE_ERROR)


def load_json_file(store: Store, path: Path) -> None:
    """Fill the store from a JSON object file, or stop with a one-line message."""
    try:
        data = path.read_bytes()
    except OSError as error:
        fail(f"--load {path}: {error.strerror or error}")
    try:
        # The standard parser, strict: it keeps integers of any size exact (so that the
        # store can refuse those beyond 64 bits) and refuses NaN and Infinity.
        values: Any = json.loads(data, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}"
        fail(f"--load {path}: invalid JSON: {error.msg} at {where}")
    except UnicodeDecodeError:
        fail(f"--load {path}: invalid JSON: the file is not UTF-8")
    if not isinstance(values, dict):
        fail(f"--load {path}: expected a JSON object of keys and values")
    try:
        store.load(values, source="cli")
    except StateError as error:
        fail(f"--load {path}: {error}")


def _refuse_constant(name: str) -> NoReturn:
    raise json.JSONDecodeError(f"{name} is not valid JSON", name, 0)


def check_scripts(scripts: Sequence[Path]) -> None:
    """Stop with a one-line message when a script cannot be run."""
    for script in scripts:
        if not script.exists():
            fail(f"script not found: {script}")
        if not script.is_file():
            fail(f"not a script file: {script}")


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
    for run in runs:
        run.start()
    try:
        if not wait_all(runs, timeout):
            for run in runs:
                run.cancel(f"timed out after {timeout:g}s")
            wait_all(runs, STUCK_GRACE)
    except KeyboardInterrupt:
        for run in runs:
            run.cancel("interrupted")
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
        output.error(label, f"{label}: {result.reason}")


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
    type=click.FloatRange(min=0, min_open=True),
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
    cancelled or timed out; 2 for a usage error.
    """
    check_scripts(scripts)
    if dump_to not in (None, "-"):
        if not Path(dump_to).parent.is_dir():
            fail(f"--dump {dump_to}: no such folder: {Path(dump_to).parent}")
        if Path(dump_to).is_dir():
            fail(f"--dump {dump_to}: is a folder, not a file")
    store = Store()
    if load_file is not None:
        load_json_file(store, load_file)
    for stream in (sys.stdout, sys.stderr):
        # Whatever the terminal's encoding, a script's text gets through, escaped.
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    output = Output(sys.stdout, sys.stderr, prefixed=len(scripts) > 1)
    try:
        results = run_scripts(
            store,
            scripts,
            output,
            timeout=timeout,
            max_memory=None if max_memory is None else max_memory * 2**20,
        )
    except KeyboardInterrupt:
        sys.exit(INTERRUPTED)
    ok = all(result.status is RunStatus.OK for result in results)
    if dump_to is not None:
        if dump_to == "-":
            sys.stdout.flush()
            sys.stdout.buffer.write(store.dump_json() + b"\n")
            sys.stdout.flush()
        else:
            try:
                store.write_dump(Path(dump_to))
            except OSError as error:
                click.echo(f"stateui: --dump {dump_to}: {error.strerror or error}", err=True)
                ok = False
    sys.exit(0 if ok else 1)


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
        if script.exists() and not script.is_file():
            fail(f"not a script file: {script}")
        if not script.absolute().parent.is_dir():
            fail(f"no such folder: {script.absolute().parent}")
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
