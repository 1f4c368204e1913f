"""The data commands: read and change a file or Redis store from the shell.

get, set, del, ttl, keys, export, import, history, log, backup, restore, info. Each works on
the store `--store` (or STATEUI_STORE) names. Those that only read open the file
read-only, beside an owner that is writing it; those that write become its owner for
the moment they take.
"""

from __future__ import annotations

import contextlib
import sqlite3
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click
import orjson

from tui.cli.checks import fail, reason, shown
from tui.cli.load_file import load_json_file, parse_json
from tui.cli.stores import needs_store, open_reading, open_writable, store_option, store_path
from tui.state import Change, Entry, Op, StateError, Store
from tui.state.codec import decode
from tui.state.expiry import check_ttl, seconds_left
from tui.state.file import Row, StoreFile, current_owner, file_size, limits_of
from tui.state.file.copy import write_copy
from tui.state.file.schema import SCHEMA_VERSION, StoreFileError, connect
from tui.state.key_filter import KeyFilter
from tui.state.keys import check_key
from tui.state.limits import Limits, megabytes
from tui.state.past import Past
from tui.state.redis.scripts import FORMAT as REDIS_FORMAT
from tui.state.redis.scripts import stream_length
from tui.state.store import dump_json, write_whole

if TYPE_CHECKING:
    from tui.state.redis.reader import RedisReader

CLI_SOURCE = "cli"
"""The source of the writes these commands make."""

VALUE_WIDTH = 60
"""Characters of a value shown on one line of `history` and `log`."""

_MAX_INT = 2**63 - 1
"""The largest revision or count SQLite holds."""

FOLLOW_POLL = 0.1
"""Seconds between two looks at the file for `log --follow`."""


def _pretty(data: bytes) -> str:
    return dump_json(decode(data)).decode()


def _short(data: bytes | None) -> str:
    if data is None:
        return "-"
    text = data.decode("utf-8", "backslashreplace")
    return text if len(text) <= VALUE_WIDTH else text[: VALUE_WIDTH - 1] + "…"


def _local(when: float) -> str:
    return datetime.fromtimestamp(when).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def _key(key: str) -> str:
    try:
        return check_key(key)
    except StateError as error:
        fail(str(error))


@click.command("get")
@click.argument("key")
@store_option
def get(key: str, store_text: str | None) -> None:
    """Print the value of KEY as JSON (exit 1 when there is no such key)."""
    click.echo(_pretty(_entry(store_text, "get", key).value))


def _entry(store_text: str | None, command: str, key: str) -> Entry:
    """The entry of `key` in the store; exit 1 saying so when there is none."""
    _key(key)
    reader = open_reading(store_text, command)
    try:
        entry = reader.entry(key)
    finally:
        reader.close()
    if entry is None:
        click.echo(f"no key {key}", err=True)
        sys.exit(1)
    return entry


@click.command("set", context_settings={"ignore_unknown_options": True})
@click.argument("key")
@click.argument("value", metavar="JSON")
@click.option(
    "--ttl",
    type=float,
    metavar="SECONDS",
    help="Make the key expire after this many seconds (without it, the key is permanent).",
)
@store_option
def set_(key: str, value: str, ttl: float | None, store_text: str | None) -> None:
    """Set KEY to the JSON value given ('-' reads it from standard input)."""
    _key(key)
    if ttl is not None:
        try:
            check_ttl(ttl)
        except StateError as error:
            fail(f"--ttl: {error}")
    needs_store(store_text, "set")
    data = sys.stdin.buffer.read() if value == "-" else value.encode("utf-8", "surrogateescape")
    parsed = parse_json(data, f"set {key}")
    if parsed is None:
        fail(f"set {key}: null cannot be stored (`stateui del {key}` deletes the key)")
    store = open_writable(store_text)
    try:
        store.set(key, parsed, source=CLI_SOURCE, ttl=ttl)
    except StateError as error:
        store.close()
        fail(f"set {key}: {error}")
    store.close()  # everything written is in the file


@click.command("ttl")
@click.argument("key")
@store_option
def ttl(key: str, store_text: str | None) -> None:
    """Print the seconds KEY has left before it expires, or `none` when it has no TTL
    (exit 1 when there is no such key)."""
    entry = _entry(store_text, "ttl", key)
    click.echo("none" if not entry.expires else f"{seconds_left(entry.expires, time.time()):.3f}")


