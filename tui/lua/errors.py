"""The error family of script runs."""

from __future__ import annotations

import re
from dataclasses import dataclass

_LOCATION = re.compile(r"^(?P<file>[^\n:]+):(?P<line>\d+): ")
_TRACEBACK = "\nstack traceback:\n"


def _is_internal(frame: str) -> bool:
    # Frames of stateui's own prelude say nothing about the user's script.
    frame = frame.strip()
    return frame.startswith("stateui:") or "'raw_xpcall'" in frame or frame == "[C]: in ?"


@dataclass
class ScriptError(Exception):
    """A script failed: a Lua error, a syntax error, running out of memory, a bad file.

    `message` is the first line as Lua writes it (`script.lua:3: boom`), `traceback`
    the Lua stack traceback when there is one.
    """

    message: str
    traceback: str = ""

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    @property
    def file(self) -> str | None:
        """The file the error points at, when it names one."""
        match = _LOCATION.match(self.message)
        return match["file"] if match else None

    @property
    def line(self) -> int | None:
        """The line the error points at, when it names one."""
        match = _LOCATION.match(self.message)
        return int(match["line"]) if match else None

    @classmethod
    def from_lua(cls, text: str) -> ScriptError:
        """Split Lua's error text into the message and its traceback."""
        message, _, traceback = text.partition(_TRACEBACK)
        frames = [line for line in traceback.splitlines() if not _is_internal(line)]
        return cls(message.strip(), "\n".join(frames))

    def describe(self) -> str:
        """The message and, indented below it, the traceback."""
        if not self.traceback:
            return self.message
        return f"{self.message}\nstack traceback:\n{self.traceback}"
