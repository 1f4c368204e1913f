"""One writer a store file: the owner holds an exclusive lock on the file while it lives.

The lock is an `flock` on the store file itself (SQLite's own locks are of another
kind and do not meet it), so it goes with the process however it ends, `kill -9`
included. Who the owner is (pid and command) is written into the file for others.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import orjson

from tui.state.errors import StateError

CLAIM_PATIENCE = 0.3
"""Seconds a would-be owner keeps trying (readers hold the lock for an instant to look)."""


@dataclass(frozen=True)
class Owner:
    pid: int
    command: str

    def __str__(self) -> str:
        return f"process {self.pid} ({self.command})"


class StoreBusy(StateError):
    """Another process owns the store."""

    def __init__(self, path: Path, owner: Owner | None) -> None:
        self.path = path
        self.owner = owner
        who = str(owner) if owner is not None else "another process"
        super().__init__(f"{path} is in use by {who}")


class Ownership:
    """This process's claim on a store file."""

    def __init__(self, path: Path, descriptor: int) -> None:
        self.path = path
        self._descriptor: int | None = descriptor

    @classmethod
    def claim(cls, path: Path) -> Ownership:
        """Become the file's owner (creating the file when missing), or raise StoreBusy."""
        try:
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as error:
            raise StateError(f"{path}: {error.strerror}") from None
        deadline = time.monotonic() + CLAIM_PATIENCE
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return cls(path, descriptor)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(descriptor)
                    raise StoreBusy(path, None) from None
                time.sleep(0.02)

    def record(self, connection: sqlite3.Connection, command: str) -> None:
        """Write who owns the file into it."""
        info = orjson.dumps({"pid": os.getpid(), "command": command}).decode()
        connection.execute("INSERT OR REPLACE INTO meta VALUES ('owner', ?)", (info,))

    def release(self) -> None:
        if self._descriptor is not None:
            os.close(self._descriptor)  # closing lets go of the lock
            self._descriptor = None


def is_owned(path: Path) -> bool:
    """Whether a process owns the store file now."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(descriptor)
    return False


def recorded_owner(value: object) -> Owner | None:
    """The owner as the file records it (the meta row's value), or None."""
    if not isinstance(value, str):
        return None
    try:
        info = orjson.loads(value)
        return Owner(int(info["pid"]), str(info["command"]))
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None