@click.command("del")
@click.argument("keys", nargs=-1, required=True)
@store_option
def delete(keys: tuple[str, ...], store_text: str | None) -> None:
    """Delete the KEYS; print how many there were."""
    for key in keys:
        _key(key)
    needs_store(store_text, "del")
    store = open_writable(store_text)
    try:
        gone = store.delete_many(keys, source=CLI_SOURCE)
    finally:
        store.close()  # everything written is in the file
    click.echo(gone)


@click.command("keys")
@click.argument("pattern", required=False, default="")
@store_option
def keys(pattern: str, store_text: str | None) -> None:
    """Print the keys, sorted, one a line: those PATTERN matches (a glob, or text)."""
    reader = open_reading(store_text, "keys")
    try:
        found = reader.keys()
    finally:
        reader.close()
    chosen = KeyFilter.parse(pattern)
    lines = [key for key in found if chosen is None or chosen(key)]
    if lines:
        click.echo("\n".join(lines))


@click.command("export")
@click.argument("target", required=False, default="-", metavar="[FILE|-]")
@click.option(
    "--at",
    type=click.IntRange(min=0, max=_MAX_INT),
    metavar="REVISION",
    help="The store as it was just after REVISION (as far back as history is kept).",
)
@store_option
def export(target: str, at: int | None, store_text: str | None) -> None:
    """Write the store as one JSON object, keys sorted (the --dump format)."""
    reader = open_reading(store_text, "export")
    encoded: dict[str, bytes] = {}
    try:
        revision = reader.scan(lambda rows: encoded.update((row[0], row[1]) for row in rows))
        if at is not None:
            try:
                encoded = Past(reader.versions, reader.since).values_at(encoded, revision, at)
            except StateError as error:
                fail(f"export --at {at}: {error}")
    finally:
        reader.close()
    data = dump_json({key: decode(value) for key, value in encoded.items()}) + b"\n"
    if target == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    try:
        write_whole(Path(target), data)
    except OSError as error:
        fail(f"export {shown(target)}: {reason(error)}")


@click.command("import")
@click.argument("source", type=click.Path(path_type=Path), metavar="FILE")
@click.option("--replace", is_flag=True, help="Delete every key first.")
@store_option
def import_(source: Path, replace: bool, store_text: str | None) -> None:
    """Set the keys of a JSON object file (the --dump format) in the store."""
    needs_store(store_text, "import")
    store = open_writable(store_text)
    try:
        before = len(store)
        if replace:
            scratch = Store()
            load_json_file(scratch, source, "import")  # checked whole before anything goes
            store.clear("", source=CLI_SOURCE)
            store.load(scratch.snapshot(), source=CLI_SOURCE)
            count = len(scratch)
        else:
            load_json_file(store, source, "import")
            count = len(store) - before
        total = len(store)
    finally:
        store.close()  # everything written is in the file
    click.echo(f"imported {source}: {total:,} keys in the store ({count:+,})")


