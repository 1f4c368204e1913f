"""Benchmarks of the watch app: `python tests/bench/bench_app.py`.

Measures, in one run, with the app headless at 120x40:
- a script writing distinct keys as fast as it can: the app's event-loop lag (p50,
  p99) while it runs, and its write rate inside the app against the same script run
  as `stateui run` runs it (interleaved rounds, median ratio);
- with 1,000,000 keys in the store: the time from the store being full to the first
  full frame, and the time to expand a folder of 100,000 children;
- save-to-rerun: from a script file being written to the new run's first printed line;
- history and time travel: opening the history of a key with 10,000 versions; the
  event-loop lag with the change log open during a flood of 10,000 changes a second; one
  step of time travel in a store of 100,000 keys with 100,000 changes kept (near live,
  and 50,000 changes back).

`python tests/bench/bench_app.py history` measures only the last.
"""

from __future__ import annotations

import asyncio
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from textual.widgets import Input

from tests.app_helpers import make_app, until
from tui.app.app import StateApp
from tui.app.main_screen import MainScreen, ViewOptions
from tui.app.model.tree_items import FolderItem, KeyItem
from tui.app.screens.change_log import ChangeLogScreen
from tui.app.screens.key_history import KeyHistoryScreen
from tui.app.session import Inbox, Report, Session
from tui.app.widgets.console_input import ConsoleInput
from tui.app.widgets.key_tree import KeyTree
from tui.app.widgets.progress_panel import ProgressPanel
from tui.lua import ScriptRun
from tui.lua.supervisor import Printed, RunEnded
from tui.state import Store
from tui.state.change_log import MemoryChangeLog

SIZE = (120, 40)
ROUNDS = 5
WRITES = 200_000
# The writer waits for the word before writing, so that the app is measured idle and
# ready rather than busy drawing its first frame.
WRITER = f"""
while not State.get("go") do sleep(0.001) end
for i = 1, {WRITES} do
  State.set("bench:key_" .. i, i)
end
"""


class Spy(Inbox):
    """An inbox that shows each report to `look` as it comes."""

    def __init__(self, look: Callable[[Report], None]) -> None:
        super().__init__()
        self.look = look

    def put(self, report: Report) -> None:
        self.look(report)
        super().put(report)


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def measure_lag(stop: asyncio.Event, lags: list[float], period: float = 0.01) -> None:
    """Sleep `period` again and again; record how late each wake-up is."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        before = loop.time()
        await asyncio.sleep(period)
        lags.append(loop.time() - before - period)


async def writer_in_app(script: Path, open_folder: bool) -> tuple[float, list[float]]:
    """Seconds the writer takes inside the app, and the event loop's lags meanwhile."""
    ended: list[float] = []

    def spy(report: Report) -> None:
        if isinstance(report, RunEnded):
            assert report.result.status == "ok", report.result
            ended.append(time.perf_counter())

    app = StateApp(Session.open(Store(), [script], inbox=Spy(spy)), ViewOptions(watch=False))
    lags: list[float] = []
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.3)
        if open_folder:
            app.session.store.set("bench:key_0", 0, source="bench")
            await pilot.pause(0.1)
            node = app.query_one(KeyTree).node_for(FolderItem("bench:"))
            assert node is not None
            node.expand()
            await pilot.pause(0.1)
        stop = asyncio.Event()
        probe = asyncio.create_task(measure_lag(stop, lags))
        start = time.perf_counter()
        app.session.store.set("go", True, source="bench")
        while not ended:
            await pilot.pause(0.01)
        stop.set()
        await probe
    return ended[0] - start, lags


PROGRESS_SCRIPTS = 4
PROGRESS_KEYS = 1_000
PROGRESS_SECONDS = 5.0
# Each script moves its share of the progress keys, all of them ten times a second, as
# jobs reporting their progress do.
PROGRESS_WRITER = f"""
local me, keys = ..., {PROGRESS_KEYS // PROGRESS_SCRIPTS}
while not State.get("go") do sleep(0.001) end
local started = os.clock()
for step = 1, {int(PROGRESS_SECONDS * 10)} do
  for k = 1, keys do
    State.set(string.format("progress:job_%s_%d", NAME, k), {{current = step, total = 100}})
  end
  sleep(0.1)
end
"""


