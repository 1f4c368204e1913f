"""SVG snapshots of the main screen on a fixed store, reviewed by eye when they change.

Update with `pytest tests/test_snapshots.py --snapshot-update`, then look at every
changed SVG before committing it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from tests.app_helpers import (
    Clock,
    make_app,
    move_to_key,
    open_folder,
    output_text,
    panel_text,
    script_line,
    until,
    value_text,
)
from tests.test_app import fixed_store
from tests.test_app_redis import GatedStore
from tui.app import run_log
from tui.app.app import StateApp
from tui.app.model.tree_items import FolderItem
from tui.app.screens.change_log import ChangeLogScreen
from tui.app.screens.confirm import Confirm
from tui.app.screens.key_history import KeyHistoryScreen
from tui.app.screens.value_editor import ValueEditor
from tui.app.widgets import script_list
from tui.app.widgets.change_list import ChangeList
from tui.app.widgets.console_input import ConsoleInput
from tui.app.widgets.key_tree import KeyTree
from tui.app.widgets.output_log import OutputLog
from tui.state import Store
from tui.state.change_log import MemoryChangeLog
from tui.state.file import open_following, open_owned
from tui.state.limits import MB, Limits


@pytest.fixture(autouse=True)
def steady_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Times in UTC and run durations fixed, so that the screen is the same on every run."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    monkeypatch.setattr(run_log, "format_duration", lambda seconds: "12 ms")
    monkeypatch.setattr(script_list, "format_duration", lambda seconds: "12 ms")
    yield
    monkeypatch.undo()
    time.tzset()


SCRIPT = """\
print("importing 3 records")
for i = 1, 3 do
  State.set("progress:import_job", { current = i, total = 3 })
  print(string.format("[%d/3] imported", i))
end
local function check(n)
  if n > 2 then error("record " .. n .. " has no id") end
