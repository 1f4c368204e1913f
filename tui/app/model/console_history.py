"""The Lua console's input history, kept in a file across sessions.

Pure Python (no Textual). The file holds one JSON string a line, so an entry may hold
line breaks. Each entry is appended with one write of one whole line, so two sessions
on the same file interleave lines but never mix them.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import orjson
from filelock import FileLock
from platformdirs import user_state_path

LIMIT = 1000
"""Entries kept, newest last."""


def history_path() -> Path | None:
    """Where the console history lives: in the user's state folder for stateui.

    That is platformdirs' user state folder: $XDG_STATE_HOME/stateui (when absolute)
    or ~/.local/state/stateui on Linux, and the platform's own elsewhere. None when
    it is not known (no home folder): the history is then kept in memory.
    """
    try:
        folder = user_state_path("stateui", appauthor=False)
    except RuntimeError:  # platformdirs finds no home folder
        return None
    return folder / "console_history" if folder.is_absolute() else None


class History:
    """Lines typed in the console, oldest first, with a shell-like walk through them.

    `path` None keeps them in memory only. When the file cannot be read or written,
    `problem` says so (the first time only) and the history goes on in memory.
    """

    def __init__(self, path: Path | None, limit: int = LIMIT) -> None:
        self.path = path
        self.limit = max(1, limit)
        self.problem: str | None = None
        self._entries: list[str] = []
        self._file_lines = 0  # lines in the file as far as this session knows
        self._needs_line_break = False  # the file ends in a cut line
        self._position: int | None = None  # index of the entry shown, None when not walking
        self._draft = ""
        if path is not None:
            self._load(path)

    @property
    def entries(self) -> list[str]:
        """The entries, oldest first."""
        return list(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, entry: str) -> None:
        """Keep a line that was run (not a blank one, nor a repeat of the newest)."""
        self.reset()
        if not entry.strip() or (self._entries and self._entries[-1] == entry):
            return
        self._entries.append(entry)
        if len(self._entries) > self.limit:
            del self._entries[: len(self._entries) - self.limit]
        if self.path is not None:
            self._append(self.path, entry)

    def previous(self, draft: str) -> str | None:
        """The entry before the one shown, or None at the oldest.

        The first step remembers `draft`, the line being typed, for `next` to give back.
        """
        if not self._entries:
            return None
        if self._position is None:
            self._draft = draft
            self._position = len(self._entries) - 1
        elif self._position == 0:
            return None
        else:
            self._position -= 1
        return self._entries[self._position]

    def next(self) -> str | None:
        """The entry after the one shown; past the newest, the draft; None when not walking."""
        if self._position is None:
            return None
        if self._position < len(self._entries) - 1:
            self._position += 1
            return self._entries[self._position]
        draft = self._draft
        self.reset()
        return draft

    def reset(self) -> None:
        """Stop walking: the next `previous` starts from the newest entry again."""
        self._position = None
        self._draft = ""

    def _load(self, path: Path) -> None:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return
        except OSError as error:
            self._report(f"cannot read the console history {path}: {error.strerror or error}")
            return
        lines = data.split(b"\n")
        self._needs_line_break = lines[-1] != b""
        self._file_lines = sum(1 for line in lines if line)
        self._entries = _entries(lines)[-self.limit :]

    def _append(self, path: Path, entry: str) -> None:
        try:
            line = orjson.dumps(entry) + b"\n"
        except orjson.JSONEncodeError:  # a lone surrogate, not valid in UTF-8
            self._report(f"cannot save the console history {path}: the line is not valid text")
            return
        if self._needs_line_break:
            line = b"\n" + line
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            with _locked(path):
                descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                try:
                    written = os.write(descriptor, line)  # one write: a whole line or nothing
                finally:
                    os.close(descriptor)
        except OSError as error:
            self._report(f"cannot save the console history {path}: {error.strerror or error}")
            return
        if written < len(line):
            self._report(f"cannot save the console history {path}: the disk may be full")
            return
        self._needs_line_break = False
        self._file_lines += 1
        if self._file_lines > 2 * self.limit:
            self._trim(path)

    def _trim(self, path: Path) -> None:
        """Rewrite the file with its newest `limit` entries, replacing it in one step."""
        temporary: str | None = None
        try:
            # Locked from the read to the replace: another session's line, appended in
            # between, would be lost.
            with _locked(path):
                # Read again: another session may have added lines since this one started.
                kept = _entries(path.read_bytes().split(b"\n"))[-self.limit :]
                descriptor, temporary = tempfile.mkstemp(
                    prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
                )
                with os.fdopen(descriptor, "wb") as file:
                    file.write(b"".join(orjson.dumps(entry) + b"\n" for entry in kept))
                Path(temporary).replace(path)  # os.replace: atomic, readers see old or new
        except OSError as error:
            if temporary is not None:
                Path(temporary).unlink(missing_ok=True)
            self._report(f"cannot shorten the console history {path}: {error.strerror or error}")
            return
        self._file_lines = len(kept)

    def _report(self, problem: str) -> None:
        if self.problem is None:
            self.problem = problem


def _locked(path: Path) -> FileLock:
    """The history's lock (a file beside it), so sessions append and trim in turn."""
    return FileLock(path.with_name(f".{path.name}.lock"), mode=0o600)


def _entries(lines: list[bytes]) -> list[str]:
    """The entries in the file's lines, skipping lines that are not a JSON string."""
    entries: list[str] = []
    for line in lines:
        if not line:
            continue
        try:
            entry = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(entry, str):
            entries.append(entry)
    return entries