async def progress_flood(folder: Path) -> tuple[list[float], int]:
    """Event-loop lags while PROGRESS_SCRIPTS scripts move PROGRESS_KEYS progress keys."""
    scripts = []
    for n in range(PROGRESS_SCRIPTS):
        script = folder / f"progress_{n}.lua"
        script.write_text(f'local NAME = "{n}"\n{PROGRESS_WRITER}')
        scripts.append(script)
    app = make_app(Store(), scripts, watch=False)
    lags: list[float] = []
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.3)
        stop = asyncio.Event()
        probe = asyncio.create_task(measure_lag(stop, lags))
        app.session.store.set("go", True, source="bench")
        while not all(script.status == "ok" for script in app.session.supervisor.scripts):
            await pilot.pause(0.05)
        stop.set()
        await probe
        shown = len(app.query_one(ProgressPanel).rows)
    return lags, shown


def writer_alone(script: Path) -> float:
    """Seconds the writer takes run as `stateui run` runs it: a ScriptRun, no app."""
    store = Store()
    store.set("go", True, source="bench")
    result = ScriptRun(store, script, on_line=lambda _: None).start().wait()
    assert result is not None and result.status == "ok", result
    return result.duration


async def million_keys() -> dict[str, float]:
    """Seconds, with 1M keys: to the first frame, to open a 100k folder, to filter the
    tree (text and glob), and to complete a key prefix in the console."""
    store = Store()
    store.load({f"big:item_{n}": n for n in range(100_000)}, source="bench")
    for group in range(9):
        store.load(
            {f"cache:shard_{group}:user_{n}": {"id": n} for n in range(100_000)}, source="bench"
        )
    assert len(store) == 1_000_000
    start = time.perf_counter()
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        first_frame = time.perf_counter() - start
        tree = app.query_one(KeyTree)
        node = tree.node_for(FolderItem("big:"))
        assert node is not None
        start = time.perf_counter()
        node.expand()
        await pilot.pause()
        expand = time.perf_counter() - start
        assert tree.last_line > 1000
        timings = {"first frame": first_frame, "expand": expand}
        for page in range(2, 13):  # "… N more" again and again: page 12 costs what 2 does
            more = node.children[-1]
            start = time.perf_counter()
            tree.show_more(more)
            await pilot.pause()
            timings[f"page {page}"] = time.perf_counter() - start
        for name, text, matches in (
            ("filter text", "user_1234", 9 * 11),
            ("filter glob", "cache:*:user_1*", 9 * 11_111),
        ):
            app.query_one("#filter", Input).value = text
            start = time.perf_counter()
            app.main.filter_input.apply()
            await pilot.pause()
            timings[name] = time.perf_counter() - start
            assert len(app.main.feed.index) == matches, (text, len(app.main.feed.index))
        line = app.query_one(ConsoleInput)
        line.value = 'State.get("cache:shard_3:'
        line.cursor_position = len(line.value)
        start = time.perf_counter()
        line.action_complete()
        timings["complete"] = time.perf_counter() - start
        assert line.value == 'State.get("cache:shard_3:user_', line.value
    return timings


async def save_to_rerun(folder: Path, saves: int = 15) -> list[float]:
    """Seconds from writing the script to the new run's first printed line, per save."""
    script = folder / "saved.lua"
    script.write_text('print("run 0")\n')
    printed: dict[str, float] = {}

    def spy(report: Report) -> None:
        if isinstance(report, Printed):
            printed.setdefault(report.text, time.perf_counter())

    app = StateApp(Session.open(Store(), [script], inbox=Spy(spy)))
    latencies = []
    async with app.run_test(size=SIZE) as pilot:
        while "run 0" not in printed:
            await pilot.pause(0.01)
        await pilot.pause(0.5)  # the watcher starts after the first frame
        for n in range(1, saves + 1):
            text = f"run {n}"
            written = time.perf_counter()
            script.write_text(f'print("{text}")\n')
            while text not in printed:
                await pilot.pause(0.005)
            latencies.append(printed[text] - written)
            await pilot.pause(0.2)  # a pause between saves, as a person makes
    return latencies


TRAVEL_KEYS = 100_000
TRAVEL_STEPS = 200