end
check(3)
"""


def importing(folder: Path) -> StateApp:
    """The app on the fixed store, with the import script run once (not watched)."""
    script = folder / "import.lua"
    script.write_text(SCRIPT)
    return make_app(fixed_store(), [script], watch=False)


async def browse(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, StateApp)
    await until(pilot, lambda: "failed after" in output_text(app))
    open_folder(app, "workflow:")
    await pilot.pause()
    open_folder(app, "workflow:data_pipeline:")
    open_folder(app, "cache:")
    await pilot.pause()
    open_folder(app, "cache:api_response:")
    await pilot.pause()
    move_to_key(app, "cache:api_response:user_123")
    # The picture shows the output's end. That the output follows its newest line is
    # tested on its own (test_app.py); here the timing of it must not move a pixel.
    output = app.query_one(OutputLog)
    lines = len(output_text(app).splitlines())
    await until(pilot, lambda: output.virtual_size.height >= lines)
    output.scroll_end(animate=False, immediate=True)
    await pilot.pause()


def test_main_screen(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(importing(tmp_path), terminal_size=(110, 32), run_before=browse)


def test_main_screen_in_a_small_terminal(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(importing(tmp_path), terminal_size=(60, 15), run_before=browse)


def test_empty_store_without_scripts(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(make_app(fixed_store().__class__()), terminal_size=(80, 20))


async def edit_with_an_error(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, StateApp)
    await browse(pilot)
    await pilot.press("e")
    await until(pilot, lambda: isinstance(app.screen, ValueEditor))
    area = app.screen.query_one(TextArea)
    area.cursor_blink = False  # a blinking cursor is drawn, or not, by chance
    area.load_text('{\n  "name": "Ada",\n  "tags": ["x" "y"]\n}')
    await pilot.press("ctrl+s")
    await pilot.pause()


def test_the_editor_showing_an_error(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(importing(tmp_path), terminal_size=(110, 32), run_before=edit_with_an_error)


async def delete_a_folder(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, StateApp)
    await browse(pilot)
    tree = app.query_one(KeyTree)
    node = tree.node_for(FolderItem("workflow:"))
    assert node is not None
    tree.move_cursor(node)
    await pilot.press("d")
    await until(pilot, lambda: isinstance(app.screen, Confirm))
    await pilot.pause()


def test_the_delete_confirmation_of_a_folder(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(importing(tmp_path), terminal_size=(110, 32), run_before=delete_a_folder)


async def a_few_commands(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, StateApp)
    await pilot.press("colon")
    app.query_one(ConsoleInput).cursor_blink = False  # drawn, or not, by chance otherwise
    lines = [
        'State.set("cache:api_response:user_7", {name = "Grace", langs = {"lua", "c"}})',
        'State.get("cache:api_response:user_7")',
        '#State.list("user:")',
        'print("hello from the console")',
        'State.incr("counter")',
        'State.get("nope").field',
    ]
    for number, line in enumerate(lines, start=1):
        app.query_one(ConsoleInput).value = line
        await pilot.press("enter")
        await until(pilot, lambda n=number: app.session.console.count == n)  # type: ignore[misc]
        await until(pilot, lambda: not app.session.console.busy)
    await until(pilot, lambda: "attempt to index a nil value" in output_text(app))
    await pilot.press(*"State.", "tab")
    await until(pilot, lambda: "State.clear" in output_text(app))
    await until(pilot, lambda: not app.query_one(KeyTree).highlighting)  # changed keys cool
    await pilot.pause()


def test_the_console_after_a_few_commands(snap_compare) -> None:  # type: ignore[no-untyped-def]
    app = make_app(fixed_store())
    assert snap_compare(app, terminal_size=(110, 32), run_before=a_few_commands)


def progress_store(clock: Callable[[], float]) -> Store:
    store = Store(clock=clock)
    for name, current, total in (
        ("import_users", 190, 300),
        ("import_orders", 200, 200),
        ("import_reviews", 8, 60),
        ("import_invoices", 49, 100),
    ):
        store.set(f"progress:{name}", {"current": current, "total": total}, source="job.lua#1")
    store.set("progress:warmup", {"phase": "loading caches"}, source="job.lua#1")
    store.set("progress:percent_only", {"percent": 72.5}, source="job.lua#1")
    return store


async def progress_moves(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, StateApp)
    clock = app.main.clock
    assert isinstance(clock, Clock)
    # Two seconds of progress for some: rates and ETAs from known times.
    for step in range(1, 3):
        clock.now = 1_000.0 + step
        app.session.store.set(
            "progress:import_users", {"current": 190 + 50 * step, "total": 300}, source="a"
        )
        app.session.store.set(
            "progress:import_reviews", {"current": 8 + 5 * step, "total": 60}, source="b"
        )
        await pilot.pause(0.06)
    clock.now = 1_010.0
    app.session.store.set("progress:import_reviews", {"current": 19, "total": 60}, source="b")
    await pilot.pause(0.06)
    clock.now = 1_012.0  # the invoices job has been quiet for 12 seconds: stalled
    app.session.store.set("progress:import_users", {"current": 300, "total": 300}, source="a")
    app.session.store.set("progress:import_reviews", {"current": 20, "total": 60}, source="b")
    await until(pilot, lambda: "stalled" in "".join(panel_text(app)))
    await pilot.pause()


def test_the_progress_panel(snap_compare) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    app = make_app(progress_store(clock), clock=clock)
    assert snap_compare(app, terminal_size=(110, 32), run_before=progress_moves)


async def browse_in_light(pilot: Pilot[None]) -> None:
    await browse(pilot)
    pilot.app.theme = "textual-light"
    await pilot.pause()


def test_main_screen_under_a_light_theme(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(importing(tmp_path), terminal_size=(110, 32), run_before=browse_in_light)


def test_a_store_followed_read_only(snap_compare, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)  # the store's path as it is shown: jobs.db
    owner = open_owned(Path("jobs.db"), command="stateui run jobs.lua")
    try:
        for key, value in fixed_store().snapshot().items():
            owner.set(key, value, source="jobs.lua#1")
        owner.flush()
        store, follower = open_following(Path("jobs.db"))
        assert snap_compare(make_app(store, follower=follower), terminal_size=(90, 20))
    finally:
        owner.close()


def change_log_store() -> Store:
    """Changes from a few writers at known times (an eighth of a second apart)."""
    clock = Clock(1_700_000_000.0)
    store = Store(clock=clock)
    writes: list[tuple[str, object, str, str]] = [
        ("jobs:import:status", {"state": "running"}, "import.lua#3", "jobs/import.lua:12"),
        ("jobs:import:rows", 120, "import.lua#3", "jobs/import.lua:30"),
        ("cache:api_response:user_123", {"name": "Ada", "tags": ["x"]}, "console", ""),
        ("jobs:export:status", {"state": "queued"}, "export.lua#1", "jobs/export.lua:8"),
        ("jobs:import:rows", 240, "import.lua#3", "jobs/import.lua:30"),
        (
            "cache:api_response:a_very_long_key_that_does_not_fit_in_its_column_at_all",
            list(range(400)),
            "import.lua#3",
            "jobs/deeply/nested/folder/of/helpers/import_helpers.lua:207",
        ),
        ("jobs:import:status", {"state": "done"}, "import.lua#3", "jobs/import.lua:41"),
    ]
    for step, (key, value, source, origin) in enumerate(writes):
        clock.now = 1_700_000_000.0 + step / 8
        store.set(key, value, source=source, origin=origin)
    clock.now += 1
    store.delete("cache:api_response:user_123", source="editor")
    return store


async def open_the_change_log(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, StateApp)
    await app.push_screen(ChangeLogScreen(app.session.store))
    await until(pilot, lambda: app.screen.query_one(ChangeList).size.height > 0)
    await pilot.press("up", "up")  # the cursor on a line, off the newest: not following
    await pilot.pause()


def test_the_change_log(snap_compare) -> None:  # type: ignore[no-untyped-def]
    app = make_app(change_log_store())
    assert snap_compare(app, terminal_size=(110, 16), run_before=open_the_change_log)


async def filter_the_change_log(pilot: Pilot[None]) -> None:
    await open_the_change_log(pilot)
    await pilot.press("slash")
    line = pilot.app.screen.query_one("#change-filter", Input)
    line.cursor_blink = False  # drawn, or not, by chance otherwise
    await pilot.press(*"jobs:* @import")
    await until(
        pilot, lambda: "/jobs:* @import" in str(pilot.app.screen.query_one(ChangeList).border_title)
    )
    await pilot.pause()


def test_the_change_log_filtered_in_a_small_terminal(snap_compare) -> None:  # type: ignore[no-untyped-def]
    app = make_app(change_log_store())
    assert snap_compare(app, terminal_size=(40, 12), run_before=filter_the_change_log)


HISTORY_KEY = "cache:api_response:user_123"


def history_store() -> Store:
    """A key written a few times, by a script, the console and the editor, at fixed times."""
    clock = Clock(1_700_000_000.0)
    store = Store(log=MemoryChangeLog(history=100), clock=clock)
    writes = [
        ({"name": "Ada", "langs": ["lua", "c"], "visits": 3}, "import.lua#1", "jobs/import.lua:42"),
        (
            {"name": "Ada", "langs": ["lua", "c", "go"], "visits": 4},
            "import.lua#1",
            "jobs/import.lua:42",
        ),
        (
            {"name": "Ada Lovelace", "langs": ["lua", "go"], "visits": "many", "admin": True},
            "console",
            "",
        ),
        (None, "editor", ""),
        ({"name": "Ada", "visits": 5}, "import.lua#2", "jobs/import.lua:42"),
    ]
    for step, (value, source, origin) in enumerate(writes):
        clock.now = 1_700_000_000.0 + step * 61.25
        if value is None:
            store.delete(HISTORY_KEY, source=source)
        else:
            store.set(HISTORY_KEY, value, source=source, origin=origin)
        store.set("cache:api_response:user_7", {"step": step}, source="import.lua#1")
    return store


async def history_with_a_diff(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, StateApp)
    screen = KeyHistoryScreen(app.session.store, HISTORY_KEY, version=5)
    await app.push_screen(screen)
    await until(pilot, lambda: screen.settled)
    await pilot.pause()


def test_the_history_of_a_key(snap_compare) -> None:  # type: ignore[no-untyped-def]
    app = make_app(history_store())
    assert snap_compare(app, terminal_size=(110, 32), run_before=history_with_a_diff)


def travel_store(clock: Clock) -> Store:
    """Jobs that move along, a progress key, and a key deleted, at known times."""
    store = Store(clock=clock)
    steps: list[tuple[str, object]] = [
        ("workflow:data_pipeline:status", "loading"),
        ("progress:import_job", {"current": 1, "total": 4}),
        ("jobs:import:rows", 120),
        ("progress:import_job", {"current": 2, "total": 4}),
        ("workflow:data_pipeline:status", "transforming"),
        ("jobs:export:status", "queued"),
        ("progress:import_job", {"current": 4, "total": 4}),
        ("workflow:data_pipeline:status", "done"),
    ]
    for step, (key, value) in enumerate(steps):
        clock.now = 1_700_000_000.0 + step * 1.5
        store.set(key, value, source="pipeline.lua#1", origin=f"jobs/pipeline.lua:{10 + step}")
    clock.now += 1.5
    store.delete("jobs:import:rows", source="pipeline.lua#1", origin="jobs/pipeline.lua:30")
    clock.now += 60
    return store


async def travel_back(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, StateApp)
    await until(pilot, lambda: app.query_one(KeyTree).node_for(FolderItem("jobs:")) is not None)
    open_folder(app, "workflow:")
    open_folder(app, "jobs:")
    await pilot.pause()
    open_folder(app, "workflow:data_pipeline:")
    await pilot.pause()
    move_to_key(app, "workflow:data_pipeline:status")
    await pilot.press(*"[[[[")
    await until(pilot, lambda: "Change 5" in str(app.query_one("#travel-banner").render()))
    await pilot.pause()


def test_the_inspector_in_the_past(snap_compare) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    app = make_app(travel_store(clock), clock=clock)
    assert snap_compare(app, terminal_size=(110, 28), run_before=travel_back)


def expiring_store(clock: Clock) -> Store:
    """Sessions that expire, a cache near its limit of keys, at a known time."""
    clock.now = 1_700_000_000.0
    store = Store(clock=clock, sweep=False, limits=Limits(max_keys=10, max_bytes=MB))
    store.set("session:ada", {"user": "ada", "roles": ["admin"]}, source="login.lua#1", ttl=192.5)
    store.set("session:bob", {"user": "bob", "roles": []}, source="login.lua#1", ttl=41.25)
    store.set("session:count", 2, source="login.lua#1")
    for page in range(1, 7):
        store.set(f"cache:page_{page}", f"<html>{page}</html>", source="render.lua#4", ttl=600)
    clock.now += 0.5
    return store


WAITING_SCRIPT = 'local job = State.wait("jobs:*")\nprint("got " .. job.key)\n'


async def select_an_expiring_key(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, StateApp)
    await until(pilot, lambda: "waiting for jobs:*" in script_line(app))
    open_folder(app, "session:")
    await pilot.pause()
    move_to_key(app, "session:ada")
    await until(pilot, lambda: "expires in 3 min 12 s" in value_text(app))
    await until(pilot, lambda: "9 / 10 keys" in str(app.query_one(KeyTree).border_subtitle))
    await pilot.pause()


def test_the_inspector_with_keys_that_expire_and_limits(  # type: ignore[no-untyped-def]
    snap_compare, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr(script_list, "format_eta", lambda seconds: "4 s")
    script = tmp_path / "worker.lua"
    script.write_text(WAITING_SCRIPT)
    clock = Clock()
    app = make_app(expiring_store(clock), [script], watch=False, clock=clock)
    assert snap_compare(app, terminal_size=(110, 28), run_before=select_an_expiring_key)


def test_a_redis_namespace_while_its_keys_load(snap_compare, redis_server) -> None:  # type: ignore[no-untyped-def]
    url = redis_server.url()
    writer = GatedStore(url, batch=10)
    writer.load({f"jobs:{n}": {"n": n} for n in (1, 2, 3)}, source="cli")
    writer.load({f"k:{n:02}": n for n in range(30)}, source="cli")
    writer.close()
    store = GatedStore(url, batch=10)  # the first batch of 10, then it waits
    store.location = "redis://127.0.0.1:6379/0?namespace=jobs"  # the same on every run

    async def loading(pilot: Pilot[None]) -> None:
        await until(pilot, lambda: "loading 30%" in str(pilot.app.query_one(KeyTree).border_title))

    try:
        assert snap_compare(make_app(store), terminal_size=(90, 20), run_before=loading)
    finally:
        for _ in range(5):
            store.go_ahead.put(None)
        store.close()
