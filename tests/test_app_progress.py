"""The progress panel in the app: bars that advance, rates and ETAs, done, stalled, pins."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Sparkline, Static

from tests.app_helpers import (
    Clock,
    make_app,
    move_to_key,
    open_folder,
    panel_text,
    until,
    write_script,
)
from tui.app.app import StateApp
from tui.app.format import format_eta
from tui.app.model.progress_tracker import ProgressState
from tui.app.widgets.progress_panel import ProgressPanel, bar
from tui.app.widgets.value_view import ValueView
from tui.state import Store


def states(app: StateApp) -> dict[str, ProgressState]:
    return {row.name: row.state for row in app.query_one(ProgressPanel).rows}


async def test_bars_appear_and_advance_as_a_script_reports(tmp_path: Path) -> None:
    script = write_script(
        tmp_path / "job.lua",
        # Each step waits for the test to have seen the one before: no race with the
        # panel's redraws, however slow the machine.
        "for i = 1, 4 do\n"
        '  State.set("progress:job", {current = i, total = 4})\n'
        '  while i < 4 and State.get("seen") ~= i do sleep(0.005) end\n'
        "end\n",
    )
    store = Store()
    app = make_app(store, [script], watch=False)
    async with app.run_test(size=(110, 32)) as pilot:
        panel = app.query_one(ProgressPanel)
        await until(pilot, lambda: panel.display and panel.rows, what="the panel")
        for step in (1, 2, 3):
            shown = f"{step}/4"
            await until(pilot, lambda shown=shown: any(shown in line for line in panel_text(app)))
            store.set("seen", step, source="test")
        await until(pilot, lambda: states(app) == {"job": ProgressState.DONE})
        (line,) = panel_text(app)
        assert line.startswith("job  ███") and line.endswith("█ 100.0%  4/4  done")


async def test_rate_and_eta_are_computed_from_known_times() -> None:
    clock = Clock()
    store = Store(clock=clock)
    app = make_app(store, clock=clock)
    async with app.run_test(size=(110, 32)) as pilot:
        for n in range(5):
            clock.now = 1_000.0 + n
            store.set("progress:import", {"current": n * 10, "total": 100}, source="job.lua#1")
            await pilot.pause(0.06)
        await until(pilot, lambda: any("40/100" in line for line in panel_text(app)))
        # 40 in 4 seconds: 10 a second; 60 left: 6 seconds.
        (row,) = app.query_one(ProgressPanel).rows
        assert (row.percent, row.rate, row.eta) == (40.0, 10.0, 6.0)
        assert panel_text(app)[0].endswith("  40.0%  40/100  10/s  ETA 6 s")


async def test_done_go_below_running_and_a_quiet_key_stalls() -> None:
    clock = Clock()
    store = Store(clock=clock)
    store.set("progress:b_done", {"current": 5, "total": 5}, source="cli")
    store.set("progress:c_slow", {"current": 1, "total": 5}, source="cli")
    store.set("progress:a_note", {"phase": "warming up"}, source="cli")
    app = make_app(store, clock=clock)
    async with app.run_test(size=(110, 32)) as pilot:
        await until(pilot, lambda: len(app.query_one(ProgressPanel).rows) == 3)
        assert states(app) == {
            "c_slow": ProgressState.RUNNING,
            "a_note": ProgressState.OTHER,
            "b_done": ProgressState.DONE,
        }
        assert list(states(app)) == ["c_slow", "a_note", "b_done"]
        assert panel_text(app)[1] == 'a_note  {"phase":"warming up"}'
        clock.now += 11  # nothing moved for 11 seconds
        await until(pilot, lambda: states(app)["c_slow"] is ProgressState.STALLED)
        assert panel_text(app)[0].endswith("stalled")


async def test_p_pins_a_key_with_current_and_total_and_p_again_unpins_it() -> None:
    store = Store()
    store.set("jobs:import", {"current": 1, "total": 4}, source="cli")
    store.set("jobs:name", "not progress", source="cli")
    app = make_app(store)
    async with app.run_test(size=(110, 32)) as pilot:
        panel = app.query_one(ProgressPanel)
        assert not panel.display, "no progress yet: no panel"
        open_folder(app, "jobs:")
        await pilot.pause()
        move_to_key(app, "jobs:name")
        await pilot.press("p")
        assert not panel.display
        move_to_key(app, "jobs:import")
        await pilot.press("p")
        await until(pilot, lambda: panel.display and list(states(app)) == ["jobs:import"])
        store.set("jobs:import", {"current": 2, "total": 4}, source="cli")
        await until(pilot, lambda: any("2/4" in line for line in panel_text(app)))
        await pilot.press("p")
        await until(pilot, lambda: not panel.rows)


async def test_g_hides_and_shows_the_panel_and_g_fills_the_screen() -> None:
    store = Store()
    store.set("progress:a", {"current": 1, "total": 2}, source="cli")
    app = make_app(store)
    async with app.run_test(size=(110, 32)) as pilot:
        panel = app.query_one(ProgressPanel)
        await until(pilot, lambda: panel.display)
        await pilot.press("g")
        assert not panel.display
        await pilot.press("g")
        assert panel.display
        await pilot.press("G")
        assert app.screen.has_class("progress-full")
        assert not app.query_one("#output").display
        await pilot.pause()
        assert panel.size.height > 20
        await pilot.press("G")
        assert not app.screen.has_class("progress-full")
        assert app.query_one("#output").display


def test_etas_read_naturally() -> None:
    assert [format_eta(s) for s in (8, 65, 120, 7260, 7200)] == [
        "8 s",
        "1 min 5 s",
        "2 min",
        "2 h 1 min",
        "2 h",
    ]
    assert bar(50, width=4) == "██··"
    assert bar(12.5, width=1) == "▏"


async def test_a_selected_number_shows_a_sparkline_of_its_recent_values() -> None:
    store = Store()
    store.set("counter", 0, source="cli")
    app = make_app(store)
    async with app.run_test(size=(110, 32)) as pilot:
        move_to_key(app, "counter")
        await pilot.pause()
        spark = app.query_one("#value-spark", Sparkline)
        assert not spark.display or not app.query_one(ValueView).has_class("trend")
        for n in range(1, 300):
            store.set("counter", n * n % 97, source="job.lua#1")
            if n % 50 == 0:
                await pilot.pause(0.06)
        last = float(299 * 299 % 97)
        await until(pilot, lambda: len(spark.data or []) == 240 and spark.data[-1] == last)  # type: ignore[index]
        assert app.query_one(ValueView).has_class("trend")
        trend = str(app.query_one("#value-trend", Static).render())
        assert trend.startswith("last 240 values · 0 to 96, now ")


async def test_f_charts_the_next_numeric_field_of_an_object() -> None:
    store = Store()
    store.set("job", {"current": 0, "total": 10, "name": "x"}, source="cli")
    app = make_app(store)
    async with app.run_test(size=(110, 32)) as pilot:
        move_to_key(app, "job")
        await pilot.pause()
        for n in range(1, 5):
            store.set("job", {"current": n, "total": 10 + n, "name": "x"}, source="cli")
            await pilot.pause(0.06)
        spark = app.query_one("#value-spark", Sparkline)
        await until(pilot, lambda: list(spark.data or []) == [0.0, 1.0, 2.0, 3.0, 4.0])
        trend = app.query_one("#value-trend", Static)
        assert str(trend.render()).startswith("current: last 5 values")
        assert str(trend.render()).endswith("f: next field")
        await pilot.press("f")
        assert list(spark.data or []) == [10.0, 11.0, 12.0, 13.0, 14.0]
        assert str(trend.render()).startswith("total: ")


async def test_huge_numbers_never_crash_the_panel_or_the_sparkline() -> None:
    clock = Clock()
    store = Store(clock=clock)
    store.set("n", 1e308, source="cli")
    app = make_app(store, clock=clock)
    async with app.run_test(size=(110, 32)) as pilot:
        move_to_key(app, "n")
        await pilot.pause()
        store.set("n", -1e308, source="cli")  # a span that overflows: not charted
        store.set("progress:x", {"current": 0, "total": 1e307}, source="cli")
        await pilot.pause(0.1)
        clock.now += 0.001
        store.set("progress:x", {"current": 1e306, "total": 1e307}, source="cli")
        clock.now += 0.5
        await until(pilot, lambda: any("10.0%" in line for line in panel_text(app)))
        await pilot.pause(0.2)
        assert app.is_running
        assert format_eta(float("inf")) == "over 100 h"


async def test_a_failed_or_stopped_runs_progress_says_so_until_it_runs_again(
    tmp_path: Path,
) -> None:
    script = write_script(
        tmp_path / "job.lua",
        'State.set("progress:job", {current = 5, total = 10})\nerror("record 5 is bad")\n',
    )
    app = make_app(Store(), [script], watch=False)
    async with app.run_test(size=(110, 32)) as pilot:
        panel = app.query_one(ProgressPanel)
        await until(pilot, lambda: states(app) == {"job": ProgressState.FAILED})
        assert panel_text(app)[0].endswith(" 50.0%  5/10  failed")
        assert str(panel.border_title) == "Progress · 0 running · 1 failed · 0 done"
        # Rerun: the key is written again and runs; then a stop makes it stopped.
        write_script(
            script,
            'State.set("progress:job", {current = 6, total = 10})\nwhile true do sleep(0.01) end\n',
        )
        app.session.supervisor.rerun(None)
        await until(pilot, lambda: states(app) == {"job": ProgressState.RUNNING})
        assert str(panel.border_title) == "Progress · 1 running · 0 done"
        await pilot.press("s")
        await until(pilot, lambda: states(app) == {"job": ProgressState.STOPPED})
        assert panel_text(app)[0].endswith("6/10  stopped")
        assert str(panel.border_title) == "Progress · 0 running · 1 stopped · 0 done"


async def test_a_key_another_run_wrote_last_is_not_marked_by_this_ones_failure(
    tmp_path: Path,
) -> None:
    store = Store()
    store.set("progress:other", {"current": 1, "total": 3}, source="cli")
    script = write_script(tmp_path / "job.lua", 'error("at once")\n')
    app = make_app(store, [script], watch=False)
    async with app.run_test(size=(110, 32)) as pilot:
        await until(pilot, lambda: "failed after" in app.main.output_log.text())
        await pilot.pause(0.15)  # a draw of the panel after the run's end
        assert states(app) == {"other": ProgressState.RUNNING}


async def test_the_sparkline_starts_on_the_field_that_moved_last() -> None:
    store = Store()
    # `total` comes first in the value, as Lua's table order may put it.
    store.set("progress:job", {"total": 100, "current": 0}, source="cli")
    app = make_app(store)
    async with app.run_test(size=(110, 32)) as pilot:
        open_folder(app, "progress:")
        await pilot.pause()
        move_to_key(app, "progress:job")
        await pilot.pause()
        for n in range(1, 4):
            store.set("progress:job", {"total": 100, "current": n}, source="cli")
            await pilot.pause(0.06)
        trend = app.query_one("#value-trend", Static)
        await until(pilot, lambda: str(trend.render()).startswith("current: last 4 values"))
        spark = app.query_one("#value-spark", Sparkline)
        assert list(spark.data or []) == [0.0, 1.0, 2.0, 3.0]