@click.command("history")
@click.argument("key")
@click.option(
    "--limit", type=click.IntRange(min=1, max=_MAX_INT), metavar="N", help="At most N versions."
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object a version.")
@store_option
def history(key: str, limit: int | None, as_json: bool, store_text: str | None) -> None:
    """Print the kept versions of KEY, newest first."""
    _key(key)
    reader = open_reading(store_text, "history")
    try:
        kept = reader.meta("history")
        versions = reader.versions(key, limit)
    finally:
        reader.close()
    if kept is not None and int(kept) == 0:
        fail(f"history {key}: this store keeps no history (it was opened with --history 0)")
    if not versions:
        click.echo(f"no history of {key}", err=True)
        sys.exit(1)
    for change in versions:
        if as_json:
            click.echo(orjson.dumps(_as_json(change)).decode())
        else:
            click.echo(_line(change, with_key=False))


def _as_json(change: Change) -> dict[str, object]:
    return {
        "version": change.version,
        "time": change.time,
        "source": change.source,
        "origin": change.origin or None,
        "op": change.op.value,
        "key": change.key,
        "value": None if change.value is None else decode(change.value),
    }


def _line(change: Change, *, with_key: bool) -> str:
    """A line of `log` (revision, time, op, key, source, file:line, value) or of
    `history` (version, time, source, file:line, op, value); `-` for no file:line."""
    value = _short(change.value if change.op is Op.SET else None)
    when = _local(change.time)
    origin = change.origin or "-"
    if with_key:
        op = f"{change.op.value:<6}"
        parts = [f"{change.version:>8}", when, op, change.key, change.source, origin]
    else:
        parts = [f"{change.version:>8}", when, change.source, origin, f"{change.op.value:<6}"]
    return "  ".join([*parts, value])


@click.command("log")
@click.option("--since", type=click.IntRange(min=0, max=_MAX_INT), default=0, metavar="REVISION")
@click.option("--key", "pattern", default="", metavar="PATTERN", help="Only keys it matches.")
@click.option("--follow", is_flag=True, help="Keep printing changes as they come.")
@store_option
def log(since: int, pattern: str, follow: bool, store_text: str | None) -> None:
    """Print the change log, oldest first: revision, time, op, key, source, file:line,
    value."""
    reader = open_reading(store_text, "log")
    chosen = KeyFilter.parse(pattern)
    try:
        revision = _print_changes(reader, since, chosen)
        while follow:
            time.sleep(FOLLOW_POLL)
            revision = _print_changes(reader, revision, chosen)
    except KeyboardInterrupt:
        sys.exit(130)
    finally:
        reader.close()


def _print_changes(reader: StoreFile | RedisReader, since: int, chosen: KeyFilter | None) -> int:
    while changes := reader.since(since, 10_000):
        lines = [_line(c, with_key=True) for c in changes if chosen is None or chosen(c.key)]
        if lines:
            click.echo("\n".join(lines))
        since = changes[-1].version
    return since


@click.command("backup")
@click.argument("target", type=click.Path(path_type=Path), metavar="DEST")
@store_option
def backup(target: Path, store_text: str | None) -> None:
    """Copy the store to the file DEST, a store file that `restore` takes (a file store
    consistently, while it is being written too)."""
    redis = needs_store(store_text, "backup").redis
    path = None if redis is not None else store_path(store_text, "backup")
    if target.exists():
        fail(f"backup {shown(target)}: the file exists (choose a new name)")
    reader = open_reading(store_text, "backup")  # a store it is, or a clear message
    if redis is not None:
        try:
            copied = _copy_namespace(reader, target, "backup")
        finally:
            reader.close()
        click.echo(f"backed up {redis.shown} to {shown(target)} ({copied:,} keys)")
        return
    reader.close()
    assert path is not None
    copied = _copy(path, target)
    click.echo(f"backed up {shown(path)} to {shown(target)} ({copied:,} keys)")


def _copy_namespace(reader: StoreFile | RedisReader, target: Path, command: str) -> int:
    """Write a Redis namespace to a new store file (the format of a file store's
    backup, which any store restores); how many keys."""
    try:
        return write_copy(reader, target)
    except StateError as error:
        fail(f"{command} {shown(target)}: {error}")


def _copy(path: Path, target: Path) -> int:
    try:
        source = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
        copy = sqlite3.connect(target)
    except sqlite3.Error as error:
        fail(f"backup {shown(target)}: {error}")
    try:
        source.backup(copy)
        copy.execute("DELETE FROM meta WHERE name = 'owner'")
        copy.commit()
        return int(copy.execute("SELECT count(*) FROM entries").fetchone()[0])
    except sqlite3.Error as error:
        with contextlib.suppress(OSError):
            target.unlink()
        fail(f"backup {shown(target)}: {error}")
    finally:
        source.close()
        copy.close()


@click.command("restore")
@click.argument("source", type=click.Path(path_type=Path), metavar="BACKUP")
@store_option
def restore(source: Path, store_text: str | None) -> None:
    """Replace the store's contents with a backup's (saving what it replaces first)."""
    redis = needs_store(store_text, "restore").redis
    path = None if redis is not None else store_path(store_text, "restore")
    if not source.is_file():
        fail(f"restore {shown(source)}: no such file")
    try:
        connect(source, writable=False).close()
    except StoreFileError as error:
        fail(f"restore: {error}")
    reader = StoreFile(source)
    values: dict[str, object] = {}
    expires: dict[str, float] = {}

    def take(rows: list[Row]) -> None:
        values.update((row[0], decode(row[1])) for row in rows)
        expires.update((row[0], row[6]) for row in rows if row[6])

    try:
        reader.scan(take)  # the keys that have not expired, with their TTLs
    finally:
        reader.close()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    store = open_writable(store_text)
    try:
        if redis is not None:  # saved beside the backup: a namespace has no folder
            saved = _free_name(source.with_name(f"{redis.namespace}.before-restore-{stamp}"))
            current = open_reading(store_text, "restore")
            try:
                _copy_namespace(current, saved, "restore")
            finally:
                current.close()
        else:
            assert path is not None
            saved = _free_name(path.with_name(f"{path.name}.before-restore-{stamp}"))
            store.flush()
            _copy(path, saved)
        try:
            store.clear("", source="restore")
            store.load(values, source="restore", expires=expires)
        except StateError as error:
            fail(
                f"restore {shown(source)}: {error} "
                f"(what the store held before is saved in {shown(saved)})"
            )
    finally:
        store.close()  # everything written is in the file
    click.echo(
        f"restored {len(values):,} key{'' if len(values) == 1 else 's'} from {shown(source)}"
    )
    click.echo(f"what the store held before is saved in {shown(saved)}")


def _free_name(path: Path) -> Path:
    """`path`, or `path-2`, `path-3`... the first name no file has."""
    candidate, number = path, 1
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.name}-{number}")
    return candidate


