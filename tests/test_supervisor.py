"""The supervisor and the file watcher: runs, reruns on change, stops, missing scripts."""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import STUCK_IN_C
from tui.lua.supervisor import (
    Event,
    Printed,
    RunEnded,
    RunStarted,
    ScriptMissing,
    ScriptStatus,
    Supervisor,
)
from tui.lua.watcher import watch_scripts
from tui.state import Store


class Events:
    """Collects a supervisor's events and waits for conditions on them."""

    def __init__(self) -> None:
        self.seen: list[Event] = []
        self._changed = threading.Condition()

    def __call__(self, event: Event) -> None:
        with self._changed:
            self.seen.append(event)
            self._changed.notify_all()

    def wait_for(self, condition: Callable[[list[Event]], object], timeout: float = 10) -> None:
        with self._changed:
            assert self._changed.wait_for(lambda: condition(self.seen), timeout), self.seen

    def ends(self) -> list[RunEnded]:
        return [event for event in self.seen if isinstance(event, RunEnded)]

    def printed(self) -> list[str]:
        return [event.text for event in self.seen if isinstance(event, Printed)]


@pytest.fixture
def events() -> Events:
    return Events()


@pytest.fixture
def supervise(store: Store, events: Events) -> Iterator[Callable[..., Supervisor]]:
    made: list[Supervisor] = []

    def make(*paths: Path, **options: object) -> Supervisor:
        supervisor = Supervisor(store, list(paths), on_event=events, **options)  # type: ignore[arg-type]
        made.append(supervisor)
        return supervisor

    yield make
    for supervisor in made:
        supervisor.close()


# A script that prints, then enters one long call into C that a cancel cannot reach.
STUCK_SCRIPT = f'print("in")\n{STUCK_IN_C}\n'


def ended(count: int) -> Callable[[list[Event]], bool]:
    return lambda seen: sum(isinstance(event, RunEnded) for event in seen) >= count


def test_a_run_reports_start_lines_and_end(tmp_path: Path, supervise, events: Events) -> None:
    script = tmp_path / "hello.lua"
    script.write_text('State.set("greeting", "hi")\nprint("hello")\n')
    supervisor = supervise(script)
    supervisor.start_all()
    events.wait_for(ended(1))
    assert events.seen[0] == RunStarted("hello.lua", 1)
    assert events.printed() == ["hello"]
    assert events.ends()[0].result.status == "ok"
    state = supervisor.script("hello.lua")
    assert (state.status, state.runs) == (ScriptStatus.OK, 1)
    assert state.last_duration is not None and state.last_duration > 0
    assert supervisor.store.get("greeting") == "hi"


def test_a_rerun_cancels_the_running_run_before_starting_again(
    tmp_path: Path, supervise, events: Events, store: Store
) -> None:
    script = tmp_path / "loop.lua"
    script.write_text(
        'State.incr("starts")\nprint("in")\nwhile true do State.set("alive", true) end\n'
    )
    supervisor = supervise(script)
    supervisor.start_all()
    events.wait_for(lambda seen: "in" in events.printed())
    supervisor.rerun("loop.lua")
    events.wait_for(lambda seen: events.printed().count("in") == 2)
    first = events.ends()[0]
    assert (first.result.number, first.result.status, first.result.reason) == (
        1,
        "cancelled",
        "restarted",
    )
    # The new run started only after the old one had ended: never two at once.
    starts = [i for i, event in enumerate(events.seen) if isinstance(event, RunStarted)]
    assert events.seen.index(first) < starts[1]
    assert store.get("starts") == 2
    supervisor.stop(None)
    events.wait_for(ended(2))
    assert supervisor.script("loop.lua").status is ScriptStatus.CANCELLED


def test_a_missing_script_is_reported_and_runs_when_it_appears(
    tmp_path: Path, supervise, events: Events
) -> None:
    script = tmp_path / "later.lua"
    supervisor = supervise(script)
    supervisor.start_all()
    assert events.seen == [ScriptMissing("later.lua", script)]
    assert supervisor.script("later.lua").status is ScriptStatus.MISSING
    script.write_text('print("here now")\n')
    assert supervisor.files_changed([script]) == ["later.lua"]
    events.wait_for(ended(1))
    assert events.printed() == ["here now"]


