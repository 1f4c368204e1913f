"""`stateui run`: scripts run in parallel against one store, and the dump at the end."""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import partial
from pathlib import Path

import click

from tui.cli.checks import reason, shown
from tui.cli.output import Output, Terminated, report
from tui.lua import RunResult, RunStatus, ScriptRun, script_labels
from tui.lua.supervisor import STUCK_GRACE
from tui.state import Store


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
