"""The store file: one SQLite database in WAL mode, marked as stateui's and versioned.

    meta      name -> value: the store's revision, its history setting, its limits, its owner
    entries   key -> value (JSON), version, time, source, origin, expires: the store as it is
    changes   revision -> key, op, value, time, source, origin, created, expires: the log

`origin` is the Lua file and line of a write; `created` marks a set of a key that did
not exist; `expires` is when a key with a TTL expires (seconds since the epoch, 0 for
none). Format 1 had no origin or created, format 2 no expires: a writable connection
adds what its file lacks, and a read-only one reads an older file as having none.

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
SCHEMA_VERSION = 3

# What each older format lacks, added in one transaction when a writer opens it.
_MIGRATIONS = {
    1: """ALTER TABLE entries ADD COLUMN origin TEXT NOT NULL DEFAULT '';
    ALTER TABLE changes ADD COLUMN origin TEXT NOT NULL DEFAULT '';
    ALTER TABLE changes ADD COLUMN created INTEGER NOT NULL DEFAULT 0;""",
    2: """ALTER TABLE entries ADD COLUMN expires REAL NOT NULL DEFAULT 0;
    ALTER TABLE changes ADD COLUMN expires REAL NOT NULL DEFAULT 0;""",
}

_SCHEMA = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value) WITHOUT ROWID;
CREATE TABLE entries (
    key TEXT PRIMARY KEY,
    value BLOB NOT NULL,
    version INTEGER NOT NULL,
    time REAL NOT NULL,
    source TEXT NOT NULL,
    origin TEXT NOT NULL DEFAULT '',
    expires REAL NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE changes (
    revision INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    op TEXT NOT NULL,
    value BLOB,
    time REAL NOT NULL,
    source TEXT NOT NULL,
    origin TEXT NOT NULL DEFAULT '',
    created INTEGER NOT NULL DEFAULT 0,
    expires REAL NOT NULL DEFAULT 0
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
    if version < SCHEMA_VERSION and writable:
        _migrate(connection, path)
    connection.execute("PRAGMA synchronous = NORMAL")


def format_of(connection: sqlite3.Connection) -> int:
    """The store format of a connected file (`PRAGMA user_version`)."""
    return int(connection.execute("PRAGMA user_version").fetchone()[0])


def _migrate(connection: sqlite3.Connection, path: Path) -> None:
    try:
        connection.execute("BEGIN IMMEDIATE")
        version = format_of(connection)  # again: another process may have done it
        while version < SCHEMA_VERSION:
            for statement in _MIGRATIONS[version].split(";"):
                if statement.strip():
                    connection.execute(statement)
            version += 1
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        connection.execute("COMMIT")
    except sqlite3.Error as error:
        if connection.in_transaction:
            connection.rollback()
        raise StoreFileError(f"{path}: cannot upgrade the store: {_reason(error)}") from None


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