@click.command("info")
@store_option
def info(store_text: str | None) -> None:
    """Print what the store is: path, size, keys, revision, history, format, owner."""
    if needs_store(store_text, "info").redis is not None:
        _redis_info(store_text)
        return
    path = store_path(store_text, "info")
    reader = open_reading(store_text, "info")
    try:
        count, revision, kept = reader.count(), reader.revision(), reader.meta("history")
        meta = {name: reader.meta(name) for name in ("max_keys", "max_bytes", "when_full")}
    finally:
        reader.close()
    owner = current_owner(path)
    bound = limits_of(lambda name: None if (value := meta.get(name)) is None else (value,))
    rows = [
        ("path", str(path.absolute())),
        ("size", f"{file_size(path):,} bytes"),
        ("keys", f"{count:,}"),
        ("revision", f"{revision:,}"),
        ("history", "off" if kept == 0 else f"the last {kept or 100} versions of each key"),
        ("limits", _limits_text(bound)),
        ("format", f"{SCHEMA_VERSION}"),
        ("owner", "none" if owner is None else str(owner)),
    ]
    for name, value in rows:
        click.echo(f"{name + ':':<10}{value}")


def _redis_info(store_text: str | None) -> None:
    from tui.state.redis.reader import RedisReader  # redis-py loads only for a Redis store

    reader = open_reading(store_text, "info")
    assert isinstance(reader, RedisReader)
    try:
        connection = reader.connection
        keys, size = connection.size()
        rows = [
            ("store", connection.address.shown),
            ("size", f"{size:,} bytes of keys and values"),
            ("keys", f"{keys:,}"),
            ("revision", f"{connection.revision():,}"),
            ("history", _redis_history(reader.meta("history"), connection.stream_size())),
            ("limits", _limits_text(Limits(*connection.limits()))),
            ("format", f"{REDIS_FORMAT} (Redis layout)"),
        ]
    finally:
        reader.close()
    for name, value in rows:
        click.echo(f"{name + ':':<10}{value}")


def _redis_history(kept: int, held: int) -> str:
    versions = "off" if kept == 0 else f"the last {kept} versions of each key"
    return f"{versions}, read from the change stream ({held:,} of {stream_length(kept):,} kept)"


def _limits_text(bound: Limits) -> str:
    if not bound:
        return "none"
    parts = []
    if bound.max_keys:
        parts.append(f"{bound.max_keys:,} key" + ("" if bound.max_keys == 1 else "s"))
    if bound.max_bytes:
        parts.append(f"{megabytes(bound.max_bytes)} MB")
    return f"{', '.join(parts)}; when full: {bound.when_full}"


COMMANDS = [get, set_, delete, ttl, keys, export, import_, history, log, backup, restore, info]
