"""Time travel in the inspector: `[` `]` `{` `}` and escape, the banner, rewind.

Every test that steps checks the view against the store's own state at each revision,
recorded as the changes were made, on the memory store and on the file store.
"""

from __future__ import annotations

import itertools
from typing import Any

import orjson
from textual.pilot import Pilot
from textual.widgets import Static

from tests.app_helpers import (
    make_app,
    move_to_key,
    run_command,
    tree_lines,
    until,
    value_text,
)
from tui.app.main_screen import MainScreen
from tui.app.model.tree_items import KeyItem
from tui.app.screens.change_log import ChangeLogScreen
from tui.app.screens.confirm import Confirm
from tui.app.screens.key_history import KeyHistoryScreen
from tui.app.screens.value_editor import ValueEditor
from tui.state import Store
from tui.state.change_log import MemoryChangeLog

Snapshots = dict[int, dict[str, Any]]


def record(store: Store, steps: list[tuple[str, str, Any]]) -> Snapshots:
    """Make each change (op, key or prefix, value) and keep the store after each."""
    seen: Snapshots = {store.revision: store.snapshot()}
    for op, key, value in steps:
        if op == "set":
            store.set(key, value, source="job.lua#1", origin="jobs/job.lua:7")
        elif op == "delete":
            store.delete(key, source="job.lua#1")
        else:
            before = store.revision
            store.clear(key, source="job.lua#1")
            # One change a key: the store between them lacks the keys deleted so far.
            state = dict(seen[before])
            for gone in range(before + 1, store.revision):
                del state[store.changes_since(gone - 1, 1)[0].key]
                seen[gone] = dict(state)
        seen[store.revision] = store.snapshot()
    return seen


STEPS: list[tuple[str, str, Any]] = [
    ("set", "a", 1),
    ("set", "b", {"x": [1, 2]}),
    ("set", "jobs:1", "queued"),
    ("set", "jobs:2", "queued"),
    ("set", "a", 2),
    ("delete", "b", None),
    ("clear", "jobs:", None),
    ("set", "b", "again"),
    ("set", "jobs:1", "done"),
]
KEYS = ("a", "b", "jobs:1", "jobs:2")


def screen_of(pilot: Pilot[None]) -> MainScreen:
    screen = pilot.app.screen
    assert isinstance(screen, MainScreen)
    return screen


def banner(pilot: Pilot[None]) -> str:
    return str(screen_of(pilot).query_one("#travel-banner", Static).render())


def assert_shows(pilot: Pilot[None], expected: dict[str, Any]) -> None:
    """The tree and the values the view shows are exactly `expected`."""
    feed = screen_of(pilot).feed
    for key in KEYS:
        entry = feed.entry(key)
        assert (key in feed.index) == (key in expected), key
        if key in expected:
            assert entry is not None and orjson.loads(entry.value) == expected[key], key
        else:
            assert entry is None, key


async def test_stepping_back_and_forth_shows_the_store_at_each_revision(
    any_store: Store,
) -> None:
    seen = record(any_store, STEPS)
    live = any_store.revision
    app = make_app(any_store)
    async with app.run_test(size=(120, 30)) as pilot:
        for revision in range(live - 1, -1, -1):
            await pilot.press("[")
            await until(pilot, lambda r=revision: screen_of(pilot).feed.travel.revision == r)  # type: ignore[union-attr]
            assert_shows(pilot, seen[revision])
            assert f"Change {revision:,}" in banner(pilot)
            assert f"{live - revision} change" in banner(pilot)
        await pilot.press("[")  # nothing before the first change
        assert "the start of the kept history" in banner(pilot)
        for revision in range(1, live):
            await pilot.press("]")
            await until(pilot, lambda r=revision: screen_of(pilot).feed.travel.revision == r)  # type: ignore[union-attr]
            assert_shows(pilot, seen[revision])
        await pilot.press("]")  # the last step forward is live again
        await until(pilot, lambda: screen_of(pilot).feed.travel is None)
        assert_shows(pilot, seen[live])
        assert not screen_of(pilot).has_class("travelling")


async def test_keys_that_differ_from_live_are_marked_and_escape_returns(any_store: Store) -> None:
    record(any_store, STEPS[:5])  # a: 1 then 2
    app = make_app(any_store)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("[")
        await until(pilot, lambda: "a  ≠ now" in tree_lines(app))
        assert "b" in tree_lines(app)
        await pilot.press("escape")
        await until(pilot, lambda: screen_of(pilot).feed.travel is None)
        assert "a" in tree_lines(app) and "a  ≠ now" not in tree_lines(app)


async def test_the_value_pane_shows_the_value_then_with_its_file_and_line(
    any_store: Store,
) -> None:
    record(any_store, STEPS[:5])
    app = make_app(any_store)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: "a" in tree_lines(app))
        move_to_key(app, "a")
        await until(pilot, lambda: value_text(app).splitlines()[-1] == "2")
        await pilot.press("[")
        await until(pilot, lambda: value_text(app).splitlines()[-1] == "1")
        assert "v1" in value_text(app) and "jobs/job.lua:7" in value_text(app)


