"""Reruns scripts when their files, or the modules they `require`, change on disk."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from pathlib import Path

from watchfiles import awatch

from tui.lua.supervisor import Supervisor

STEP_MS = 50
"""How long the file system must be quiet before a batch of changes is handed over."""

RETRY_SECONDS = 0.5
"""How often to look again for a folder that is not there (yet), or to restart a
watcher that failed."""

Signature = tuple[int, int, int] | None
"""A file's inode, size and modification time; None when it is not there."""


def folders_of(files: set[Path]) -> list[Path]:
    """The folders to watch for these files: their parents that exist and can be read.

    Editors save by writing a new file and renaming it over the old one, so a watch
    on the file itself goes silent after the first save: watch its folder instead.
    A folder whose name is not UTF-8 is left out (watchfiles cannot take it): its
    files are looked at every half second instead.
    """
    return sorted({file.parent for file in files if _watchable(file.parent)})


def signatures(files: set[Path]) -> dict[Path, Signature]:
    """What each file looks like now, to find the changes a failed watcher missed."""
    return {file: _signature(file) for file in files}


async def watch_scripts(
    supervisor: Supervisor,
    stop: asyncio.Event,
    *,
    step: int = STEP_MS,
    retry: float = RETRY_SECONDS,
    on_stopped: Callable[[str], None] | None = None,
    on_resumed: Callable[[], None] | None = None,
) -> None:
    """Rerun the supervisor's scripts as their files change, until `stop` is set.

    The set of files grows as scripts `require` modules, and folders come and go: it
    is looked at again after every batch of changes, and every half second. When the
    file watcher itself fails (watchfiles cannot, for one, name a file whose name is
    not UTF-8), it is started again after `retry` seconds, and the scripts whose
    files changed meanwhile are rerun; `on_stopped` is told why once, and
    `on_resumed` once it works again.
    """
    files = supervisor.watched_files()
    seen = signatures(files)
    failure: str | None = None
    while not stop.is_set():
        files = supervisor.watched_files()
        folders = folders_of(files)
        places = _identities(folders)
        polled = {file for file in files if file.parent not in places}
        supervisor.check_files()
        seen = _catch_up(supervisor, seen)
        if not folders:
            await _wait(stop, retry)
            continue
        try:
            async for changes in awatch(
                *folders,
                stop_event=stop,
                step=step,
                recursive=False,
                rust_timeout=int(RETRY_SECONDS * 1000),
                yield_on_timeout=True,
                ignore_permission_denied=True,
            ):
                if failure is not None:
                    failure = None
                    if on_resumed is not None:
                        on_resumed()
                paths = {Path(path) for _, path in changes}
                if paths:
                    supervisor.files_changed(paths)
                supervisor.check_files()
                seen = _catch_up(supervisor, seen, polled, paths)
                if (
                    supervisor.watched_files() != files
                    or _moved(files, places)
                    or not paths.isdisjoint(folders)  # deleted (and maybe made again)
                ):
                    break  # a new module, or a folder came, went or was made again
        except Exception as error:  # whatever the file system does, watching goes on
            if not _moved(files, places) and failure is None:
                # The folders are all there: the watcher broke, not the file system.
                failure = _reason(error)
                if on_stopped is not None:
                    on_stopped(failure)
            await _wait(stop, retry)


def _catch_up(
    supervisor: Supervisor,
    seen: dict[Path, Signature],
    only: set[Path] | None = None,
    handled: set[Path] | frozenset[Path] = frozenset(),
) -> dict[Path, Signature]:
    # Rerun the scripts of the files (of `only` those) that changed while no watcher
    # listened; what the files look like now. Files that came or went are for
    # `check_files`, and the rest is for the watcher's events.
    now = signatures(supervisor.watched_files())
    changed = [
        file
        for file, before in seen.items()
        if (only is None or file in only)
        and before is not None
        and now.get(file) is not None
        and now[file] != before
    ]
    if changed:
        supervisor.files_changed(changed)
    if only is None:
        return now
    # A file left to the events keeps the look it had when last caught up with, until
    # an event for it is handled: if its events are lost (its folder made again), the
    # next full catch-up still sees that it changed.
    return {
        file: signature if file in only or file in handled or file not in seen else seen[file]
        for file, signature in now.items()
    }


def _identities(folders: list[Path]) -> dict[Path, tuple[int, int] | None]:
    # A folder deleted and made again under the same name is a new folder to watch.
    found: dict[Path, tuple[int, int] | None] = {}
    for folder in folders:
        try:
            stat = folder.stat()
        except OSError:
            found[folder] = None
        else:
            found[folder] = stat.st_dev, stat.st_ino
    return found


def _moved(files: set[Path], places: dict[Path, tuple[int, int] | None]) -> bool:
    folders = folders_of(files)
    return list(places) != folders or _identities(folders) != places


def _watchable(folder: Path) -> bool:
    try:
        str(folder).encode()
    except UnicodeEncodeError:  # a name that is not UTF-8, held in surrogates
        return False
    return folder.is_dir() and os.access(folder, os.R_OK | os.X_OK)


def _signature(file: Path) -> Signature:
    try:
        stat = file.stat()
    except OSError:
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


def _reason(error: BaseException) -> str:
    # watchfiles runs in a task group: the error that counts is inside the group.
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return str(error) or type(error).__name__


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