async def time_travel_steps() -> dict[str, list[float]]:
    """Seconds of one step back with `[`, near live and 50,000 back: the step itself
    (the model, the tree, the panes updated), and with the next frame drawn; and, to
    compare, one line of the banner drawn anew with its frame."""
    store = Store()
    for n in range(TRAVEL_KEYS):  # one change a key: 100,000 changes kept
        store.set(f"jobs:{n // 1000}:item_{n}", {"n": n, "state": "done"}, source="bench")
    app = make_app(store, watch=False)
    steps: dict[str, list[float]] = {"near live": [], "50,000 back": []}
    steps |= {f"{label}, the step alone": [] for label in list(steps)}
    steps["a one-line repaint"] = []
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, MainScreen)
        await pilot.pause(0.3)
        await until(pilot, lambda: screen.key_tree.select_key("jobs:99:item_99999"))
        for label in ("near live", "50,000 back"):
            if label == "50,000 back":
                travel = screen.feed.travel
                assert travel is not None
                screen.time_travel.back(seconds=0)  # one step, then the rest in the model
                for _ in range(50_000):
                    screen.feed.step([travel.back()] if travel.change_at(travel.revision) else [])
                await pilot.pause()
            for _ in range(TRAVEL_STEPS):
                started = time.perf_counter()
                screen.action_travel_back()
                stepped = time.perf_counter()
                await pilot.pause()
                steps[label].append(time.perf_counter() - started)
                steps[f"{label}, the step alone"].append(stepped - started)
        banner = screen.time_travel.banner
        for n in range(TRAVEL_STEPS):
            started = time.perf_counter()
            banner.update(f"repaint {n}")
            await pilot.pause()
            steps["a one-line repaint"].append(time.perf_counter() - started)
    return steps


HISTORY_VERSIONS = 10_000


async def open_history(runs: int = 5) -> dict[str, list[float]]:
    """Seconds from `h` to the versions on screen, and to the first diff shown."""
    store = Store(log=MemoryChangeLog(history=HISTORY_VERSIONS))
    for n in range(HISTORY_VERSIONS):
        store.set("jobs:report", {"n": n, "rows": list(range(n % 50))}, source="bench")
    app = make_app(store, watch=False)
    timings: dict[str, list[float]] = {"versions shown": [], "first diff shown": []}
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.3)
        screen = app.screen
        assert isinstance(screen, MainScreen)
        await until(
            pilot,
            lambda: (
                screen.key_tree.select_key("jobs:report")
                and screen.key_tree.cursor_item == KeyItem("jobs:report")
            ),
        )
        for _ in range(runs):
            started = time.perf_counter()
            screen.action_history()  # what `h` does
            history = app.screen
            while not (isinstance(history, KeyHistoryScreen) and history.loaded):
                await asyncio.sleep(0.001)
                history = app.screen
            timings["versions shown"].append(time.perf_counter() - started)
            while not history.settled:
                await asyncio.sleep(0.001)
            timings["first diff shown"].append(time.perf_counter() - started)
            assert len(history.versions) == HISTORY_VERSIONS or not history.complete
            await pilot.press("escape")
            await pilot.pause()
    return timings


FLOOD_RATE = 10_000
FLOOD_SECONDS = 3


async def change_log_flood(open_log: bool) -> list[float]:
    """Event-loop lags while a thread makes 10,000 changes a second, the log open or not."""
    store = Store()
    app = make_app(store, watch=False)
    lags: list[float] = []
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.3)
        if open_log:
            await pilot.press("L")
            await pilot.pause(0.2)
        done = threading.Event()

        def flood() -> None:
            started = time.perf_counter()
            for n in range(FLOOD_RATE * FLOOD_SECONDS):
                store.set(f"flood:{n % 500}", n, source="bench")
                if n % 100 == 99:  # paced: 10,000 a second
                    late = started + (n + 1) / FLOOD_RATE - time.perf_counter()
                    if late > 0:
                        time.sleep(late)
            done.set()

        stop = asyncio.Event()
        probe = asyncio.create_task(measure_lag(stop, lags))
        writer = threading.Thread(target=flood)
        writer.start()
        while not done.is_set():
            await pilot.pause(0.05)
        stop.set()
        await probe
        writer.join()
        if open_log:
            log = app.screen
            assert isinstance(log, ChangeLogScreen)
            await until(pilot, lambda: log.shown_changes[-1].version == store.revision)
    return lags


