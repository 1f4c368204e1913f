"""The history of one key: its kept versions, what each changed, and restoring one."""

from __future__ import annotations

from typing import Any

import orjson
from textual.pilot import Pilot
from textual.widgets import Static

from tests.app_helpers import make_app, until
from tui.app.app import StateApp
from tui.app.model.json_diff import DiffKind, DiffLine
from tui.app.model.key_versions import Against
from tui.app.screens.confirm import Confirm
from tui.app.screens.key_history import RESTORE_SOURCE, KeyHistoryScreen
from tui.app.widgets.diff_view import DiffView
from tui.app.widgets.version_list import VersionList
from tui.state import Op, Store
from tui.state.change_log import MemoryChangeLog

KEY = "cache:api_response:user_123"
SIZE = (120, 40)


async def open_history(
    app: StateApp, pilot: Pilot[None], key: str = KEY, **options: Any
) -> KeyHistoryScreen:
    """Push the history of `key` and wait until it shows what it read."""
    screen = KeyHistoryScreen(app.session.store, key, **options)
    await app.push_screen(screen)
    await until(pilot, lambda: screen.settled, what="the history shown")
    return screen


async def select(pilot: Pilot[None], screen: KeyHistoryScreen, version: int) -> None:
    """Move the cursor to `version` with the arrow keys and wait for its diff."""
    while screen.selected is not None and screen.selected.version > version:
        await pilot.press("down")
    while screen.selected is not None and screen.selected.version < version:
        await pilot.press("up")
    assert screen.selected is not None and screen.selected.version == version
    await until(pilot, lambda: screen.settled, what=f"version {version} shown")


def rows(screen: KeyHistoryScreen) -> list[str]:
    listing = screen.query_one(VersionList)
    return [listing.row_text(index) for index in range(listing.line_count)]


def diff_text(screen: KeyHistoryScreen) -> list[str]:
    view = screen.query_one(DiffView)
    return [view.line_text(index) for index in range(view.line_count)]


def said(app: StateApp, title: str) -> list[str]:
    return [n.message for n in app._notifications if n.title == title]


def value_of(store: Store, key: str = KEY) -> Any:
    entry = store.entry(key)
    return None if entry is None else orjson.loads(entry.value)


# -- the versions -----------------------------------------------------------------------


async def test_versions_are_listed_newest_first_with_who_wrote_them(any_store: Store) -> None:
    store = any_store
    store.set(KEY, {"name": "Ada"}, source="job.lua#1", origin="jobs/job.lua:7")
    store.set(KEY, {"name": "Grace"}, source="job.lua#1", origin="jobs/job.lua:9")
    store.delete(KEY, source="console")
    store.set(KEY, {"name": "Linus"}, source="editor")
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_history(app, pilot)
        assert [c.version for c in screen.versions] == [4, 3, 2, 1]
        lines = rows(screen)
        assert lines[0].split()[2:] == ["set", "16", "B", "editor"]
        assert lines[1].split()[2:] == ["delete", "-", "console"]
        assert lines[2].endswith("job.lua#1 jobs/job.lua:9")
        assert lines[3].endswith("job.lua#1 jobs/job.lua:7")
        assert screen.selected is not None and screen.selected.version == 4
        title = screen.query_one("#history-versions").border_title
        assert str(title) == f"History of {KEY} · 4 versions kept"


