"""Where each write comes from: the Lua file and line, as `jobs/import.lua:42`.

The prelude names the place of a write with one integer, `file << 24 | line`: the file
is numbered once per Lua function (the first time it writes), so that a write costs a
`debug.getinfo` and no string crossing into Python. This turns the number into text.
"""

from __future__ import annotations

import os
from pathlib import Path

LINE_BITS = 24
_LINE_MASK = (1 << LINE_BITS) - 1


class Origins:
    """The files one runtime's writes come from, and the text of each place."""

    def __init__(self) -> None:
        self.script: Path | None = None
        """The script being run: its chunk is named by its file name alone."""
        self.typed: set[str] = set()
        """Names of chunks that are no file (lines typed at the console)."""
        self._files: list[str] = [""]  # number 0: no file (the console, a C function)
        self._numbers: dict[str, int] = {}
        self._texts: dict[int, str] = {0: ""}

    def file_number(self, chunk: object) -> int:
        """The number of a chunk's file, shifted into place; 0 for no file.

        `chunk` is the chunk's name as Lua reports it (`@import.lua`, `@/path/mod.lua`,
        `=stateui console #2`, `=[C]`).
        """
        if not isinstance(chunk, str) or not chunk.startswith("@") or chunk[1:] in self.typed:
            return 0
        number = self._numbers.get(chunk)
        if number is None:
            number = self._numbers[chunk] = len(self._files)
            self._files.append(self._display(chunk[1:]))
        return number << LINE_BITS

    def text(self, place: int) -> str:
        """`path:line` for a place the prelude passed; "" for none."""
        text = self._texts.get(place)
        if text is None:
            number, line = place >> LINE_BITS, place & _LINE_MASK
            file = self._files[number] if 0 <= number < len(self._files) else ""
            text = self._texts[place] = f"{file}:{line}" if file and line > 0 else ""
        return text

    def _display(self, name: str) -> str:
        path = Path(name)
        if self.script is not None and name == self.script.name:
            path = self.script  # a script's chunk is named by its file name alone
        return relative(path)


def relative(path: Path) -> str:
    """`path` relative to the working folder when it is inside it, else absolute."""
    try:
        absolute = path.absolute()
        inside = os.path.relpath(absolute)
    except ValueError:
        return str(path)
    return str(absolute) if inside.startswith("..") else inside
