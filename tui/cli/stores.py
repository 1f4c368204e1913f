"""`--store`: which store a command works on, opened the way the command needs it."""

from __future__ import annotations

import dataclasses
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tui.cli.checks import fail, shown
from tui.state import Store
from tui.state.change_log import DEFAULT_HISTORY, MemoryChangeLog
from tui.state.errors import StateError
from tui.state.file import (
    SYNC_MODES,
    Follower,
    StoreBusy,
    StoreFile,
    is_owned,
    open_following,
    open_owned,
)
from tui.state.limits import MB, WHEN_FULL, Limits
from tui.state.location import BadLocation, RedisAddress, StoreLocation

if TYPE_CHECKING:
    from tui.state.redis.reader import RedisReader

store_option = click.option(
    "--store",
    "store_text",
    envvar="STATEUI_STORE",
    metavar="STORE",
    help="The store: a file path (or sqlite:///PATH), kept between runs; "
    "also read from STATEUI_STORE. Without one, the store lives in memory.",
)
history_option = click.option(
    "--history",
    type=click.IntRange(min=0),
    metavar="N",
    help=f"Versions of each key the store keeps (default {DEFAULT_HISTORY}; 0 keeps none).",
)
sync_option = click.option(
    "--sync",
    type=click.Choice(SYNC_MODES),
    default="batch",
    show_default=True,
    help="File store: 'batch' commits every 50 ms; 'always' commits and syncs each write "
    "before it returns.",
)


limit_options = (
    click.option(
        "--max-keys",
        type=click.IntRange(min=0),
        metavar="N",
        help="The most keys the store may hold (0: no limit). A file store keeps it.",
    ),
    click.option(
        "--max-store-mb",
        type=click.FloatRange(min=0),
        metavar="MB",
        help="The most the store's keys and values may take, in MB (0: no limit). "
        "A file store keeps it.",
    ),
    click.option(
        "--when-full",
        type=click.Choice(WHEN_FULL),
        help="What a write past a limit does: fail with an error (the default), or "
        "evict the least recently written keys.",
    ),
)


def with_limit_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Give a command --max-keys, --max-store-mb and --when-full."""
    for option in reversed(limit_options):
        command = option(command)
    return command


def limit_changes(
    max_keys: int | None, max_store_mb: float | None, when_full: str | None
) -> dict[str, Any]:
    """The limits the options set (those not given keep what the store has)."""
    changes: dict[str, Any] = {}
    if max_keys is not None:
        changes["max_keys"] = max_keys
    if max_store_mb is not None:
        changes["max_bytes"] = round(max_store_mb * MB)
    if when_full is not None:
        changes["when_full"] = when_full
    return changes


NEEDS_A_STORE = "needs a store: --store PATH or redis://HOST:PORT/DB, or STATEUI_STORE"


def location(text: str | None) -> StoreLocation:
    """The store `--store` names; stops with a usage error when it names none."""
    try:
        return StoreLocation.parse(text)
    except BadLocation as error:
        fail(f"--store {error}")


def command_line() -> str:
    """This process's command, as the owner of a store file says who it is."""
    return shlex.join(["stateui", *sys.argv[1:]])


def busy(error: StoreBusy) -> str:
    """Why a second writer is refused, and what to do instead."""
    return (
        f"{error}: only one process writes a file store. Open it read-only instead "
        f"(`stateui watch --store {shown(error.path)}` with no scripts, or get, keys, export, "
        "log), or use a Redis store to share writes between processes"
    )


def open_writable(
    text: str | None,
    *,
    history: int | None = None,
    limits: dict[str, Any] | None = None,
    sync: str = "batch",
    on_failure: Callable[[str], None] | None = None,
) -> Store:
    """The store to write, this process its owner; stops with exit 2 when it cannot be.

    `limits` changes the store's limits (see `limit_changes`); a file store keeps them.

    A file store that can no longer be written (a full disk) refuses further writes,
    and says why on standard error at once, unless `on_failure` is given.
    """
    where = location(text)
    if where.redis is not None:
        return open_redis(where.redis, history=history, limits=limits)
    if where.path is None:
        return Store(
            log=MemoryChangeLog(DEFAULT_HISTORY if history is None else history),
            limits=Limits(**(limits or {})),
        )
    if on_failure is None:
        on_failure = _say
    try:
        return open_owned(
            where.path,
            command=command_line(),
            history=history,
            limits=limits,
            sync=sync,
            on_failure=on_failure,
        )
    except StoreBusy as error:
        fail(busy(error))
    except StateError as error:
        fail(str(error))


def open_redis(
    address: RedisAddress, *, history: int | None, limits: dict[str, Any] | None
) -> Store:
    """The Redis store at `address`, which every process shares; exit 2 when it cannot
    be reached or used."""
    from tui.state.redis.connection import RedisConnection  # redis-py loads only for it
    from tui.state.redis.store import RedisStore

    try:
        store = RedisStore(RedisConnection(address), history=history)  # None: the namespace's
        if limits:
            store.set_limits(dataclasses.replace(store.limits, **limits))
    except StateError as error:
        fail(str(error))
    return store


def _say(message: str) -> None:
    click.echo(f"stateui: {message}", err=True)


def _told_by_the_app(message: str) -> None:
    """The app tells of a store that cannot be written (StoreStatus): nothing to print
    under the screen it draws."""


def open_for_watching(
    text: str | None,
    *,
    writes: bool,
    history: int | None,
    limits: dict[str, Any] | None = None,
    sync: str,
) -> tuple[Store, Follower | None]:
    """The store `watch` opens: owned, unless it only looks and another process owns it
    (changing its limits is not looking)."""
    where = location(text)
    if where.redis is not None:
        return open_redis(where.redis, history=history, limits=limits), None
    if where.path is not None and not writes and not limits and is_owned(where.path):
        try:
            return open_following(where.path)
        except StateError as error:
            fail(str(error))
    store = open_writable(
        text, history=history, limits=limits, sync=sync, on_failure=_told_by_the_app
    )
    return store, None


def open_reading(text: str | None, command: str) -> StoreFile | RedisReader:
    """The store a data command reads, without loading it; exit 2 without one."""
    where = needs_store(text, command)
    if where.redis is not None:
        from tui.state.redis.connection import RedisConnection
        from tui.state.redis.reader import RedisReader

        try:
            return RedisReader(RedisConnection(where.redis))
        except StateError as error:
            fail(str(error))
    path = store_path(text, command)
    if not path.exists():
        fail(f"no store at {shown(path)}")
    if path.is_dir():
        fail(f"{shown(path)} is a folder, not a store file")
    try:
        return StoreFile(path)
    except StateError as error:
        fail(str(error))


def needs_store(text: str | None, command: str) -> StoreLocation:
    """The store `--store` names; a usage error for the memory store."""
    where = location(text)
    if where.in_memory:
        fail(f"{command} {NEEDS_A_STORE}")
    return where


def store_path(text: str | None, command: str) -> Path:
    """The file of a file store; a usage error for the memory store."""
    where = location(text)
    if where.redis is not None:  # a namespace has no file (callers check first)
        fail(f"{command} needs a file store here, not {where.redis.shown}")
    if where.path is None:
        fail(f"{command} {NEEDS_A_STORE}")
    return where.path