def test_a_syntax_error_is_an_error_run(tmp_path: Path, supervise, events: Events) -> None:
    script = tmp_path / "bad.lua"
    script.write_text("print(\n")
    supervisor = supervise(script)
    supervisor.start_all()
    events.wait_for(ended(1))
    result = events.ends()[0].result
    assert result.status == "error" and result.error is not None
    assert result.error.message.startswith("bad.lua:")
    assert supervisor.script("bad.lua").status is ScriptStatus.ERROR


def test_a_change_to_a_required_module_reruns_the_script(
    tmp_path: Path, supervise, events: Events
) -> None:
    (tmp_path / "util.lua").write_text("return { n = 1 }\n")
    script = tmp_path / "main.lua"
    script.write_text('print(require("util").n)\n')
    supervisor = supervise(script)
    supervisor.start_all()
    events.wait_for(ended(1))
    assert (tmp_path / "util.lua") in supervisor.watched_files()
    assert supervisor.files_changed([tmp_path / "other.lua"]) == []
    assert supervisor.files_changed([tmp_path / "util.lua"]) == ["main.lua"]
    events.wait_for(ended(2))


def test_reset_empties_the_store_before_each_run(
    tmp_path: Path, supervise, events: Events, store: Store
) -> None:
    store.set("left:over", 1, source="test")
    script = tmp_path / "count.lua"
    script.write_text('State.incr("runs")\n')
    supervisor = supervise(script, reset=True)
    supervisor.start_all()
    events.wait_for(ended(1))
    supervisor.rerun(None)
    events.wait_for(ended(2))
    assert store.snapshot() == {"runs": 1}


def test_lines_written_to_io_stderr_are_marked_stderr(
    tmp_path: Path, supervise, events: Events
) -> None:
    script = tmp_path / "warn.lua"
    script.write_text('print("out")\nio.stderr:write("careful\\n")\n')
    supervise(script).start_all()
    events.wait_for(ended(1))
    printed = [event for event in events.seen if isinstance(event, Printed)]
    assert printed == [
        Printed("warn.lua", 1, "out"),
        Printed("warn.lua", 1, "careful", stderr=True),
    ]


def live_runs(label: str) -> list[threading.Thread]:
    """The threads of the runs of `label` that are still going."""
    return [t for t in threading.enumerate() if t.name.startswith(f"stateui {label}#")]


def test_a_stuck_run_is_not_rerun_beside_itself_but_once_it_ends(
    tmp_path: Path, supervise, events: Events
) -> None:
    script = tmp_path / "stuck_rerun.lua"
    script.write_text(STUCK_SCRIPT)
    supervisor = supervise(script, stuck_grace=0.2)
    supervisor.start_all()
    events.wait_for(lambda seen: "in" in events.printed())
    supervisor.rerun("stuck_rerun.lua")
    events.wait_for(lambda seen: any("is stuck" in text for text in events.printed()))
    assert supervisor.script("stuck_rerun.lua").status is ScriptStatus.STUCK
    (said,) = [text for text in events.printed() if "is stuck" in text]
    assert said == (
        "── run 1 is stuck in one long call into Lua's C library and cannot be stopped; "
        "it will be run again once that call ends; "
        "meanwhile it runs only when the CPU is otherwise idle"
    )
    # It no longer competes for the CPU: its thread runs under Linux's idle policy.
    (stuck,) = live_runs("stuck_rerun.lua")
    assert stuck.native_id is not None
    assert os.sched_getscheduler(stuck.native_id) == os.SCHED_IDLE
    script.write_text('print("again")\n')  # so that the rerun, when it comes, is quick
    # Saves and reruns while it is stuck: none starts a thread beside the stuck one.
    for _ in range(3):
        supervisor.rerun("stuck_rerun.lua")
        supervisor.files_changed([script])
        assert len(live_runs("stuck_rerun.lua")) == 1
        time.sleep(0.1)
    assert [e for e in events.seen if isinstance(e, RunStarted)] == [
        RunStarted("stuck_rerun.lua", 1)
    ]
    assert events.ends() == []
    # The call ends by itself: the run ends as cancelled, then the one rerun starts.
    events.wait_for(ended(2), timeout=20)
    (first, second) = events.ends()
    assert first.result.status == "cancelled" and first.result.reason == "restarted"
    assert second.result.status == "ok" and second.result.number == 2
    starts = [e for e in events.seen if isinstance(e, RunStarted)]
    assert starts == [RunStarted("stuck_rerun.lua", 1), RunStarted("stuck_rerun.lua", 2)]
    assert events.seen.index(first) < events.seen.index(starts[1])
    assert supervisor.script("stuck_rerun.lua").status is ScriptStatus.OK