async def test_a_version_asked_for_is_selected_when_the_screen_opens(any_store: Store) -> None:
    for n in range(5):
        any_store.set(KEY, n, source="cli")
    app = make_app(any_store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_history(app, pilot, version=2)
        assert screen.selected is not None and screen.selected.version == 2
        assert screen.query_one(VersionList).cursor == 3
        await pilot.click(VersionList, offset=(3, 1))  # a click selects a row
        await until(pilot, lambda: screen.settled)
        assert screen.selected is not None and screen.selected.version == 4
        assert screen.diff_lines == [DiffLine(DiffKind.CHANGED, "$", "2", "3")]


# -- what each version changed ------------------------------------------------------------


async def test_the_diff_shows_what_changed_in_nested_objects_and_arrays(any_store: Store) -> None:
    store = any_store
    store.set(KEY, {"user": {"name": "Ada", "langs": ["c", "lua"]}, "n": 1}, source="cli")
    store.set(
        KEY, {"user": {"name": "Grace", "langs": ["c", "lua", "go"]}, "ok": True}, source="cli"
    )
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_history(app, pilot)
        assert screen.diff_lines == [
            DiffLine(DiffKind.REMOVED, "$.n", "1", ""),
            DiffLine(DiffKind.ADDED, "$.ok", "", "true"),
            DiffLine(DiffKind.ADDED, "$.user.langs[2]", "", '"go"'),
            DiffLine(DiffKind.CHANGED, "$.user.name", '"Ada"', '"Grace"'),
        ]
        assert diff_text(screen) == [
            "- $.n  1",
            "+ $.ok  true",
            '+ $.user.langs[2]  "go"',
            '~ $.user.name  "Ada" → "Grace"',
        ]
        assert screen.diff_note == "What version 2 changed, against version 1 before it."


async def test_a_change_of_type_shows_both_types(any_store: Store) -> None:
    any_store.set(KEY, {"id": 5, "tags": ["a"]}, source="cli")
    any_store.set(KEY, {"id": "5", "tags": "a"}, source="cli")
    app = make_app(any_store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_history(app, pilot)
        assert screen.diff_lines == [
            DiffLine(DiffKind.TYPE, "$.id", "5", '"5"'),
            DiffLine(DiffKind.TYPE, "$.tags", '["a"]', '"a"'),
        ]
        assert diff_text(screen) == [
            '~ $.id  5 (number) → "5" (string)',
            '~ $.tags  ["a"] (array) → "a" (string)',
        ]


async def test_a_delete_removes_everything_and_a_set_after_it_adds_everything(
    any_store: Store,
) -> None:
    store = any_store
    store.set(KEY, {"name": "Ada"}, source="cli")
    store.delete(KEY, source="console")
    store.set(KEY, [1, 2], source="cli")
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_history(app, pilot)
        assert screen.diff_lines == [DiffLine(DiffKind.ADDED, "$", "", "[1, 2]")]
        assert screen.diff_note == "What version 3 changed: it created the key."
        await select(pilot, screen, 2)
        assert screen.diff_lines == [DiffLine(DiffKind.REMOVED, "$", '{"name": "Ada"}', "")]
        note = screen.query_one("#history-value-note", Static).render()
        assert str(note) == "Version 2 deleted the key (console)."
        await select(pilot, screen, 1)
        assert screen.diff_lines == [DiffLine(DiffKind.ADDED, "$", "", '{"name": "Ada"}')]


async def test_the_oldest_kept_version_says_the_one_before_is_gone() -> None:
    store = Store(log=MemoryChangeLog(history=2))
    for n in range(3):
        store.set(KEY, {"n": n}, source="cli")
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_history(app, pilot)
        assert [c.version for c in screen.versions] == [3, 2]
        await pilot.press("end")
        await until(pilot, lambda: screen.settled)
        assert screen.diff_lines == []
        assert screen.diff_note == ("What version 2 changed: the version before is no longer kept.")
        assert diff_text(screen) == []


async def test_t_compares_the_selected_version_with_the_current_value(any_store: Store) -> None:
    store = any_store
    for n in range(3):
        store.set(KEY, {"n": n, "same": True}, source="cli")
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_history(app, pilot)
        await select(pilot, screen, 1)
        assert screen.diff_lines == [DiffLine(DiffKind.ADDED, "$", "", '{"n": 0, "same": true}')]
        await pilot.press("t")
        await until(pilot, lambda: screen.against is Against.CURRENT and screen.settled)
        assert screen.diff_lines == [DiffLine(DiffKind.CHANGED, "$.n", "0", "2")]
        assert screen.diff_note == "From version 1 to the current value (version 3)."
        await select(pilot, screen, 3)
        assert screen.diff_lines == []
        assert diff_text(screen) == ["No differences."]
        assert screen.diff_note == "Version 3 is the current value."
        store.delete(KEY, source="console")  # the current value follows the store
        await until(pilot, lambda: screen.current is None and screen.settled)
        await select(pilot, screen, 3)
        assert screen.diff_lines == [DiffLine(DiffKind.REMOVED, "$", '{"n": 2, "same": true}', "")]
        await pilot.press("t")
        await until(pilot, lambda: screen.against is Against.BEFORE and screen.settled)
        assert screen.diff_lines == [DiffLine(DiffKind.CHANGED, "$.n", "1", "2")]


# -- restoring ----------------------------------------------------------------------------


async def test_r_writes_the_selected_version_back(any_store: Store) -> None:
    store = any_store
    store.set(KEY, {"name": "Ada"}, source="job.lua#1", origin="jobs/job.lua:7")
    store.set(KEY, {"name": "Grace"}, source="job.lua#1", origin="jobs/job.lua:7")
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_history(app, pilot)
        await select(pilot, screen, 1)
        await pilot.press("r")
        await until(pilot, lambda: said(app, "Restored"))
        assert said(app, "Restored") == [f"Restored {KEY} to version 1 (now version 3)."]
        newest = store.versions(KEY)[0]
        assert (newest.version, newest.source, newest.op) == (3, RESTORE_SOURCE, Op.SET)
        assert value_of(store) == {"name": "Ada"}
        # The restore shows up at the top; the selection stays on version 1.
        await until(pilot, lambda: screen.versions[0].version == 3 and screen.settled)
        assert screen.selected is not None and screen.selected.version == 1
        assert rows(screen)[0].endswith(" restore")


async def test_r_writes_nothing_when_the_key_changed_since_the_screen_read_it(
    any_store: Store,
) -> None:
    store = any_store
    store.set(KEY, {"name": "Ada"}, source="cli")
    store.set(KEY, {"name": "Grace"}, source="cli")
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_history(app, pilot)
        await select(pilot, screen, 1)
        # A script writes, and `r` comes before the screen looks again (it looks every
        # 0.1 s): the action runs in the same step as the write, so nothing comes between.
        store.set(KEY, {"name": "Linus"}, source="job.lua#2")
        screen.action_restore()
        assert value_of(store) == {"name": "Linus"}
        assert [c.source for c in store.versions(KEY)] == ["job.lua#2", "cli", "cli"]
        await until(pilot, lambda: said(app, "Not restored"))
        (warning,) = [n for n in app._notifications if n.title == "Not restored"]
        assert warning.severity == "warning"
        assert warning.message.startswith(f"{KEY} changed meanwhile (it is no longer version 2)")
        # The screen reads the key again and shows its new version.
        await until(pilot, lambda: screen.versions[0].version == 3 and screen.settled)
        assert screen.current_version == 3
        assert screen.selected is not None and screen.selected.version == 1
        # Now that it has seen the change, `r` restores.
        await pilot.press("r")
        await until(pilot, lambda: said(app, "Restored"))
        assert value_of(store) == {"name": "Ada"}


async def test_restoring_a_delete_asks_then_deletes_the_key(any_store: Store) -> None:
    store = any_store
    store.set(KEY, 1, source="cli")
    store.delete(KEY, source="console")
    store.set(KEY, 2, source="cli")
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_history(app, pilot)
        await select(pilot, screen, 2)
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("n")
        await until(pilot, lambda: app.screen is screen)
        assert value_of(store) == 2
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("y")
        await until(pilot, lambda: said(app, "Restored"))
        assert store.entry(KEY) is None
        newest = store.versions(KEY)[0]
        assert (newest.version, newest.op, newest.source) == (4, Op.DELETE, RESTORE_SOURCE)
        assert said(app, "Restored") == [f"Restored {KEY} to version 2 (now version 4)."]


async def test_a_read_only_store_refuses_to_restore() -> None:
    store = Store()
    store.set(KEY, 1, source="cli")
    store.set(KEY, 2, source="cli")
    store.refuse_writes("the store is read-only here: jobs.db is owned by stateui run")
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_history(app, pilot)
        await select(pilot, screen, 1)
        await pilot.press("r")
        await until(pilot, lambda: said(app, "Read-only"))
        assert said(app, "Read-only") == [
            "the store is read-only here: jobs.db is owned by stateui run. "
            "Restoring is unavailable."
        ]
        assert value_of(store) == 2


# -- following the store -----------------------------------------------------------------


async def test_new_versions_appear_at_the_top_and_the_selection_stays(any_store: Store) -> None:
    store = any_store
    for n in range(3):
        store.set(KEY, {"n": n}, source="cli")
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_history(app, pilot)
        assert screen.selected is not None and screen.selected.version == 3  # the newest
        store.set(KEY, {"n": 3}, source="job.lua#1", origin="jobs/job.lua:12")
        store.set("other:key", 1, source="cli")  # other keys change nothing here
        await until(pilot, lambda: len(screen.versions) == 4 and screen.settled)
        assert [c.version for c in screen.versions] == [4, 3, 2, 1]
        assert rows(screen)[0].endswith("job.lua#1 jobs/job.lua:12")
        assert screen.selected is not None and screen.selected.version == 3
        assert screen.query_one(VersionList).cursor == 1
        await select(pilot, screen, 2)
        store.delete(KEY, source="console")
        await until(pilot, lambda: len(screen.versions) == 5 and screen.settled)
        assert screen.versions[0].op is Op.DELETE
        assert screen.selected is not None and screen.selected.version == 2
        assert screen.diff_lines == [DiffLine(DiffKind.CHANGED, "$.n", "0", "1")]


# -- when there is nothing to show -------------------------------------------------------


async def test_a_store_without_history_says_how_to_keep_it() -> None:
    store = Store(log=MemoryChangeLog(history=0))
    store.set(KEY, 1, source="cli")
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_history(app, pilot)
        assert screen.has_class("-empty")
        message = str(screen.query_one("#history-empty", Static).render())
        assert message.startswith("This store keeps no history: start it with --history N")
        await pilot.press("r", "t")  # nothing to restore or compare, and no crash
        assert said(app, "Restored") == []


async def test_a_key_without_kept_versions_says_so(any_store: Store) -> None:
    app = make_app(any_store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_history(app, pilot, key="never:written")
        message = str(screen.query_one("#history-empty", Static).render())
        assert message.startswith("No history of never:written is kept")
        any_store.set("never:written", {"now": True}, source="cli")  # then it is
        await until(pilot, lambda: not screen.has_class("-empty") and screen.settled)
        assert screen.diff_lines == [DiffLine(DiffKind.ADDED, "$", "", '{"now": true}')]


# -- size, and leaving -------------------------------------------------------------------


async def test_ten_thousand_versions_open_on_the_newest() -> None:
    store = Store(log=MemoryChangeLog(history=10_000))
    for n in range(10_000):
        store.set(KEY, {"n": n}, source="job.lua#1", origin="jobs/job.lua:3")
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_history(app, pilot)
        assert len(screen.versions) == 10_000
        assert str(screen.query_one("#history-versions").border_title).endswith(
            "· 10,000 versions kept"
        )
        assert screen.diff_lines == [DiffLine(DiffKind.CHANGED, "$.n", "9998", "9999")]
        await pilot.press("end")
        await until(pilot, lambda: screen.selected is not None and screen.selected.version == 1)
        await until(pilot, lambda: screen.settled)
        assert screen.diff_note == "What version 1 changed: it created the key."
        listing = screen.query_one(VersionList)
        assert listing.scroll_offset.y == 10_000 - listing.scrollable_content_region.height
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.main)
        screen = await open_history(app, pilot, version=5_000)  # deep in the list: in view
        listing = screen.query_one(VersionList)
        top, height = listing.scroll_offset.y, listing.scrollable_content_region.height
        assert listing.cursor == 5_000
        assert top <= 5_000 < top + height


async def test_a_tiny_terminal_shows_the_history_without_failing(any_store: Store) -> None:
    for n in range(20):
        any_store.set(KEY, {"n": n, "name": "x" * 50}, source="job.lua#1", origin="j.lua:1")
    app = make_app(any_store)
    async with app.run_test(size=(40, 12)) as pilot:
        screen = await open_history(app, pilot)
        await pilot.press("down", "pagedown", "t", "up", "home")
        await until(pilot, lambda: screen.settled)
        await pilot.resize_terminal(20, 6)
        await pilot.press("end", "t")
        await until(pilot, lambda: screen.settled)
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.main)


async def test_escape_and_h_close_the_history(any_store: Store) -> None:
    any_store.set(KEY, 1, source="cli")
    app = make_app(any_store)
    async with app.run_test(size=SIZE) as pilot:
        for close in ("escape", "h"):
            screen = await open_history(app, pilot)
            await pilot.press(close)
            await until(pilot, lambda: app.screen is app.main, what=f"{close} closes")
            assert not screen.is_attached