def history_benchmarks() -> None:
    opened = asyncio.run(open_history())
    for label, seconds in opened.items():
        print(
            f"the history of a key with {HISTORY_VERSIONS:,} versions, from h to the "
            f"{label}: median {statistics.median(seconds) * 1e3:.0f} ms, "
            f"max {max(seconds) * 1e3:.0f} ms"
        )
    for open_log in (False, True):
        lags = asyncio.run(change_log_flood(open_log))
        state = "open" if open_log else "closed"
        print(
            f"{FLOOD_RATE:,} changes a second for {FLOOD_SECONDS} s, the change log {state}: "
            f"loop lag p50 {percentile(lags, 0.5) * 1e3:.1f} ms, "
            f"p99 {percentile(lags, 0.99) * 1e3:.1f} ms"
        )
    steps = asyncio.run(time_travel_steps())
    print(f"time travel, {TRAVEL_KEYS:,} keys and {TRAVEL_KEYS:,} changes kept, one step back:")
    for label, seconds in steps.items():
        print(
            f"  {label}: median {statistics.median(seconds) * 1e3:.1f} ms, "
            f"p99 {percentile(seconds, 0.99) * 1e3:.1f} ms, max {max(seconds) * 1e3:.1f} ms"
        )


def main() -> None:
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    if sys.argv[1:] == ["history"]:
        history_benchmarks()
        return
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        script = folder / "writer.lua"
        script.write_text(WRITER)
        alone, inside, inside_open, ratios, ratios_open = [], [], [], [], []
        lags: list[float] = []
        lags_open: list[float] = []
        for _ in range(ROUNDS):
            alone.append(writer_alone(script))
            seconds, round_lags = asyncio.run(writer_in_app(script, open_folder=False))
            inside.append(seconds)
            lags += round_lags
            seconds, round_lags = asyncio.run(writer_in_app(script, open_folder=True))
            inside_open.append(seconds)
            lags_open += round_lags
            ratios.append(alone[-1] / inside[-1])
            ratios_open.append(alone[-1] / inside_open[-1])
        rate = WRITES / statistics.median(alone)
        print(f"writer alone ({WRITES:,} distinct keys): {rate:,.0f} writes/s")
        for label, runs, ratio, lag in (
            ("writer in the app, folder closed", inside, ratios, lags),
            ("writer in the app, folder open", inside_open, ratios_open, lags_open),
        ):
            print(
                f"{label}: {WRITES / statistics.median(runs):,.0f} writes/s, "
                f"{statistics.median(ratio):.0%} of alone; "
                f"loop lag p50 {percentile(lag, 0.5) * 1e3:.1f} ms, "
                f"p99 {percentile(lag, 0.99) * 1e3:.1f} ms"
            )
        timings = asyncio.run(million_keys())
        print(
            f"1,000,000 keys: first frame {timings['first frame']:.2f} s, "
            f"open 100,000 children {timings['expand'] * 1e3:.0f} ms, "
            f"filter by text {timings['filter text'] * 1e3:.0f} ms, "
            f"by glob {timings['filter glob'] * 1e3:.0f} ms, "
            f"complete a key in the console {timings['complete'] * 1e3:.0f} ms; "
            f"next page of 1,000 in it: page 2 {timings['page 2'] * 1e3:.0f} ms, "
            f"page 12 {timings['page 12'] * 1e3:.0f} ms"
        )
        lags, shown = asyncio.run(progress_flood(folder))
        print(
            f"{PROGRESS_KEYS:,} progress keys from {PROGRESS_SCRIPTS} scripts, 10 updates a "
            f"second each ({shown:,} bars): loop lag p50 {percentile(lags, 0.5) * 1e3:.1f} ms, "
            f"p99 {percentile(lags, 0.99) * 1e3:.1f} ms"
        )
        latencies = asyncio.run(save_to_rerun(folder))
        print(
            f"save to rerun: median {statistics.median(latencies) * 1e3:.0f} ms, "
            f"max {max(latencies) * 1e3:.0f} ms over {len(latencies)} saves"
        )
    history_benchmarks()


if __name__ == "__main__":
    main()
