"""The change log screen: every change, newest at the bottom, followed live, filtered."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from textual import events
from textual.pilot import Pilot
from textual.widgets import Input

from tests.app_helpers import make_app, until
from tui.app.app import StateApp
from tui.app.main_screen import MainScreen
from tui.app.model.change_window import ChangeFilter, ChangeRow, ChangeWindow, Gap
from tui.app.screens.change_log import ChangeLogScreen
from tui.app.widgets.change_list import clock_time, fit
from tui.state import Op, Store, Subscription
from tui.state.change_log import MemoryChangeLog
from tui.state.file import open_following, open_owned


@pytest.fixture
def store(any_store: Store) -> Store:
    """Every screen test here runs on the memory store and on a file store."""
    return any_store


async def open_log(
    app: StateApp,
    pilot: Pilot[None],
    results: list[tuple[str, int] | None] | None = None,
    **kw: int,
) -> ChangeLogScreen:
    """Push the change log over the main screen; what it is dismissed with goes to `results`."""
    screen = ChangeLogScreen(app.session.store, **kw)
    await app.push_screen(screen, None if results is None else results.append)
    await until(pilot, lambda: screen.change_list.size.height > 0, what="the list laid out")
    await pilot.pause()
    return screen


def lines(screen: ChangeLogScreen) -> list[str]:
    """Every line the list shows, as text."""
    shown = screen.change_list
    return [shown.line_text(index) for index in range(shown.line_count)]


def visible(screen: ChangeLogScreen) -> list[str]:
    """The lines in view."""
    shown = screen.change_list
    top = int(shown.scroll_y)
    bottom = min(shown.line_count, top + shown.scrollable_content_region.height)
    return [shown.line_text(index) for index in range(top, bottom)]


def at_end(screen: ChangeLogScreen) -> bool:
    shown = screen.change_list
    return shown.scroll_y == shown.max_scroll_y and shown.cursor_line == shown.line_count - 1


def follows(screen: ChangeLogScreen) -> bool:
    """Whether the list follows the newest change (asked afresh each time)."""
    return screen.following


def title(screen: ChangeLogScreen) -> str:
    return str(screen.change_list.border_title)


def write_jobs(store: Store, count: int, *, start: int = 0) -> None:
    for n in range(start, start + count):
        store.set(f"jobs:job_{n}", {"n": n}, source="job.lua#1", origin="jobs/job.lua:7")


# -- what a line shows -----------------------------------------------------------------


async def test_each_line_shows_time_op_key_source_file_line_and_size(store: Store) -> None:
    store.set("jobs:a", {"state": "queued"}, source="job.lua#1", origin="jobs/job.lua:7")
    store.set("jobs:bb", [1, 2, 3], source="import.lua#3", origin="lib/import.lua:120")
    store.set("console:x", True, source="console")
    store.delete("jobs:a", source="cli")
    app = make_app(store)
    async with app.run_test(size=(120, 20)) as pilot:
        screen = await open_log(app, pilot)
        changes = store.changes_since(0)
        times = [clock_time(change.time) for change in changes]
        assert lines(screen) == [
            f"{times[0]}  set     jobs:a     job.lua#1     jobs/job.lua:7            18 B",
            f"{times[1]}  set     jobs:bb    import.lua#3  lib/import.lua:120         7 B",
            f"{times[2]}  set     console:x  console       -                          4 B",
            f"{times[3]}  delete  jobs:a     cli           -                            -",
        ]
        assert [(c.op, c.key, c.version) for c in screen.shown_changes] == [
            (Op.SET, "jobs:a", 1),
            (Op.SET, "jobs:bb", 2),
            (Op.SET, "console:x", 3),
            (Op.DELETE, "jobs:a", 4),
        ]
        assert title(screen) == "Changes · 4"
        assert screen.note == ""


async def test_the_time_is_local_with_milliseconds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        assert clock_time(1_700_000_000.25) == "22:13:20.250"
    finally:
        monkeypatch.undo()
        time.tzset()


async def test_long_keys_are_cut_and_columns_stay_aligned(store: Store) -> None:
    long_key = "cache:" + "segment_" * 20 + "end"
    store.set(long_key, 1, source="job.lua#1", origin="jobs/job.lua:7")
    store.set("short", 2, source="job.lua#1", origin="jobs/job.lua:7")
    app = make_app(store)
    async with app.run_test(size=(90, 20)) as pilot:
        screen = await open_log(app, pilot)
        first, second = lines(screen)
        assert "…" in first and "segment_end" not in first
        assert first.index("job.lua#1") == second.index("job.lua#1")
        assert len(first) <= screen.change_list.size.width


def test_fit_pads_or_cuts_to_the_width() -> None:
    assert fit("abc", 5) == "abc  "
    assert fit("abcdefgh", 5) == "abcd…"
    assert fit("jobs/deep/job.lua:7", 10, keep_end=True) == "…job.lua:7"
    assert fit("日本語のキー", 7) == "日本語…"
    assert fit("日本語のキー", 7, keep_end=True) == "…のキー"


async def test_the_colours_follow_the_theme(store: Store) -> None:
    store.set("jobs:a", 1, source="job.lua#1")
    store.delete("jobs:a", source="cli")
    app = make_app(store)
    async with app.run_test(size=(100, 20)) as pilot:
        screen = await open_log(app, pilot)
        shown = screen.change_list

        def colours() -> list[object]:
            return [segment.style for segment in shown.render_line(0)]

        dark = colours()
        app.theme = "textual-light"
        await until(pilot, lambda: colours() != dark, what="the light theme's colours")
        assert lines(screen)[1].split()[1] == "delete"


# -- order and following ---------------------------------------------------------------


async def test_the_newest_change_is_at_the_bottom_and_the_list_follows_it(store: Store) -> None:
    write_jobs(store, 40)
    app = make_app(store)
    async with app.run_test(size=(100, 20)) as pilot:
        screen = await open_log(app, pilot)
        versions = [change.version for change in screen.shown_changes]
        assert versions == sorted(versions) and len(versions) == 40
        await until(pilot, lambda: at_end(screen), what="the end in view")
        assert "jobs:job_39" in visible(screen)[-1]
        write_jobs(store, 5, start=40)
        await until(pilot, lambda: screen.window.kept == 45, what="the new changes")
        await until(pilot, lambda: at_end(screen), what="the end in view")
        assert "jobs:job_44" in visible(screen)[-1]
        assert follows(screen)
        change = screen.cursor_change
        assert change is not None and change.key == "jobs:job_44"


async def test_the_list_stays_put_when_moved_up_and_end_follows_again(store: Store) -> None:
    write_jobs(store, 40)
    app = make_app(store)
    async with app.run_test(size=(100, 20)) as pilot:
        screen = await open_log(app, pilot)
        await until(pilot, lambda: at_end(screen))
        await pilot.press("up", "up", "pageup")
        assert not follows(screen)
        held = screen.cursor_change
        scrolled = screen.change_list.scroll_y
        write_jobs(store, 20, start=40)
        await until(pilot, lambda: screen.window.kept == 60)
        await pilot.pause()
        assert screen.cursor_change == held
        assert screen.change_list.scroll_y == scrolled
        await pilot.press("end")
        await until(pilot, lambda: at_end(screen))
        assert follows(screen)
        write_jobs(store, 1, start=60)
        await until(pilot, lambda: "jobs:job_60" in visible(screen)[-1])


async def test_scrolling_up_with_the_wheel_stops_following(store: Store) -> None:
    write_jobs(store, 40)
    app = make_app(store)
    async with app.run_test(size=(100, 20)) as pilot:
        screen = await open_log(app, pilot)
        shown = screen.change_list
        await until(pilot, lambda: at_end(screen))
        for _ in range(3):
            shown.post_message(events.MouseScrollUp(shown, 5, 5, 0, -1, 0, False, False, False))
        await until(pilot, lambda: shown.scroll_y < shown.max_scroll_y, what="scrolled up")
        assert not follows(screen)
        top = visible(screen)[0]
        write_jobs(store, 10, start=40)
        await until(pilot, lambda: screen.window.kept == 50)
        await pilot.pause()
        assert visible(screen)[0] == top
        shown.scroll_to(y=shown.max_scroll_y, animate=False)  # the scroll bar, to the end
        await pilot.pause()
        assert follows(screen)
        write_jobs(store, 1, start=50)
        await until(pilot, lambda: "jobs:job_50" in visible(screen)[-1])


async def test_the_cursor_moves_over_lines_and_home_goes_to_the_oldest(store: Store) -> None:
    write_jobs(store, 40)
    app = make_app(store)
    async with app.run_test(size=(100, 20)) as pilot:
        screen = await open_log(app, pilot)
        await pilot.press("home")
        change = screen.cursor_change
        assert change is not None and change.key == "jobs:job_0"
        assert screen.change_list.scroll_y == 0
        await pilot.press("down", "down")
        change = screen.cursor_change
        assert change is not None and change.key == "jobs:job_2"
        await pilot.press("pagedown", "pagedown", "pagedown", "pagedown")
        assert follows(screen)  # the newest line: following again


# -- filtering ---------------------------------------------------------------------------


def mixed_writes(store: Store) -> None:
    store.set("jobs:import:1", 1, source="import.lua#1", origin="jobs/import.lua:4")
    store.set("jobs:export:1", 1, source="export.lua#2", origin="jobs/export.lua:9")
    store.set("cache:user_1", 1, source="console")
    store.set("jobs:import:2", 2, source="import.lua#1", origin="jobs/import.lua:5")
    store.set("cache:user_12", 2, source="editor")


async def test_slash_filters_by_key_glob_or_text(store: Store) -> None:
    mixed_writes(store)
    app = make_app(store)
    async with app.run_test(size=(100, 20)) as pilot:
        screen = await open_log(app, pilot)
        await pilot.press("slash", *"jobs:*", "enter")
        assert [c.key for c in screen.shown_changes] == [
            "jobs:import:1",
            "jobs:export:1",
            "jobs:import:2",
        ]
        assert title(screen) == "Changes · 3 shown of 5 · /jobs:*"
        screen.apply_filter("user_1")  # text: anywhere in the key
        assert [c.key for c in screen.shown_changes] == ["cache:user_1", "cache:user_12"]
        # New changes are filtered as they come.
        store.set("cache:user_123", 3, source="console")
        store.set("other", 3, source="console")
        await until(pilot, lambda: screen.window.kept == 7)
        assert [c.key for c in screen.shown_changes][-1] == "cache:user_123"
        assert title(screen) == "Changes · 3 shown of 7 · /user_1"
        await until(pilot, lambda: at_end(screen))


async def test_at_words_filter_by_source_or_file(store: Store) -> None:
    mixed_writes(store)
    app = make_app(store)
    async with app.run_test(size=(100, 20)) as pilot:
        screen = await open_log(app, pilot)
        await pilot.press("slash", *"@import", "enter")
        assert [c.key for c in screen.shown_changes] == ["jobs:import:1", "jobs:import:2"]
        screen.apply_filter("jobs:* @export.lua:9")  # a file:line, with a key glob
        assert [c.key for c in screen.shown_changes] == ["jobs:export:1"]
        screen.apply_filter("@console @editor")  # either source
        assert [c.key for c in screen.shown_changes] == ["cache:user_1", "cache:user_12"]
        screen.apply_filter("@Console")  # a capital letter: case counts
        assert screen.shown_changes == []
        assert title(screen) == "Changes · 0 shown of 5 · /@Console"


async def test_escape_closes_the_filter_line_then_clears_the_filter_then_the_screen(
    store: Store,
) -> None:
    mixed_writes(store)
    app = make_app(store)
    results: list[tuple[str, int] | None] = []
    async with app.run_test(size=(100, 20)) as pilot:
        screen = await open_log(app, pilot, results)
        await pilot.press("slash", *"cache:")
        line = screen.query_one("#change-filter", Input)
        assert line.has_focus
        await pilot.press("escape")  # closes the line, keeps (and applies) the filter
        assert not line.display and screen.change_list.has_focus
        assert len(screen.shown_changes) == 2
        await pilot.press("escape")  # clears the filter
        assert screen.change_filter is None and len(screen.shown_changes) == 5
        assert title(screen) == "Changes · 5"
        await pilot.press("escape")  # closes the screen
        await until(pilot, lambda: isinstance(app.screen, MainScreen))
        assert results == [None]


async def test_typing_in_the_filter_line_applies_it_after_a_moment(store: Store) -> None:
    mixed_writes(store)
    store.set("paths/a/b", 1, source="cli")
    app = make_app(store)
    async with app.run_test(size=(100, 20)) as pilot:
        screen = await open_log(app, pilot)
        await pilot.press("slash", *"user_12")
        await until(pilot, lambda: len(screen.shown_changes) == 1, what="the filter applied")
        line = screen.query_one("#change-filter", Input)
        assert line.has_focus
        line.value = ""
        await pilot.press(*"a/b")  # a slash in the line is typed, not a new filter
        assert line.value == "a/b"
        await until(pilot, lambda: [c.key for c in screen.shown_changes] == ["paths/a/b"])


# -- choosing a change ----------------------------------------------------------------------


async def test_enter_dismisses_with_the_key_and_version_under_the_cursor(store: Store) -> None:
    mixed_writes(store)
    app = make_app(store)
    results: list[tuple[str, int] | None] = []
    async with app.run_test(size=(100, 20)) as pilot:
        await open_log(app, pilot, results)
        await pilot.press("up", "enter")
        await until(pilot, lambda: isinstance(app.screen, MainScreen))
        assert results == [("jobs:import:2", 4)]


async def test_a_click_moves_the_cursor_and_a_double_click_chooses(store: Store) -> None:
    mixed_writes(store)
    app = make_app(store)
    results: list[tuple[str, int] | None] = []
    async with app.run_test(size=(100, 20)) as pilot:
        screen = await open_log(app, pilot, results)
        await pilot.click(screen.change_list, offset=(20, 2))  # under the border: line 1
        change = screen.cursor_change
        assert change is not None and change.key == "jobs:export:1"
        assert not follows(screen)
        await pilot.double_click(screen.change_list, offset=(20, 3))
        await until(pilot, lambda: results)
        assert results == [("cache:user_1", 3)]


async def test_enter_picks_from_the_filtered_lines(store: Store) -> None:
    mixed_writes(store)
    app = make_app(store)
    results: list[tuple[str, int] | None] = []
    async with app.run_test(size=(100, 20)) as pilot:
        screen = await open_log(app, pilot, results)
        screen.apply_filter("@export")
        await pilot.press("enter")
        await until(pilot, lambda: results)
        assert results == [("jobs:export:1", 2)]


# -- what is kept ---------------------------------------------------------------------------


async def test_only_the_newest_are_kept_and_the_note_says_where_older_ones_are(
    store: Store,
) -> None:
    write_jobs(store, 30)
    app = make_app(store)
    async with app.run_test(size=(100, 20)) as pilot:
        screen = await open_log(app, pilot, max_changes=50)
        assert screen.note == ""
        await pilot.press("home", "down")  # held on jobs:job_1, scrolled to the top
        write_jobs(store, 40, start=30)
        await until(pilot, lambda: screen.window.dropped == 20)
        await pilot.pause()
        assert screen.window.kept == 50
        shown = [c.key for c in screen.shown_changes]
        assert shown[0] == "jobs:job_20" and shown[-1] == "jobs:job_69"
        assert screen.start_revision == 20
        older = "see `stateui log`" if store.location != "memory" else "not kept here"
        assert screen.note == f"The changes after revision 20 are listed; older ones: {older}"
        # The change under the cursor went: the cursor is on the oldest kept, in view.
        change = screen.cursor_change
        assert change is not None and change.key == "jobs:job_20"
        assert screen.change_list.scroll_y == 0
        assert not follows(screen)


async def test_a_held_line_stays_in_view_while_the_oldest_go() -> None:
    store = Store()
    write_jobs(store, 50)
    app = make_app(store)
    async with app.run_test(size=(100, 20)) as pilot:
        screen = await open_log(app, pilot, max_changes=50)
        await until(pilot, lambda: at_end(screen))
        await pilot.press("up", "up")
        held = screen.cursor_change
        top = visible(screen)[0]
        write_jobs(store, 5, start=50)
        await until(pilot, lambda: screen.window.dropped == 5)
        await pilot.pause()
        assert screen.cursor_change == held
        assert visible(screen)[0] == top


async def test_only_the_last_ten_thousand_changes_are_read_on_opening() -> None:
    store = Store()
    store.load({f"bulk:{n}": n for n in range(10_050)}, source="cli")
    app = make_app(store)
    async with app.run_test(size=(100, 20)) as pilot:
        screen = await open_log(app, pilot)
        assert screen.window.kept == 10_000
        assert screen.shown_changes[0].version == 51
        assert screen.note == "The changes after revision 50 are listed; older ones: not kept here"


async def test_a_store_without_history_lists_the_changes_from_the_moment_it_opened() -> None:
    store = Store(log=MemoryChangeLog(history=0))
    write_jobs(store, 3)
    app = make_app(store)
    async with app.run_test(size=(100, 20)) as pilot:
        screen = await open_log(app, pilot)
        assert screen.shown_changes == []
        assert screen.note == "No history is kept: the changes after revision 3 are listed"
        write_jobs(store, 2, start=3)
        await until(pilot, lambda: len(screen.shown_changes) == 2)
        assert [c.version for c in screen.shown_changes] == [4, 5]


async def test_a_change_made_while_opening_is_listed_once(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_jobs(store, 5)
    app = make_app(store)
    async with app.run_test(size=(100, 20)) as pilot:
        subscribe = store.subscribe

        def subscribe_then_write() -> Subscription:
            subscription = subscribe()
            write_jobs(store, 1, start=5)  # after the subscription, before the log is read
            return subscription

        monkeypatch.setattr(store, "subscribe", subscribe_then_write)
        screen = await open_log(app, pilot)
        monkeypatch.undo()
        write_jobs(store, 1, start=6)
        await until(pilot, lambda: screen.window.kept == 7)
        await pilot.pause(0.2)
        assert [c.version for c in screen.shown_changes] == [1, 2, 3, 4, 5, 6, 7]


async def test_changes_the_app_fell_behind_on_show_as_a_gap() -> None:
    store = Store()
    app = make_app(store)
    async with app.run_test(size=(100, 20)) as pilot:
        screen = await open_log(app, pilot)
        # Written without letting the app run: the feed's buffer (65,536) overflows.
        for n in range(70_000):
            store.set("busy", n, source="flood.lua#1")
        await until(pilot, lambda: screen.fell_behind)
        missed = 70_000 - 65_536
        assert screen.fell_behind == missed
        assert f"{missed:,} changes were not shown: the app fell behind" in screen.note
        assert lines(screen)[0] == f"⋯ {missed:,} changes not shown here: the app fell behind"
        assert len(screen.shown_changes) == 65_536
        screen.apply_filter("nothing-matches")  # a gap shows through any filter
        assert lines(screen) == [lines(screen)[0]]
        assert title(screen) == "Changes · 0 shown of 65,536 · /nothing-matches"


async def test_a_followed_store_lists_what_its_owner_writes(tmp_path: Path) -> None:
    path = tmp_path / "jobs.db"
    owner = open_owned(path, command="stateui run jobs.lua")
    write_jobs(owner, 3)
    owner.flush()
    store, follower = open_following(path)
    app = make_app(store, follower=follower)
    try:
        async with app.run_test(size=(100, 20)) as pilot:
            screen = await open_log(app, pilot)
            assert [c.version for c in screen.shown_changes] == [1, 2, 3]
            write_jobs(owner, 2, start=3)
            owner.flush()
            await until(pilot, lambda: len(screen.shown_changes) == 5)
            assert screen.shown_changes[-1].origin == "jobs/job.lua:7"
    finally:
        owner.close()


# -- a flood -----------------------------------------------------------------------------------


def flood(store: Store, per_second: int, seconds: float) -> threading.Thread:
    """A thread writing `per_second` changes a second for `seconds`, in slices of 10 ms."""

    def write() -> None:
        start = time.monotonic()
        written, total = 0, int(per_second * seconds)
        while written < total:
            due = min(total, int((time.monotonic() - start) * per_second) + per_second // 100)
            for n in range(written, due):
                store.set(f"flood:{n % 500}", n, source="flood.lua#1", origin="flood.lua:3")
            written = due
            time.sleep(0.01)

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread


async def test_a_flood_of_ten_thousand_changes_a_second_is_all_listed(store: Store) -> None:
    write_jobs(store, 10)
    app = make_app(store)
    async with app.run_test(size=(100, 20)) as pilot:
        screen = await open_log(app, pilot)
        writer = flood(store, 10_000, 1.0)
        await until(pilot, lambda: screen.window.kept == 10_010, timeout=20, what="all listed")
        writer.join()
        versions = [c.version for c in screen.shown_changes]
        assert versions == list(range(1, 10_011))
        await until(pilot, lambda: at_end(screen))
        assert "flood:499" in visible(screen)[-1]
        assert screen.fell_behind == 0


# -- a small terminal ------------------------------------------------------------------------


async def test_a_tiny_terminal_does_not_break_it(store: Store) -> None:
    store.set("cache:" + "x" * 80, {"a": 1}, source="a-long-source-name.lua#12", origin="f:1")
    write_jobs(store, 20)
    app = make_app(store)
    results: list[tuple[str, int] | None] = []
    async with app.run_test(size=(40, 12)) as pilot:
        screen = await open_log(app, pilot, results)
        write_jobs(store, 5, start=20)
        await until(pilot, lambda: screen.window.kept == 26)
        await pilot.press("slash", *"cache:* @long", "enter", "up", "home", "end")
        await pilot.pause()
        assert "…" in lines(screen)[0]
        await pilot.press("enter")
        await until(pilot, lambda: results)
        assert results == [("cache:" + "x" * 80, 1)]


# -- the model, without the app ----------------------------------------------------------------


def rows(count: int, start: int = 0) -> list[ChangeRow]:
    return [
        ChangeRow(Op.SET, f"k{n % 7}", n + 1, f"s{n % 3}", 0.0, 1, "") for n in range(start, count)
    ]


def test_a_filter_kept_up_as_changes_come_matches_one_applied_afresh() -> None:
    only = ChangeFilter.parse("k[12] @s1")
    assert only is not None
    live = ChangeWindow(limit=1_000)
    live.refilter(only)
    for start in range(0, 5_000, 333):
        live.extend(rows(min(start + 333, 5_000), start), missed=start % 2)
    afresh = ChangeWindow(limit=1_000)
    for start in range(0, 5_000, 333):
        afresh.extend(rows(min(start + 333, 5_000), start), missed=start % 2)
    afresh.refilter(only)
    assert live.shown_lines() == afresh.shown_lines()
    assert live.shown == afresh.shown and live.shown_changes == afresh.shown_changes
    assert live.kept + sum(isinstance(line, Gap) for line in live.shown_lines()) == 1_000
    positions = [live.position(index) for index in range(live.shown)]
    assert [live.index_of(position) for position in positions] == list(range(live.shown))


def test_the_filter_reads_keys_and_at_sources() -> None:
    parsed = ChangeFilter.parse("  jobs:*   @import.lua  ")
    assert parsed is not None
    assert (parsed.text, parsed.sources) == ("jobs:* @import.lua", ("import.lua",))
    assert parsed.keys is not None and parsed.keys.text == "jobs:*"
    assert ChangeFilter.parse("") is None
    assert ChangeFilter.parse("@") is None
    sources_only = ChangeFilter.parse("@job")
    assert sources_only is not None and sources_only.keys is None
    assert sources_only(ChangeRow(Op.SET, "x", 1, "cli", 0.0, 1, "jobs/JOB.lua:1"))
    assert not sources_only(ChangeRow(Op.SET, "x", 1, "cli", 0.0, 1, ""))
    assert sources_only(Gap(3))
