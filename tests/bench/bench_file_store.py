"""Benchmarks of the file store: `python tests/bench/bench_file_store.py`.

Side by side in one run:
- State.set and State.get from Lua on a file store and on the memory store (targets:
  set within 1.25x, get within 1.1x);
- 1,000,000 small keys from one script with `stateui run`, durable at exit, into a file
  store and into the memory store (target: within 1.5x), and the file's size;
- reopening that store: `stateui get` as a whole process, and loading it for the app
  (the first frame's share; target 2 s);
- a follower's delay from the owner's commit to its change feed (target p99 250 ms);
- a write flood: commits a second and changes a commit.
"""

from __future__ import annotations

import asyncio
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from tests.app_helpers import make_app
from tests.bench.bench_state import LOAD_SCRIPT, RECORD_LUA, lua_timer, median_ratio, sample
from tui.state import Store
from tui.state.file import open_following, open_owned

STATEUI = [sys.executable, "-m", "tui"]


def set_get(folder: Path) -> list[tuple[str, float, float | None]]:
    memory = Store()
    file = open_owned(folder / "setget.db", command="bench")
    record = f'State.set("progress:import_job", {RECORD_LUA})'
    try:
        for store in (memory, file):
            store.set("progress:import_job", {"current": 1}, source="bench")
        samples = sample(
            {
                "memory_set": lua_timer(memory, record),
                "file_set": lua_timer(file, record),
                "memory_get": lua_timer(memory, 'local v = State.get("progress:import_job")'),
                "file_get": lua_timer(file, 'local v = State.get("progress:import_job")'),
            }
        )
    finally:
        file.close()
    m = {name: statistics.median(values) for name, values in samples.items()}
    return [
        ("State.set, memory store (µs)", m["memory_set"] * 1e6, None),
        (
            "State.set, file store (µs)",
            m["file_set"] * 1e6,
            median_ratio(samples, "file_set", "memory_set"),
        ),
        ("State.get, memory store (µs)", m["memory_get"] * 1e6, None),
        (
            "State.get, file store (µs)",
            m["file_get"] * 1e6,
            median_ratio(samples, "file_get", "memory_get"),
        ),
    ]


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start


def million(folder: Path) -> list[tuple[str, float, float | None]]:
    script = folder / "million.lua"
    script.write_text(LOAD_SCRIPT)
    store = folder / "million.db"
    memory = file = 0.0
    ratios = []
    for round_ in range(3):
        store.unlink(missing_ok=True)
        m = timed([*STATEUI, "run", str(script)])
        f = timed([*STATEUI, "run", "--store", str(store), str(script)])
        memory, file = (m, f) if round_ == 0 else (min(memory, m), min(file, f))
        ratios.append(f / m)
    size = sum(Path(f"{store}{suffix}").stat().st_size for suffix in ("",) if store.exists())
    get = statistics.median(
        timed([*STATEUI, "get", "--store", str(store), "cache:api_response:user_500000"])
        for _ in range(5)
    )
    load = asyncio.run(first_frame(store))
    return [
        ("1M keys, stateui run, memory store (s)", memory, None),
        ("1M keys, stateui run, file store, durable at exit (s)", file, statistics.median(ratios)),
        ("1M keys, the file's size (MB)", size / 2**20, None),
        ("1M-key store: stateui get, whole process (s)", get, None),
        ("1M-key store: the app's first frame, loading included (s)", load, None),
    ]


async def first_frame(path: Path) -> float:
    """Seconds from opening a store file to the app's first frame on it."""
    start = time.perf_counter()
    store = open_owned(path, command="bench")
    assert len(store) == 1_000_000
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        seconds = time.perf_counter() - start
    return seconds


def follower_delay(folder: Path, changes: int = 300) -> list[tuple[str, float, float | None]]:
    path = folder / "follow.db"
    owner = open_owned(path, command="bench", sync="always")  # committed as it is written
    store, follower = open_following(path)
    feed = store.subscribe()
    follower.start()
    delays: list[float] = []
    try:
        for i in range(changes):
            owner.set("tick", i, source="bench")
            committed = time.perf_counter()
            while True:
                assert feed.wait(2), "the follower never saw it"
                if any(c.value == str(i).encode() for c in feed.drain()[0]):
                    break
            delays.append(time.perf_counter() - committed)
            time.sleep(0.003 * (i % 7))  # commits at every phase of the poll
    finally:
        store.close()
        owner.close()
    delays.sort()
    return [
        ("follower delay, commit to feed, p50 (ms)", delays[len(delays) // 2] * 1e3, None),
        ("follower delay, commit to feed, p99 (ms)", delays[int(len(delays) * 0.99)] * 1e3, None),
    ]


def flood(folder: Path, seconds: float = 3.0) -> list[tuple[str, float, float | None]]:
    store = open_owned(folder / "flood.db", command="bench")
    log = store._log  # the journal's counters
    done = threading.Event()
    written = 0

    def write() -> None:
        nonlocal written
        while not done.is_set():
            for _ in range(1000):
                written += 1
                store.set(f"flood:{written % 1000}", {"i": written}, source="bench")

    thread = threading.Thread(target=write)
    start_commits, start_rows = log.commits, log.rows  # type: ignore[attr-defined]
    thread.start()
    time.sleep(seconds)
    done.set()
    thread.join()
    commits = log.commits - start_commits  # type: ignore[attr-defined]
    rows = log.rows - start_rows  # type: ignore[attr-defined]
    store.close()
    return [
        ("write flood: changes a second", written / seconds, None),
        ("write flood: commits a second", commits / seconds, None),
        ("write flood: changes a commit", rows / max(commits, 1), None),
    ]


def main() -> None:
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"{'measure':<58} {'median':>10} {'vs memory':>10}")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        for part in (set_get, million, follower_delay, flood):
            for label, value, ratio in part(folder):
                shown = f"{ratio:.2f}x" if ratio is not None else ""
                print(f"{label:<58} {value:>10.2f} {shown:>10}", flush=True)


if __name__ == "__main__":
    main()
