"""One writer a store file: the owner holds an exclusive lock on the file while it lives.

The lock is an `flock` on the store file itself (SQLite's own locks are of another
kind and do not meet it), so it goes with the process however it ends, `kill -9`
included. The descriptor that holds it is never closed (see `_descriptors`). Who the
owner is (pid and command) is written into the file for others.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
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


# Closing any descriptor of a file drops every POSIX lock the process holds on it,
# SQLite's own included, which corrupts what its other connections believe. So this
# module opens each store file once per process, for the lock, and never closes it.
_descriptors: dict[tuple[int, int], int] = {}
_held: set[tuple[int, int]] = set()
_guard = threading.Lock()


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


def _descriptor(path: Path, *, create: bool) -> tuple[tuple[int, int], int] | None:
    """The file's one descriptor in this process (opened the first time), or None when
    there is no file (and `create` is false)."""
    with _guard:
        identity = _identity(path)
        if identity is not None and identity in _descriptors:
            return identity, _descriptors[identity]
        if identity is None and not create:
            return None
        flags = os.O_RDWR | os.O_CREAT if create else os.O_RDONLY
        descriptor = os.open(path, flags | os.O_CLOEXEC, 0o644)
        stat = os.fstat(descriptor)
        identity = stat.st_dev, stat.st_ino
        if identity in _descriptors:
            # The file was made again between the two looks: this descriptor may not be
            # closed either, so it is kept, and the first one used.
            _descriptors[(identity[0], -descriptor)] = descriptor
            return identity, _descriptors[identity]
        _descriptors[identity] = descriptor
        return identity, descriptor


class Ownership:
    """This process's claim on a store file."""

    def __init__(self, path: Path, identity: tuple[int, int], descriptor: int) -> None:
        self.path = path
        self._identity = identity
        self._descriptor: int | None = descriptor

    @classmethod
    def claim(cls, path: Path) -> Ownership:
        """Become the file's owner (creating the file when missing), or raise StoreBusy."""
        try:
            found = _descriptor(path, create=True)
        except OSError as error:
            raise StateError(f"{path}: {error.strerror}") from None
        assert found is not None
        identity, descriptor = found
        deadline = time.monotonic() + CLAIM_PATIENCE
        while True:
            with _guard:  # one claim at a time in this process: its threads share the lock
                if identity not in _held:
                    try:
                        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        pass
                    else:
                        _held.add(identity)
                        return cls(path, identity, descriptor)
            if time.monotonic() >= deadline:
                raise StoreBusy(path, None)
            time.sleep(0.02)

    def record(self, connection: sqlite3.Connection, command: str) -> None:
        """Write who owns the file into it."""
        info = orjson.dumps({"pid": os.getpid(), "command": command}).decode()
        connection.execute("INSERT OR REPLACE INTO meta VALUES ('owner', ?)", (info,))

    def release(self) -> None:
        if self._descriptor is not None:
            with _guard:
                _held.discard(self._identity)
                fcntl.flock(self._descriptor, fcntl.LOCK_UN)
            self._descriptor = None


def is_owned(path: Path) -> bool:
    """Whether a process (this one included) owns the store file now."""
    try:
        found = _descriptor(path, create=False)
    except OSError:
        return False
    if found is None:
        return False
    identity, descriptor = found
    with _guard:
        if identity in _held:
            return True
        try:
            fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(descriptor, fcntl.LOCK_UN)
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