async def test_live_changes_are_recorded_while_the_view_stays_put(any_store: Store) -> None:
    seen = record(any_store, STEPS[:4])
    app = make_app(any_store)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("[", "[")
        await until(pilot, lambda: "2 changes behind live" in banner(pilot))
        any_store.set("a", 99, source="live.lua#1")
        any_store.delete("b", source="live.lua#1")
        any_store.set("new", 1, source="live.lua#1")
        await until(pilot, lambda: "5 changes behind live" in banner(pilot))
        assert_shows(pilot, seen[2])
        assert "new" not in screen_of(pilot).feed.index
        await pilot.press("escape")
        await until(pilot, lambda: "new" in tree_lines(app))
        assert screen_of(pilot).feed.entry("a") is not None


async def test_the_view_goes_back_as_far_as_the_kept_history(tmp_path: Any) -> None:
    store = Store(log=MemoryChangeLog(history=2))
    for n in range(5):
        store.set("k", n, source="job.lua#1")
    app = make_app(store)
    async with app.run_test(size=(120, 30)) as pilot:
        for _ in range(4):
            await pilot.press("[")
        await until(pilot, lambda: "the start of the kept history" in banner(pilot))
        travel = screen_of(pilot).feed.travel
        assert travel is not None and travel.revision == 4  # k's value before 4 is gone
        entry = travel.entry("k")
        assert entry is not None and entry.value == b"3"


async def test_braces_step_a_second_of_store_time() -> None:
    clock = itertools.count(1000.0, 0.25)  # a change every quarter of a second
    store = Store(clock=lambda: next(clock))
    for n in range(12):
        store.set("n", n, source="job.lua#1")
    app = make_app(store)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("{")
        await until(pilot, lambda: screen_of(pilot).feed.travel is not None)
        travel = screen_of(pilot).feed.travel
        assert travel is not None and travel.revision == 8  # 12 at 1002.75; 8 at 1001.75
        await pilot.press("}")
        await until(pilot, lambda: screen_of(pilot).feed.travel is None)  # live again


async def test_nothing_is_edited_while_in_the_past(any_store: Store) -> None:
    record(any_store, STEPS[:2])
    app = make_app(any_store)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: "a" in tree_lines(app))
        await pilot.press("[", "e")
        await pilot.pause()
        assert not isinstance(app.screen, ValueEditor)
        assert any("Read-only while in the past" in n.title for n in app._notifications)


async def test_a_store_without_history_says_so() -> None:
    store = Store(log=MemoryChangeLog(history=0))
    store.set("a", 1, source="job.lua#1")
    app = make_app(store)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("[")
        await pilot.pause()
        assert screen_of(pilot).feed.travel is None
        assert any("keeps no history" in n.message for n in app._notifications)


async def test_rewind_writes_the_past_back_and_can_itself_be_undone(any_store: Store) -> None:
    seen = record(any_store, STEPS)
    live = any_store.revision
    app = make_app(any_store)
    async with app.run_test(size=(120, 30)) as pilot:
        for _ in range(4):
            await pilot.press("[")
        await until(pilot, lambda: f"Change {live - 4:,}" in banner(pilot))
        await run_command(pilot, "Rewind the store")
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        question = str(app.screen.query_one(".message", Static).render())
        assert "Write 3 keys back" in question  # b, jobs:1 and jobs:2 differ; a does not
        await pilot.press("y")
        await until(pilot, lambda: screen_of(pilot).feed.travel is None)
        assert any_store.snapshot() == seen[live - 4]
        rewound = any_store.versions("b", 1)[0]
        assert rewound.source == "rewind"
        # Undo: back to just before the rewind, and rewind again.
        steps = any_store.revision - live
        for _ in range(steps):
            await pilot.press("[")
        await until(pilot, lambda: f"Change {live:,}" in banner(pilot))
        await run_command(pilot, "Rewind the store")
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("y")
        await until(pilot, lambda: screen_of(pilot).feed.travel is None)
        assert any_store.snapshot() == seen[live]


async def test_enter_in_the_change_log_opens_the_key_s_history_at_that_version(
    any_store: Store,
) -> None:
    record(any_store, STEPS[:5])
    app = make_app(any_store)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: "a" in tree_lines(app))
        await pilot.press("L")
        await until(pilot, lambda: isinstance(app.screen, ChangeLogScreen))
        log = app.screen
        assert isinstance(log, ChangeLogScreen)
        await until(pilot, lambda: len(log.shown_changes) == 5)
        await pilot.press("up", "up")  # from the newest (a, 5) to jobs:1 at 3 ... and 2
        await until(pilot, lambda: log.cursor_change is not None and log.cursor_change.version == 3)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, KeyHistoryScreen))
        history = app.screen
        assert isinstance(history, KeyHistoryScreen)
        await until(pilot, lambda: history.settled)
        assert history.selected is not None and history.selected.version == 3
        assert history.selected.key == "jobs:1"
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, MainScreen))
        assert screen_of(pilot).key_tree.cursor_item == KeyItem("jobs:1", "1")