def test_a_stuck_run_that_was_stopped_ends_when_its_call_does(
    tmp_path: Path, supervise, events: Events
) -> None:
    script = tmp_path / "stuck_stop.lua"
    script.write_text(STUCK_SCRIPT)
    supervisor = supervise(script, stuck_grace=0.2)
    supervisor.start_all()
    events.wait_for(lambda seen: "in" in events.printed())
    supervisor.stop("stuck_stop.lua")
    events.wait_for(lambda seen: any("is stuck" in text for text in events.printed()))
    assert supervisor.script("stuck_stop.lua").status is ScriptStatus.STUCK
    assert "cannot be stopped; it ends when that call does; meanwhile" in events.printed()[-1]
    events.wait_for(ended(1), timeout=20)
    assert events.ends()[0].result.reason == "stopped"
    assert supervisor.script("stuck_stop.lua").status is ScriptStatus.CANCELLED
    time.sleep(0.3)  # nothing else starts
    assert len([e for e in events.seen if isinstance(e, RunStarted)]) == 1


# -- the file watcher ------------------------------------------------------------------


def watching(
    supervisor: Supervisor, **options: object
) -> tuple[threading.Thread, Callable[[], None]]:
    """Run the watcher in its own event loop thread; the function to stop it."""
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def main() -> None:
        await watch_scripts(supervisor, stop, **options)  # type: ignore[arg-type]

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()

    def finish() -> None:
        loop.call_soon_threadsafe(stop.set)
        thread.join(5)
        assert not thread.is_alive()

    return thread, finish


def save_until_rerun(
    events: Events, path: Path, text: Callable[[int], str], printed: Callable[[int], str]
) -> None:
    """Save `path` (as `text(n)`) until a run prints `printed(n)`.

    The watcher has no "ready" signal of its own: saving again is the way to wait.
    """
    for attempt in range(60):
        path.write_text(text(attempt))
        try:
            events.wait_for(lambda seen, n=attempt: printed(n) in events.printed(), 0.3)
        except AssertionError:
            continue
        return
    raise AssertionError(f"saving {path.name} never reran the script")


def wait_watching(script: Path, events: Events) -> None:
    """Return once the watcher reacts to saves of the script (which is then as it was)."""
    original = script.read_bytes()
    save_until_rerun(events, script, lambda n: f'print("ready {n}")\n', lambda n: f"ready {n}")
    script.write_bytes(original)


def test_saving_the_script_reruns_it(tmp_path: Path, supervise, events: Events) -> None:
    script = tmp_path / "job.lua"
    script.write_text('print("one")\n')
    supervisor = supervise(script)
    supervisor.start_all()
    events.wait_for(ended(1))
    _, finish = watching(supervisor)
    try:
        wait_watching(script, events)
        script.write_text('print("two")\n')
        events.wait_for(lambda seen: "two" in events.printed())
        # An editor's save: write a temporary file, rename it over the script.
        temporary = tmp_path / ".job.lua.tmp"
        temporary.write_text('print("three")\n')
        temporary.replace(script)
        events.wait_for(lambda seen: "three" in events.printed())
        # Deleted: missing; back again: runs.
        script.unlink()
        events.wait_for(lambda seen: isinstance(seen[-1], ScriptMissing))
        script.write_text('print("four")\n')
        events.wait_for(lambda seen: "four" in events.printed())
    finally:
        finish()


def test_a_change_to_a_module_in_a_subfolder_reruns_the_script(
    tmp_path: Path, supervise, events: Events
) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "mod.lua").write_text("return 1\n")
    script = tmp_path / "main.lua"
    script.write_text('print((require("lib.mod")))\n')
    supervisor = supervise(script)
    supervisor.start_all()
    events.wait_for(ended(1))
    _, finish = watching(supervisor)
    try:
        wait_watching(script, events)
        (tmp_path / "lib" / "mod.lua").write_text("return 2\n")
        events.wait_for(lambda seen: "2" in events.printed())
    finally:
        finish()


