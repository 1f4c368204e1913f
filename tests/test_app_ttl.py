"""Keys that expire, stores with limits and scripts that wait, as the inspector shows them."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static, TextArea

from tests.app_helpers import (
    Clock,
    make_app,
    move_to_key,
    open_folder,
    script_line,
    tree_lines,
    until,
    value_text,
    write_script,
)
from tests.test_app_change_log import lines, open_log
from tests.test_app_key_history import open_history, rows
from tui.app.app import StateApp
from tui.app.feed import Feed
from tui.app.format import format_time_left
from tui.app.screens.value_editor import ValueEditor, parse_ttl
from tui.app.store_status import usage_text
from tui.app.widgets.key_tree import KeyTree
from tui.app.widgets.tree_labels import TTL_MARK
from tui.state import Store
from tui.state.limits import MB, Limits

NOW = 1_700_000_000.0


def ttl_store(clock: Clock, limits: Limits | None = None) -> Store:
    """A store on `clock` whose keys expire only when the test sweeps it."""
    return Store(clock=clock, sweep=False, limits=limits)


# -- how long a key has left ---------------------------------------------------------------


def test_time_left_is_finer_as_it_runs_out() -> None:
    assert [format_time_left(s) for s in (41.23, 59.96, 192, 7_800, 3 * 86_400 + 4 * 3600)] == [
        "41.2 s",
        "1 min",
        "3 min 12 s",
        "2 h 10 min",
        "3 d 4 h",
    ]


async def test_the_value_pane_counts_the_ttl_down_then_shows_the_key_expired() -> None:
    clock = Clock(NOW)
    store = ttl_store(clock)
    store.set("session:ada", {"user": "ada"}, source="login.lua#1", ttl=90)
    store.set("session:count", 1, source="login.lua#1")
    app = make_app(store, clock=clock)
    async with app.run_test(size=(100, 30)) as pilot:
        open_folder(app, "session:")
        await pilot.pause()
        move_to_key(app, "session:ada")
        await until(pilot, lambda: "expires in 1 min 30 s" in value_text(app))
        clock.now += 30
        await until(pilot, lambda: "expires in 1 min\n" in value_text(app), what="60 s left")
        clock.now += 58.5
        await until(pilot, lambda: "expires in 1.5 s" in value_text(app))
        clock.now += 2  # gone for every reader, before the sweeper removes it
        await until(pilot, lambda: "This key expired: its TTL ran out." in value_text(app))
        assert '"user": "ada"' in value_text(app)  # dimmed, as a deleted key's value
        assert store.sweep() == 1
        await until(pilot, lambda: "  ada  expired" in tree_lines(app))
        assert "This key expired: its TTL ran out." in value_text(app)
        move_to_key(app, "session:count")
        await until(pilot, lambda: "  ada  expired" not in tree_lines(app))
        assert "expires in" not in value_text(app)


async def test_a_key_evicted_under_the_cursor_says_so() -> None:
    store = Store(limits=Limits(max_keys=2, when_full="evict-oldest"))
    store.set("old", 1, source="test")
    store.set("new", 2, source="test")
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        move_to_key(app, "old")
        await until(pilot, lambda: "v1" in value_text(app))
        store.set("newest", 3, source="test")
        await until(pilot, lambda: "evicted to make room" in value_text(app))
        assert "old  evicted" in tree_lines(app)


async def test_in_the_past_the_value_pane_counts_nothing_down() -> None:
    clock = Clock(NOW)
    store = ttl_store(clock)
    store.set("lease", 1, source="test", ttl=300)
    store.set("other", 1, source="test")
    store.set("other", 2, source="test")
    app = make_app(store, clock=clock)
    async with app.run_test(size=(100, 30)) as pilot:
        move_to_key(app, "lease")
        await until(pilot, lambda: "expires in 5 min" in value_text(app))
        await pilot.press("[")
        await until(pilot, lambda: app.main.time_travel.active)
        await until(pilot, lambda: "expires in" not in value_text(app))
        assert "v1" in value_text(app)
        assert tree_lines(app)[0] == f"lease  {TTL_MARK}"  # the mark is the TTL it has now
        await pilot.press("escape")
        await until(pilot, lambda: "expires in 5 min" in value_text(app))


# -- the mark in the tree ------------------------------------------------------------------


async def test_keys_with_a_ttl_are_marked_in_the_tree_while_they_have_one() -> None:
    clock = Clock(NOW)
    store = ttl_store(clock)
    store.set("a", 1, source="test", ttl=60)  # read at start
    store.set("b", 2, source="test")
    app = make_app(store, clock=clock)
    async with app.run_test(size=(100, 30)) as pilot:
        assert tree_lines(app) == [f"a  {TTL_MARK}", "b"]
        store.persist("a", source="test")
        store.expire("b", 10, source="test")
        await until(pilot, lambda: tree_lines(app) == ["a", f"b  {TTL_MARK}"])
        store.set("b", 3, source="test")  # a set without a TTL makes the key permanent
        store.set("c", 4, source="test", ttl=5)
        await until(pilot, lambda: tree_lines(app) == ["a", "b", f"c  {TTL_MARK}"])
        clock.now += 5
        store.sweep()
        await until(pilot, lambda: tree_lines(app) == ["a", "b"])
        assert "c" not in app.main.feed.expires


async def test_the_feed_keeps_every_expiry_through_a_flood() -> None:
    store = Store(sweep=False)
    feed = Feed(store, delimiter=":", progress_prefix="progress:")
    for n in range(5_000):
        store.set(f"k:{n}", n, source="test", ttl=60 if n % 2 else None)
    store.persist("k:1", source="test")
    store.delete("k:3", source="test")
    await feed.catch_up()
    assert feed.expires.keys() == store.expirations().keys()
    assert len(feed.expires) == 2_500 - 2
    feed.close()


# -- the editor ----------------------------------------------------------------------------


def editor(app: StateApp) -> ValueEditor:
    screen = app.screen
    assert isinstance(screen, ValueEditor), f"the editor is not open: {screen!r}"
    return screen


def problem(app: StateApp) -> str:
    return str(editor(app).query_one(".problem", Static).render())


async def open_editor(app: StateApp, pilot: Pilot[None]) -> ValueEditor:
    """Open the editor on the key under the cursor."""
    await pilot.press("e")
    await until(pilot, lambda: isinstance(app.screen, ValueEditor), what="the editor")
    return editor(app)


async def test_the_editor_sets_a_ttl_and_clears_it() -> None:
    clock = Clock(NOW)
    store = ttl_store(clock)
    store.set("job", {"state": "new"}, source="test")
    app = make_app(store, clock=clock)
    async with app.run_test(size=(100, 30)) as pilot:
        move_to_key(app, "job")
        dialog = await open_editor(app, pilot)
        field = dialog.query_one("#ttl", Input)
        assert field.value == ""  # no TTL
        field.value = "120"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, ValueEditor), what="saved")
        assert store.ttl("job") == 120
        await until(pilot, lambda: tree_lines(app) == [f"job  {TTL_MARK}"])

        clock.now += 20
        dialog = await open_editor(app, pilot)
        field = dialog.query_one("#ttl", Input)
        assert field.value == "100"  # the seconds it has left
        field.value = ""
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, ValueEditor), what="saved")
        assert store.ttl("job") is None and store.get("job") == {"state": "new"}
        await until(pilot, lambda: tree_lines(app) == ["job"])


async def test_saving_with_the_ttl_as_it_opened_keeps_the_expiry() -> None:
    clock = Clock(NOW)
    store = ttl_store(clock)
    store.set("job", 1, source="test", ttl=100)
    app = make_app(store, clock=clock)
    async with app.run_test(size=(100, 30)) as pilot:
        move_to_key(app, "job")
        clock.now += 10.25
        dialog = await open_editor(app, pilot)
        assert dialog.query_one("#ttl", Input).value == "89.8"
        dialog.query_one("#value", TextArea).load_text("2")
        clock.now += 30  # a while spent editing does not give the key more time
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, ValueEditor), what="saved")
        entry = store.entry("job")
        assert entry is not None and entry.value == b"2" and entry.expires == NOW + 100


async def test_a_new_key_can_be_made_with_a_ttl() -> None:
    clock = Clock(NOW)
    store = ttl_store(clock)
    app = make_app(store, clock=clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, ValueEditor))
        dialog = editor(app)
        dialog.query_one("#key", Input).value = "lock:report"
        dialog.query_one("#value", TextArea).load_text('"held"')
        await pilot.press("ctrl+t")  # from the value to the TTL field
        assert dialog.query_one("#ttl", Input).has_focus
        await pilot.press(*"2.5")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, ValueEditor), what="saved")
        entry = store.entry("lock:report")
        assert entry is not None and orjson.loads(entry.value) == "held"
        assert entry.expires == NOW + 2.5


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("-5", "The TTL must be at least 0.001 seconds, not -5"),
        ("0", "The TTL must be at least 0.001 seconds, not 0"),
        ("soon", "The TTL must be a number of seconds, not 'soon'"),
        ("inf", "The TTL must be a number of seconds, not 'inf'"),
    ],
)
async def test_a_bad_ttl_is_refused_with_a_message_and_nothing_is_saved(
    typed: str, message: str
) -> None:
    clock = Clock(NOW)
    store = ttl_store(clock)
    store.set("job", 1, source="test")
    app = make_app(store, clock=clock)
    async with app.run_test(size=(100, 30)) as pilot:
        move_to_key(app, "job")
        dialog = await open_editor(app, pilot)
        dialog.query_one("#value", TextArea).load_text("2")
        dialog.query_one("#ttl", Input).value = typed
        await pilot.press("ctrl+s")
        await until(pilot, lambda: message in problem(app))
        assert "leave it empty for a key that never expires" in problem(app)
        assert dialog.query_one("#ttl", Input).has_focus
        assert store.get("job") == 1 and store.ttl("job") is None


def test_a_ttl_is_seconds_or_nothing() -> None:
    assert parse_ttl(" 30 ") == 30.0
    assert parse_ttl("0.5") == 0.5
    assert parse_ttl("") is None
    with pytest.raises(ValueError, match=r"at least 0\.001 seconds"):
        parse_ttl("0.0001")
    with pytest.raises(ValueError, match="a number of seconds"):
        parse_ttl("nan")


# -- the store against its limits ---------------------------------------------------------


def subtitle(app: StateApp) -> str:
    """The line under the keys, as markup (`[$text-warning bold]…[/]` where it warns)."""
    return str(app.query_one(KeyTree).border_subtitle)


def test_the_usage_says_how_full_the_store_is_against_each_limit() -> None:
    both = usage_text(1_234, 3_400_000, Limits(max_keys=10_000, max_bytes=64 * MB))
    assert both.plain == "1,234 / 10,000 keys · 3.24 / 64 MB"
    assert usage_text(1, 12, Limits(max_keys=10)).plain == "1 / 10 keys · <0.01 MB"
    assert usage_text(3, 0, Limits(max_bytes=MB)).plain == "3 keys · 0 / 1 MB"


def test_a_limit_nearly_reached_is_shown_in_the_warning_colour() -> None:
    limits = Limits(max_keys=100, max_bytes=10 * MB)
    assert "$text-warning" not in usage_text(89, 8 * MB, limits).markup
    near_keys = usage_text(90, 8 * MB, limits).markup
    assert "[$text-warning bold]90 / 100 keys[/" in near_keys and "8 / 10 MB" in near_keys
    near_bytes = usage_text(10, 9 * MB + MB // 2, limits).markup
    assert "[$text-warning bold]9.5 / 10 MB[/" in near_bytes


async def test_the_store_is_shown_against_its_limits_as_it_fills() -> None:
    store = Store(limits=Limits(max_keys=10, max_bytes=MB))
    store.load({f"k:{n}": "x" * 100 for n in range(5)}, source="test")
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: "5 / 10 keys · <0.01 / 1 MB" in subtitle(app))
        assert "$text-warning" not in subtitle(app)
        for n in range(5, 9):
            store.set(f"k:{n}", "x" * 100, source="test")
        await until(pilot, lambda: "[$text-warning bold]9 / 10 keys[/" in subtitle(app))


async def test_the_usage_shows_beside_watched_scripts(tmp_path: Path) -> None:
    # The file watcher's worker is exclusive: it once cancelled the first count, which
    # then never ended, and the usage never showed.
    script = write_script(tmp_path / "fill.lua", 'State.set("a", 1, {ttl = 100})\n')
    store = Store(limits=Limits(max_keys=5))
    app = make_app(store, [script])
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: "1 / 5 keys" in subtitle(app), what="the usage")


async def test_a_store_without_limits_shows_only_its_count() -> None:
    store = Store()
    store.set("a", 1, source="test")
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.query_one(KeyTree).border_title == "Keys · 1"
        assert app.query_one(KeyTree).border_subtitle is None


# -- scripts that wait --------------------------------------------------------------------


async def test_a_script_waiting_for_a_key_says_on_what_and_for_how_long(tmp_path: Path) -> None:
    script = write_script(
        tmp_path / "worker.lua",
        'local change = State.wait("jobs:*")\nprint("got " .. change.key)\n',
    )
    store = Store()
    app = make_app(store, [script], watch=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: "waiting for jobs:*  0 s" in script_line(app))
        assert script_line(app).startswith("▶ worker.lua  waiting for jobs:*")
        await until(pilot, lambda: "waiting for jobs:*  1 s" in script_line(app), what="1 s")
        store.set("jobs:1", {"task": "resize"}, source="test")
        await until(pilot, lambda: "✓ worker.lua  ok" in script_line(app))
        assert "waiting" not in script_line(app)


# -- expiries and evictions in the change log and the history --------------------------------


async def test_the_change_log_and_the_history_show_expiries_and_evictions() -> None:
    clock = Clock(NOW)
    store = ttl_store(clock, limits=Limits(max_keys=2, when_full="evict-oldest"))
    store.set("token", "abc", source="login.lua#1", ttl=30)
    store.set("a", 1, source="test")
    clock.now += 31
    store.sweep()
    store.set("b", 2, source="test")
    store.set("c", 3, source="test")  # evicts a, the least recently written
    app = make_app(store, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_log(app, pilot)
        shown = [line.split() for line in lines(screen)]
        assert [(words[1], words[2], words[3]) for words in shown] == [
            ("set", "token", "login.lua#1"),
            ("set", "a", "test"),
            ("expire", "token", "ttl"),
            ("set", "b", "test"),
            ("evict", "a", "limit"),
            ("set", "c", "test"),
        ]
        assert shown[2][-1] == "-" and shown[4][-1] == "-"  # a removal has no size
        screen.dismiss()
        await until(pilot, lambda: app.screen is app.main)

        history = await open_history(app, pilot, "token")
        assert rows(history)[0].split()[-3:] == ["expire", "-", "ttl"]
        note = history.query_one("#history-value-note", Static)
        await until(pilot, lambda: "the key expired (its TTL ran out)" in str(note.render()))
        assert "the key expired (version 1 before)" in str(history.diff_note)
        history.dismiss()
        await until(pilot, lambda: app.screen is app.main)

        history = await open_history(app, pilot, "a")
        assert rows(history)[0].split()[-3:] == ["evict", "-", "limit"]
        note = history.query_one("#history-value-note", Static)
        await until(pilot, lambda: "evicted to make room" in str(note.render()))
