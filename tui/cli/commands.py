"""The `stateui` commands: `run` and `watch`, and the entry point."""

from __future__ import annotations

import io
import math
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from tui import __version__
from tui.cli.checks import USAGE_ERROR, check_dump, check_scripts, fail, file_kind, shown
from tui.cli.data import COMMANDS
from tui.cli.load_file import load_json_file
from tui.cli.output import Output, Terminated, terminated_by_signals
from tui.cli.runs import run_and_dump
from tui.cli.stores import (
    history_option,
    limit_changes,
    open_for_watching,
    open_writable,
    store_option,
    sync_option,
    with_limit_options,
)
from tui.state import Store

INTERRUPTED = 130
"""The exit status after Ctrl-C."""

INTERNAL_ERROR = 70
"""The exit status of a bug in stateui itself (EX_SOFTWARE)."""


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
@click.option(
    "--store",
    "store_text",
    metavar="STORE",
    help="The store every command works on (the same as the command's own --store).",
)
@click.pass_context
def cli(ctx: click.Context, store_text: str | None) -> None:
    """stateui: see and steer the shared State of Lua scripts.

    With no command, opens the inspector (`stateui watch`) on an empty store in
    memory, or on the store --store or STATEUI_STORE names.
    """
    if store_text is not None:
        # `stateui --store F get K` is `stateui get --store F K`.
        ctx.default_map = {name: {"store_text": store_text} for name in cli.commands}
    if ctx.invoked_subcommand is None:
        ctx.invoke(watch, store_text=store_text or os.environ.get("STATEUI_STORE"))


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
@store_option
@history_option
@with_limit_options
@sync_option
def run(
    scripts: tuple[Path, ...],
    load_file: Path | None,
    dump_to: str | None,
    timeout: float | None,
    max_memory: int | None,
    store_text: str | None,
    history: int | None,
    max_keys: int | None,
    max_store_mb: float | None,
    when_full: str | None,
    sync: str,
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
    limits = limit_changes(max_keys, max_store_mb, when_full)
    store = open_writable(store_text, history=history, limits=limits, sync=sync)
    try:
        _run(store, scripts, load_file, dump_to, timeout, max_memory)
    finally:
        store.close()  # a file store: everything written is on disk before the exit


def _run(
    store: Store,
    scripts: tuple[Path, ...],
    load_file: Path | None,
    dump_to: str | None,
    timeout: float | None,
    max_memory: int | None,
) -> None:
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
@store_option
@history_option
@with_limit_options
@sync_option
def watch(
    scripts: tuple[Path, ...] = (),
    load_file: Path | None = None,
    delimiter: str = ":",
    reset: bool = False,
    progress_prefix: str = "progress:",
    max_memory: int | None = None,
    store_text: str | None = None,
    history: int | None = None,
    max_keys: int | None = None,
    max_store_mb: float | None = None,
    when_full: str | None = None,
    sync: str = "batch",
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
    writes = bool(scripts) or load_file is not None or reset
    limits = limit_changes(max_keys, max_store_mb, when_full)
    store, follower = open_for_watching(
        store_text, writes=writes, history=history, limits=limits, sync=sync
    )
    try:
        if load_file is not None:
            load_json_file(store, load_file)
    except BaseException:
        store.close()
        raise
    session = Session.open(
        store,
        scripts,
        reset=reset,
        max_memory=None if max_memory is None else max_memory * 2**20,
        follower=follower,
    )
    options = ViewOptions(delimiter=delimiter, progress_prefix=progress_prefix)
    app = StateApp(session, options)

    def terminated(signum: int, frame: object) -> None:
        app.exit(return_code=128 + signum)  # the app stops its runs and closes the store

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, terminated)
    try:
        app.run()
    finally:
        store.close()  # a file store: everything written is on disk before the exit
    sys.exit(app.return_code or 0)


for data_command in COMMANDS:
    cli.add_command(data_command)


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
    except Exception as error:  # a bug of ours: one line for the person, details on request
        if os.environ.get("STATEUI_DEBUG"):
            raise
        what = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        click.echo(f"stateui: internal error ({what}); STATEUI_DEBUG=1 shows where", err=True)
        sys.exit(INTERNAL_ERROR)