def test_a_module_of_a_script_still_running_reruns_it(
    tmp_path: Path, supervise, events: Events
) -> None:
    (tmp_path / "mod.lua").write_text("return 1\n")
    script = tmp_path / "server.lua"
    script.write_text('require("mod")\nprint("up")\nwhile true do sleep(0.01) end\n')
    supervisor = supervise(script)
    supervisor.start_all()
    events.wait_for(lambda seen: "up" in events.printed())
    assert (tmp_path / "mod.lua") in supervisor.watched_files()
    assert supervisor.files_changed([tmp_path / "mod.lua"]) == ["server.lua"]
    events.wait_for(lambda seen: events.printed().count("up") == 2)


def test_scripts_read_an_empty_stdin(tmp_path: Path, supervise, events: Events) -> None:
    script = tmp_path / "reader.lua"
    script.write_text('print(io.read("l"))\n')
    supervise(script).start_all()
    events.wait_for(ended(1))
    assert events.printed() == ["nil"]


@pytest.mark.latency
def test_closing_gives_stuck_runs_one_deadline_in_all(
    tmp_path: Path, supervise, events: Events
) -> None:
    scripts = []
    for n in range(3):
        script = tmp_path / f"stuck{n}.lua"
        script.write_text(STUCK_SCRIPT)
        scripts.append(script)
    supervisor = supervise(*scripts, stuck_grace=60)
    supervisor.start_all()
    events.wait_for(lambda seen: events.printed().count("in") == 3)
    started = time.monotonic()
    supervisor.close(0.3)
    assert time.monotonic() - started < 1.0
    assert {end.result.status for end in events.ends()} == {"cancelled"}
    assert len(events.ends()) == 3
    started = time.monotonic()
    supervisor.close(5)  # again: nothing left to wait for
    assert time.monotonic() - started < 0.1


def test_a_module_in_a_subfolder_is_watched_while_the_script_runs(
    tmp_path: Path, supervise, events: Events
) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "mod.lua").write_text("return 1\n")
    script = tmp_path / "main.lua"
    script.write_text('print("got " .. require("lib.mod"))\n')
    supervisor = supervise(script)
    _, finish = watching(supervisor)  # started together, as the app does
    try:
        supervisor.start_all()
        events.wait_for(ended(1))
        save_until_rerun(
            events,
            tmp_path / "lib" / "mod.lua",
            lambda n: f"return {n + 2}\n",  # the first run printed "got 1"
            lambda n: f"got {n + 2}",
        )
    finally:
        finish()


def test_a_script_whose_folder_comes_back_runs_again(
    tmp_path: Path, supervise, events: Events
) -> None:
    folder = tmp_path / "sub"
    folder.mkdir()
    script = folder / "job.lua"
    script.write_text('print("first")\n')
    supervisor = supervise(script)
    supervisor.start_all()
    events.wait_for(ended(1))
    _, finish = watching(supervisor)
    try:
        wait_watching(script, events)
        shutil.rmtree(folder)
        events.wait_for(lambda seen: isinstance(seen[-1], ScriptMissing))
        folder.mkdir()
        script.write_text('print("back")\n')
        events.wait_for(lambda seen: "back" in events.printed())
    finally:
        finish()


def test_a_file_whose_name_is_not_utf8_does_not_stop_reruns(
    tmp_path: Path, supervise, events: Events
) -> None:
    script = tmp_path / "job.lua"
    script.write_text('print("first")\n')
    supervisor = supervise(script)
    supervisor.start_all()
    events.wait_for(ended(1))
    told: list[str] = []
    _, finish = watching(
        supervisor,
        retry=0.1,
        on_stopped=lambda reason: told.append(f"stopped: {reason}"),
        on_resumed=lambda: told.append("resumed"),
    )
    try:
        wait_watching(script, events)
        # Made, then the script saved at once: watchfiles fails on the batch holding both.
        # The name on disk is the bytes b"caf\xe9.lua" (Latin-1), not UTF-8.
        (tmp_path / os.fsdecode(b"caf\xe9.lua")).write_bytes(b"-- not UTF-8\n")
        script.write_text('print("second")\n')
        events.wait_for(lambda seen: "second" in events.printed())
        save_until_rerun(events, script, lambda n: f'print("later {n}")\n', lambda n: f"later {n}")
        assert len(told) == 2 and told[0].startswith("stopped: ") and told[1] == "resumed", told
        assert "caf" in told[0]
    finally:
        finish()


