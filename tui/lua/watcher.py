"""Reruns scripts when their files, or the modules they `require`, change on disk."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from watchfiles import awatch

from tui.lua.supervisor import Supervisor

STEP_MS = 50
"""How long the file system must be quiet before a batch of changes is handed over."""

RETRY_SECONDS = 0.5
"""How often to look again for a folder that is not there (yet)."""


def folders_of(files: set[Path]) -> list[Path]:
    """The folders to watch for these files: their parents that exist.

    Editors save by writing a new file and renaming it over the old one, so a watch
    on the file itself goes silent after the first save: watch its folder instead.
    """
    return sorted({file.parent for file in files if file.parent.is_dir()})


async def watch_scripts(
    supervisor: Supervisor, stop: asyncio.Event, *, step: int = STEP_MS
) -> None:
    """Rerun the supervisor's scripts as their files change, until `stop` is set.

    The set of files grows as scripts `require` modules, and folders come and go: it
    is looked at again after every batch of changes, and every half second.
    """
    while not stop.is_set():
        files = supervisor.watched_files()
        folders = folders_of(files)
        supervisor.check_files()
        if not folders:
            await _wait(stop, RETRY_SECONDS)
            continue
        try:
            async for changes in awatch(
                *folders,
                stop_event=stop,
                step=step,
                recursive=False,
                rust_timeout=int(RETRY_SECONDS * 1000),
                yield_on_timeout=True,
            ):
                if changes:
                    supervisor.files_changed(Path(path) for _, path in changes)
                supervisor.check_files()
                if supervisor.watched_files() != files or folders_of(files) != folders:
                    break  # a new module, or a folder came or went: watch the new set
        except (OSError, RuntimeError):
            # A watched folder vanished under the watcher: start over with what is there.
            await _wait(stop, RETRY_SECONDS)


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
