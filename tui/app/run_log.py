"""What the runs and the console reported, written as the output pane's lines."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from tui.app.format import format_duration
from tui.app.session import Choices, Echo, Note, Report
from tui.app.widgets.output_log import Look, OutputLog
from tui.lua.console import CONSOLE_SOURCE, Evaluation
from tui.lua.supervisor import Printed, RunEnded, RunStarted, RunStatus, ScriptMissing


def relative_paths(text: str, folder: Path) -> str:
    """Text with the paths under `folder` (where stateui started) written relative to it."""
    prefix = str(folder).rstrip(os.sep) + os.sep
    return text.replace(prefix, "") if prefix in text else text


class RunLog:
    """Writes reports into the output pane: printed lines in batches, runs' starts and
    ends as marks, errors with their traceback, the console's lines and results.

    Paths under `folder` are shown relative to it, as a person typed them.
    """

    def __init__(self, output: OutputLog, folder: Path | None = None) -> None:
        self.output = output
        self.folder = folder or Path.cwd()

    def write(self, reports: Sequence[Report]) -> None:
        """Write the reports, oldest first. A flood of printed lines keeps its newest ones."""
        output = self.output
        printed = sum(isinstance(report, Printed) for report in reports)
        # Half the history for a flood, leaving room for the note and the runs' marks.
        half = output.max_lines // 2
        skip = printed - half if printed > half else 0
        if skip:
            note = f"… {skip:,} lines skipped: they came faster than they can be shown"
            output.write("", [note], Look.MARK)
        # Consecutive lines of one script to one stream are written in one go.
        batch: list[str] = []
        batch_from = ("", False)

        def write_batch() -> None:
            label, stderr = batch_from
            output.write(label, batch, Look.STDERR if stderr else Look.PLAIN)
            batch.clear()

        for report in reports:
            if isinstance(report, Printed):
                if skip:
                    skip -= 1
                    continue
                if (report.label, report.stderr) != batch_from and batch:
                    write_batch()
                batch_from = (report.label, report.stderr)
                batch.append(report.text)
                continue
            if batch:
                write_batch()
            self._write_one(report)
        if batch:
            write_batch()

    def _write_one(self, report: Report) -> None:
        output = self.output
        if isinstance(report, RunStarted):
            output.write(report.label, [f"── run {report.number} started"], Look.MARK)
        elif isinstance(report, RunEnded):
            self._ended(report)
        elif isinstance(report, Evaluation):
            self._evaluated(report)
        elif isinstance(report, ScriptMissing):
            path = self._relative(str(report.path))
            output.write(
                report.label, [f"── {path} is not there: it runs when it appears"], Look.ERROR
            )
        elif isinstance(report, Echo):
            output.write(
                CONSOLE_SOURCE, [f"> {part}" for part in report.text.splitlines()], Look.MARK
            )
        elif isinstance(report, Note):
            output.write(CONSOLE_SOURCE, [report.text], Look.MARK)
        elif isinstance(report, Choices):
            self._choices(report.choices)

    def _ended(self, ended: RunEnded) -> None:
        output, result = self.output, ended.result
        took = format_duration(result.duration)
        if result.status is RunStatus.OK:
            output.write(ended.label, [f"── run {result.number} ok in {took}"], Look.OK)
        elif result.status is RunStatus.ERROR:
            assert result.error is not None
            output.write(ended.label, self._error_lines(result.error.describe()), Look.ERROR)
            output.write(ended.label, [f"── run {result.number} failed after {took}"], Look.ERROR)
        else:
            why = f" ({result.reason})" if result.reason else ""
            line = f"── run {result.number} cancelled{why} after {took}"
            output.write(ended.label, [line], Look.MARK)

    def _evaluated(self, done: Evaluation) -> None:
        output = self.output
        if done.status is RunStatus.OK:
            lines = [line for result in done.results for line in result.splitlines()]
            if lines:
                output.write(CONSOLE_SOURCE, lines)
        elif done.status is RunStatus.ERROR:
            assert done.error is not None
            output.write(CONSOLE_SOURCE, self._error_lines(done.error.describe()), Look.ERROR)
        else:
            why = f" ({done.reason})" if done.reason != "cancelled" else ""
            took = format_duration(done.duration)
            output.write(CONSOLE_SOURCE, [f"── cancelled{why} after {took}"], Look.MARK)

    def _choices(self, choices: Sequence[str]) -> None:
        """Completions side by side, as many to a line as fit."""
        width = max(20, self.output.size.width - 12)
        rows: list[str] = []
        for choice in choices:
            if rows and len(rows[-1]) + 2 + len(choice) <= width:
                rows[-1] += f"  {choice}"
            else:
                rows.append(choice)
        self.output.write(CONSOLE_SOURCE, rows, Look.MARK)

    def _error_lines(self, text: str) -> list[str]:
        return self._relative(text).splitlines()

    def _relative(self, text: str) -> str:
        return relative_paths(text, self.folder)