def test_a_script_in_a_folder_whose_name_is_not_utf8_is_rerun_on_save(
    tmp_path: Path, supervise, events: Events
) -> None:
    folder = tmp_path / os.fsdecode(b"d\xe9j\xe0")  # Latin-1 bytes on disk
    folder.mkdir()
    script = folder / "job.lua"
    script.write_text('print("first")\n')
    other = tmp_path / "other.lua"  # in a folder watchfiles can watch
    other.write_text('print("other")\n')
    supervisor = supervise(script, other)
    supervisor.start_all()
    events.wait_for(ended(2))
    told: list[str] = []
    _, finish = watching(supervisor, on_stopped=told.append)
    try:
        wait_watching(script, events)
        save_until_rerun(events, other, lambda n: f'print("o {n}")\n', lambda n: f"o {n}")
        script.write_text('print("second")\n')
        events.wait_for(lambda seen: "second" in events.printed())
        assert told == []
    finally:
        finish()


def test_the_watched_folder_made_again_and_unreadable_for_a_while_is_watched(
    tmp_path: Path, supervise, events: Events
) -> None:
    folder = tmp_path / "sub"
    folder.mkdir()
    script = folder / "job.lua"
    script.write_text('print("first")\n')
    supervisor = supervise(script)
    supervisor.start_all()
    events.wait_for(ended(1))
    told: list[str] = []
    _, finish = watching(supervisor, retry=0.1, on_stopped=told.append)
    try:
        wait_watching(script, events)
        folder.chmod(0)
        folder.chmod(0o755)
        shutil.rmtree(folder)
        folder.mkdir()
        (folder / "sub").mkdir()
        shutil.rmtree(folder / "sub")
        # The script comes back: the first save may be read half written (empty) by the
        # check for missing files, so it is saved until a run prints it.
        save_until_rerun(events, script, lambda n: f'print("back {n}")\n', lambda n: f"back {n}")
        save_until_rerun(events, script, lambda n: f'print("later {n}")\n', lambda n: f"later {n}")
        assert told == []  # the file system did all that: the watcher did not fail
    finally:
        finish()


def test_checking_files_catches_what_events_missed(
    tmp_path: Path, supervise, events: Events
) -> None:
    script = tmp_path / "job.lua"
    script.write_text('print("ran")\n')
    supervisor = supervise(script)
    supervisor.start_all()
    events.wait_for(ended(1))
    assert supervisor.check_files() == []  # all as it should be: nothing to do
    script.unlink()
    assert supervisor.check_files() == ["job.lua"]
    assert supervisor.script("job.lua").status is ScriptStatus.MISSING
    script.write_text('print("ran again")\n')
    assert supervisor.check_files() == ["job.lua"]
    events.wait_for(lambda seen: "ran again" in events.printed())


def test_scripts_that_share_a_file_name_write_under_their_own_label(
    tmp_path: Path, supervise, events: Events, store: Store
) -> None:
    scripts = []
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        script = tmp_path / folder / "job.lua"
        script.write_text(f'State.set("{folder}", 1)\n')
        scripts.append(script)
    supervise(*scripts).start_all()
    events.wait_for(ended(2))
    sources = {key: store.entry(key).source for key in ("a", "b")}  # type: ignore[union-attr]
    assert sources == {"a": f"{scripts[0]}#1", "b": f"{scripts[1]}#1"}


def test_one_script_given_twice_writes_under_two_labels_with_one_run_number(
    tmp_path: Path, supervise, events: Events, store: Store
) -> None:
    script = tmp_path / "job.lua"
    script.write_text('State.set("by:" .. State.incr("runs"), true)\n')
    supervisor = supervise(script, script)
    assert [watched.label for watched in supervisor.scripts] == ["job.lua", "job.lua (2)"]
    supervisor.start_all()
    events.wait_for(ended(2))
    sources = {store.entry(key).source for key in ("by:1", "by:2")}  # type: ignore[union-attr]
    assert sources == {"job.lua#1", "job.lua (2)#1"}
