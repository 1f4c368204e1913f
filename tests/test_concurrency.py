"""Scripts in parallel against one store: atomic operations hold, cancellation works under load."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import orjson

from tui.lua import RunStatus, ScriptRun
from tui.state import Store


def run_all(store: Store, scripts: list[Path], timeout: float = 60) -> list[RunStatus]:
    runs = [
        ScriptRun(store, script, number=n, on_line=lambda _: None).start()
        for n, script in enumerate(scripts, 1)
    ]
    results = [run.wait(timeout) for run in runs]
    assert all(result is not None for result in results), "a run did not finish"
    return [result.status for result in results if result is not None]


def test_incr_is_atomic_across_scripts(tmp_path: Path, store: Store) -> None:
    script = tmp_path / "count.lua"
    script.write_text('for _ = 1, 25000 do State.incr("n") end')
    assert run_all(store, [script] * 4) == [RunStatus.OK] * 4
    assert store.get("n") == 100_000


def test_update_is_atomic_across_scripts(tmp_path: Path, store: Store) -> None:
    script = tmp_path / "update.lua"
    script.write_text(
        "for _ = 1, 2000 do\n"
        '  State.update("tally", function(t)\n'
        "    t = t or {count = 0, seen = {}}\n"
        "    t.count = t.count + 1\n"
        "    return t\n"
        "  end)\n"
        "end\n"
    )
    assert run_all(store, [script] * 4) == [RunStatus.OK] * 4
    assert store.get("tally")["count"] == 8000


def test_parallel_scripts_see_each_others_writes(tmp_path: Path, store: Store) -> None:
    for n, other in ((1, 2), (2, 1)):
        (tmp_path / f"branch_{n}.lua").write_text(
            f'State.set("branch_{n}_complete", true)\n'
            f'while not State.get("branch_{other}_complete") do sleep(0.001) end\n'
            f'State.set("branch_{n}_saw_other", true)\n'
        )
    scripts = [tmp_path / "branch_1.lua", tmp_path / "branch_2.lua"]
    assert run_all(store, scripts, timeout=20) == [RunStatus.OK] * 2
    assert store.get("branch_1_saw_other") and store.get("branch_2_saw_other")


def test_scripts_run_in_parallel_not_one_after_another(tmp_path: Path, store: Store) -> None:
    script = tmp_path / "wait.lua"
    # Each waits until all four have arrived: only possible if they run at once.
    script.write_text('State.incr("arrived")\nwhile State.get("arrived") < 4 do sleep(0.001) end\n')
    assert run_all(store, [script] * 4, timeout=20) == [RunStatus.OK] * 4


def test_cancelling_under_load_stops_every_run_and_keeps_the_store(
    tmp_path: Path, store: Store
) -> None:
    script = tmp_path / "busy.lua"
    script.write_text(
        "local i = 0\n"
        "while true do\n"
        "  i = i + 1\n"
        '  State.set("busy:" .. (i % 100), {i = i, tag = "x"})\n'
        '  pcall(State.incr, "ops")\n'
        "end\n"
    )
    runs = [ScriptRun(store, script, number=n, on_line=lambda _: None).start() for n in range(4)]
    deadline = time.monotonic() + 10
    while (store.get("ops") or 0) < 1000 and time.monotonic() < deadline:
        time.sleep(0.01)
    for run in runs:
        run.cancel()
    results = [run.wait(5) for run in runs]
    assert all(r is not None and r.status is RunStatus.CANCELLED for r in results)
    ops = store.get("ops")
    time.sleep(0.05)
    assert store.get("ops") == ops  # nothing writes after the cancel returned
    assert all(isinstance(store.get(key), dict) for key in store.keys("busy:"))


def test_readers_never_see_a_torn_value(tmp_path: Path, store: Store) -> None:
    writer = tmp_path / "writer.lua"
    writer.write_text('for i = 1, 20000 do State.set("pair", {a = i, b = i, list = {i, i, i}}) end')
    reader = tmp_path / "reader.lua"
    reader.write_text(
        "for _ = 1, 20000 do\n"
        '  local p = State.get("pair")\n'
        "  if p and (p.a ~= p.b or p.list[1] ~= p.a or p.list[3] ~= p.a) then\n"
        '    error("torn read")\n'
        "  end\n"
        "end\n"
    )
    store.set("pair", {"a": 0, "b": 0, "list": [0, 0, 0]}, source="test")
    assert run_all(store, [writer, reader, reader]) == [RunStatus.OK] * 3


def test_subscriber_sees_changes_from_running_scripts(tmp_path: Path, store: Store) -> None:
    script = tmp_path / "progress.lua"
    script.write_text(
        'for i = 1, 50 do\n  State.set("progress:job", {current = i, total = 50})\nend\n'
    )
    feed = store.subscribe()
    done = threading.Event()
    ScriptRun(store, script, on_line=print, on_done=lambda _: done.set()).start()
    assert done.wait(10)
    changes, dropped = feed.drain()
    seen = [orjson.loads(c.value)["current"] for c in changes if c.value is not None]
    assert dropped == 0
    assert seen == list(range(1, 51))
    assert {c.source for c in changes} == {"progress.lua#1"}
