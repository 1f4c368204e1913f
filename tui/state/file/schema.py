"""The store file: one SQLite database in WAL mode, marked as stateui's and versioned.

    meta      name -> value: the store's revision, its history setting, its owner
    entries   key -> value (JSON), version, time, source: the store as it is
    changes   revision -> key, op, value, time, source: the change log (the history)

A file is recognised by its `application_id`; its `user_version` is the schema's. A
file that is not stateui's is refused before anything is written to it, so its bytes
stay as they were.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from tui.state.errors import StateError

APPLICATION_ID = 0x53545549  # "STUI"
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value) WITHOUT ROWID;
CREATE TABLE entries (
    key TEXT PRIMARY KEY,
    value BLOB NOT NULL,
    version INTEGER NOT NULL,
    time REAL NOT NULL,
    source TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE changes (
    revision INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    op TEXT NOT NULL,
    value BLOB,
    time REAL NOT NULL,
    source TEXT NOT NULL
);
CREATE INDEX changes_by_key ON changes (key, revision);
"""


class StoreFileError(StateError):
    """The file cannot be used as a store (not one, a newer one, unreadable)."""


def _uri(path: Path, mode: str) -> str:
    return f"{path.absolute().as_uri()}?mode={mode}"


def connect(path: Path, *, writable: bool) -> sqlite3.Connection:
    """A connection to a store file, checked; a writable one creates the file when missing.

    Raises StoreFileError for a file that is not a stateui store, or one a newer stateui
    made, before anything is written to it.
    """
    try:
        connection = sqlite3.connect(
            _uri(path, "rwc" if writable else "ro"),
            uri=True,
            check_same_thread=False,
            isolation_level=None,  # transactions are begun and committed explicitly
            timeout=5.0,
        )
    except sqlite3.Error as error:
        raise StoreFileError(f"{path}: {_reason(error)}") from None
    try:
        _check(connection, path, writable)
    except BaseException:
        connection.close()
        raise
    return connection


def _check(connection: sqlite3.Connection, path: Path, writable: bool) -> None:
    try:
        application = connection.execute("PRAGMA application_id").fetchone()[0]
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        tables = connection.execute("SELECT count(*) FROM sqlite_schema").fetchone()[0]
    except sqlite3.DatabaseError as error:
        raise StoreFileError(f"{path} is not a stateui store ({_reason(error)})") from None
    if application != APPLICATION_ID:
        if application != 0 or tables:
            raise StoreFileError(
                f"{path} is not a stateui store (an SQLite database of something else)"
            )
        if not writable:
            raise StoreFileError(f"{path} is not a stateui store yet (it is empty)")
        _create(connection, path)
        return
    if version > SCHEMA_VERSION:
        raise StoreFileError(
            f"{path} was made by a newer stateui (store format {version}; this stateui "
            f"reads format {SCHEMA_VERSION} and older): upgrade stateui to open it"
        )
    connection.execute("PRAGMA synchronous = NORMAL")


def _create(connection: sqlite3.Connection, path: Path) -> None:
    try:
        connection.execute("PRAGMA journal_mode = WAL")
        connection.executescript(
            f"""BEGIN IMMEDIATE;
            {_SCHEMA}
            PRAGMA application_id = {APPLICATION_ID};
            PRAGMA user_version = {SCHEMA_VERSION};
            INSERT INTO meta VALUES ('revision', 0);
            COMMIT;"""
        )
    except sqlite3.Error as error:
        if connection.in_transaction:
            connection.rollback()
        raise StoreFileError(f"{path}: cannot create the store: {_reason(error)}") from None
    connection.execute("PRAGMA synchronous = NORMAL")


def _reason(error: sqlite3.Error) -> str:
    text = str(error)
    if text == "unable to open database file":
        return "cannot open the file (no such folder, or no permission)"
    return text


def file_size(path: Path) -> int:
    """The bytes the store takes on disk: the file and its write-ahead log."""
    total = 0
    for suffix in ("", "-wal"):
        with contextlib.suppress(OSError):
            total += Path(f"{path}{suffix}").stat().st_size
    return total
