"""Checks of what was typed on the command line, and the one-line way to refuse it."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

import click

USAGE_ERROR = 2
"""The exit status of a usage error."""


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
