"""The Lua console in the app: run lines, see results, errors, cancel, history, completion."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Label

from tests.app_helpers import make_app, output_text, run_command, until
from tui.app.app import StateApp
from tui.app.model.console_history import History, history_path
from tui.app.widgets.console_input import ConsoleInput
from tui.app.widgets.console_pane import ConsolePane
from tui.app.widgets.output_log import OutputLog
from tui.state import Store


def console(app: StateApp) -> ConsoleInput:
    return app.query_one(ConsoleInput)


async def run_line(app: StateApp, pilot: Pilot[None], text: str, until_seen: str) -> None:
    """Type a line at the console, press enter, and wait for `until_seen` in the output."""
    console(app).value = text
    await pilot.press("enter")
    await until(pilot, lambda: until_seen in output_text(app), what=until_seen)


async def test_colon_focuses_the_console_and_lines_run_against_the_store() -> None:
    store = Store()
    store.set("cache:a", 1, source="test")
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("colon")
        assert console(app).has_focus
        await pilot.press(*'State.set("cache:b", {n = 2})', "enter")
        await until(pilot, lambda: store.get("cache:b") == {"n": 2})
        entry = store.entry("cache:b")
        assert entry is not None and entry.source == "console"
        await run_line(app, pilot, '#State.list("cache:")', "console │ 2")
        await run_line(app, pilot, 'State.get("cache:b")', '"n": 2')
        text = output_text(app)
        assert 'console │ > State.set("cache:b", {n = 2})' in text
        assert 'console │ {\nconsole │   "n": 2\nconsole │ }' in text
        await run_line(app, pilot, "1 + 1", "> 1 + 1\nconsole │ 2")
        await run_line(app, pilot, 'print("printed")', "console │ printed")
        assert console(app).value == ""


async def test_errors_print_as_errors_and_the_app_goes_on() -> None:
    app = make_app(Store())
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("colon")
        await run_line(app, pilot, 'error("boom")', "console:1: boom")
        await run_line(app, pilot, "for i = 1", "console:1: ")
        await run_line(app, pilot, 'State.set("", 1)', "State.set: key must not be empty")
        await run_line(app, pilot, "x = ", "unexpected symbol near <eof>")
        await run_line(app, pilot, "6 * 7", "console │ 42")
        assert app.is_running


async def test_ctrl_c_cancels_an_endless_loop_without_freezing_the_app() -> None:
    store = Store()
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("colon")
        await run_line(app, pilot, "kept = 1", "> kept = 1")
        # A loop that sleeps: Pilot waits for an idle CPU after each key press.
        await run_line(app, pilot, "while true do sleep(0.01) end", "> while true")
        await until(pilot, lambda: app.session.console.busy)
        store.set("live", 1, source="test")
        await until(pilot, lambda: "live" in "".join(app.main.feed.index.folder("").leaves))  # type: ignore[union-attr]
        console(app).value = "1"
        await pilot.press("enter")
        await until(pilot, lambda: "still running" in output_text(app))
        assert console(app).value == "1", "the line waits to be sent again"
        await pilot.press("ctrl+c")
        await until(pilot, lambda: "── cancelled after" in output_text(app))
        await run_line(app, pilot, "kept", "> kept")
        await until(pilot, lambda: output_text(app).endswith("> kept\nconsole │ 1"))


async def test_a_spinning_loop_is_cancelled_too() -> None:
    app = make_app(Store())
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("colon")
        console(app).value = "while true do end"
        await pilot.press("enter")
        await until(pilot, lambda: app.session.console.busy)
        await pilot.press("ctrl+c")
        await until(pilot, lambda: "── cancelled after" in output_text(app))
        assert not app.session.console.busy


async def test_ctrl_c_with_nothing_running_clears_the_line() -> None:
    app = make_app(Store())
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("colon", *"half typed")
        await pilot.press("ctrl+c")
        assert console(app).value == ""


async def test_up_and_down_walk_the_history_kept_across_sessions(tmp_path: Path) -> None:
    kept = tmp_path / "console_history"
    first = make_app(Store(), history=History(kept))
    async with first.run_test(size=(100, 30)) as pilot:
        await pilot.press("colon")
        await run_line(first, pilot, "a = 1", "> a = 1")
        await run_line(first, pilot, "b = 2", "> b = 2")
    assert History(kept).entries[-2:] == ["a = 1", "b = 2"]
    second = make_app(Store(), history=History(kept))
    async with second.run_test(size=(100, 30)) as pilot:
        await pilot.press("colon", *"draft")
        await pilot.press("up")
        assert console(second).value == "b = 2"
        await pilot.press("up")
        assert console(second).value == "a = 1"
        await pilot.press("down", "down")
        assert console(second).value == "draft"


async def test_the_history_file_lives_in_the_state_folder(state_home: Path) -> None:
    assert history_path() == state_home / "stateui" / "console_history"


async def test_tab_completes_state_functions_and_key_names() -> None:
    store = Store()
    for key in ("cache:api:user_1", "cache:api:user_2", "cache:db:x", "progress:job"):
        store.set(key, 1, source="test")
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("colon", *"State.ge", "tab")
        assert console(app).value == "State.get("
        await pilot.press(*'"pro', "tab")
        assert console(app).value == 'State.get("progress:'
        await pilot.press("tab")
        assert console(app).value == 'State.get("progress:job")'
        console(app).value = 'State.get("cache:'
        console(app).cursor_position = len(console(app).value)
        await pilot.press("tab")
        assert console(app).value == 'State.get("cache:'
        await until(pilot, lambda: "cache:api:  cache:db:" in output_text(app))
        await pilot.press("a", "tab")
        assert console(app).value == 'State.get("cache:api:'
        await pilot.press("tab")
        assert console(app).value == 'State.get("cache:api:user_'
        console(app).value = "State."
        console(app).cursor_position = 6
        await pilot.press("tab")
        await until(pilot, lambda: "State.clear  State.delete" in output_text(app))


async def test_console_writes_show_live_in_the_tree_and_value() -> None:
    store = Store()
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("colon")
        await run_line(app, pilot, 'for i = 1, 3 do State.set("k:" .. i, i) end', "> for")
        await until(pilot, lambda: app.main.feed.index.folder("k:") is not None)
        folder = app.main.feed.index.folder("k:")
        assert folder is not None and folder.count == 3


async def test_each_lines_output_comes_before_the_next_lines_echo() -> None:
    app = make_app(Store())
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("colon")
        console(app).value = 'print("one") return 1'
        await pilot.press("enter")
        await until(pilot, lambda: not app.session.console.busy)
        console(app).value = "2"
        await pilot.press("enter")
        await until(pilot, lambda: output_text(app).endswith("console │ 2"))
        assert output_text(app).splitlines()[-5:] == [
            'console │ > print("one") return 1',
            "console │ one",
            "console │ 1",
            "console │ > 2",
            "console │ 2",
        ]


async def test_escape_in_the_console_keeps_the_filter() -> None:
    store = Store()
    store.set("cache:a", 1, source="test")
    store.set("other", 1, source="test")
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("slash", *"cache", "enter")
        await until(
            pilot, lambda: app.main.feed.key_filter is not None and len(app.main.feed.index) == 1
        )
        await pilot.press("colon")
        await pilot.press("escape")
        assert app.query_one("#keys").has_focus
        assert app.main.feed.key_filter is not None and app.main.feed.key_filter.text == "cache"
        await pilot.press("escape")
        await until(
            pilot, lambda: app.main.feed.key_filter is None and len(app.main.feed.index) == 2
        )


async def test_the_palette_cancels_the_consoles_line() -> None:
    app = make_app(Store())
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("colon")
        console(app).value = "while true do sleep(0.01) end"
        await pilot.press("enter")
        await until(pilot, lambda: app.session.console.busy)
        await run_command(pilot, "cancel console")
        await until(pilot, lambda: "── cancelled after" in output_text(app))


async def test_a_half_typed_line_waits_whole_for_your_return() -> None:
    app = make_app(Store())
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("colon", *'State.get("ca')
        await pilot.press("escape")
        assert app.query_one("#keys").has_focus
        await pilot.press("colon", "c")
        assert console(app).value == 'State.get("cac'


def prompt(app: StateApp) -> str:
    return str(app.query_one("#prompt", Label).render())


async def test_the_prompt_shows_a_line_is_running_until_it_ends() -> None:
    app = make_app(Store())
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("colon")
        assert prompt(app) == "lua>"
        console(app).value = "while true do end"
        await pilot.press("enter")
        pane = app.query_one(ConsolePane)
        await until(pilot, lambda: pane.has_class("running") and prompt(app) != "lua>")
        frame = prompt(app)
        await until(pilot, lambda: prompt(app) != frame, what="the spinner turns")
        await pilot.press("ctrl+c")
        await until(pilot, lambda: "cancelled after" in output_text(app))
        await until(pilot, lambda: prompt(app) == "lua>" and not pane.has_class("running"))


async def test_a_quick_line_leaves_the_prompt_as_it_was() -> None:
    app = make_app(Store())
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("colon")
        await run_line(app, pilot, "1 + 1", "console │ 2")
        await until(pilot, lambda: prompt(app) == "lua>")


async def test_a_long_console_line_wraps_in_the_output() -> None:
    app = make_app(Store())
    async with app.run_test(size=(80, 30)) as pilot:
        await pilot.press("colon")
        line = "return " + " .. ".join(f'"part {n}"' for n in range(12))
        await run_line(app, pilot, line, "part 11")
        log = app.query_one(OutputLog)
        rows = ["".join(s.text for s in log.line_segments(i)) for i in range(log.line_count)]
        assert all(len(row) < 80 for row in rows), rows
        start = next(i for i, row in enumerate(rows) if row.startswith("console │ > "))
        end = next(i for i in range(start + 1, len(rows)) if rows[i].startswith("console"))
        assert end - start > 1, "the echo took more than one row"
        echo = "".join(row[len("console │ ") :] for row in rows[start:end])
        assert '"part 10" .. "part 11"' in echo


async def test_a_history_file_that_cannot_be_written_is_said_once(tmp_path: Path) -> None:
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the history's folder should be")
    app = make_app(Store(), history=History(blocker / "console_history"))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("colon")
        await run_line(app, pilot, "a = 1", "> a = 1")
        await run_line(app, pilot, "b = 2", "> b = 2")

        def said() -> list[str]:
            return [n.message for n in app._notifications if n.title == "Console history"]

        await until(pilot, said)
        await run_line(app, pilot, "c = 3", "> c = 3")
        assert len(said()) == 1, said()
        await pilot.press("up")
        assert console(app).value == "c = 3"  # kept in memory all the same
