"""Scripts that wait for each other: State.wait and State.revision, their timeouts, the
race-free `after`, cancellation while waiting, and what a waiting script reports."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import Lua, start_script, stateui_command
from tui.lua.runner import RunStatus
from tui.lua.supervisor import Supervisor, Waiting
from tui.state import Op, StateError, Store
from tui.state.waiting import key_pattern, wait_for


def later(seconds: float, action: object) -> threading.Timer:
    timer = threading.Timer(seconds, action)  # type: ignore[arg-type]
    timer.start()
    return timer


# -- the engine -----------------------------------------------------------------------------


def test_patterns_are_exact_keys_or_globs() -> None:
    assert key_pattern("jobs:1")("jobs:1")
    assert not key_pattern("jobs:1")("jobs:10")
    assert key_pattern("jobs:*")("jobs:1:result")
    assert not key_pattern("jobs:*")("Jobs:1")
    assert key_pattern("r?sult:[12]")("result:2")


def test_wait_returns_the_first_matching_change_made_after_the_call(store: Store) -> None:
    later(0.05, lambda: (store.set("other", 1, source="t"), store.set("jobs:7", 7, source="t")))
    change = wait_for(store, "jobs:*", timeout=5)
    assert change is not None
    assert (change.key, change.op, change.value, change.version) == ("jobs:7", Op.SET, b"7", 2)


def test_wait_with_after_finds_a_change_made_before_the_call(any_store: Store) -> None:
    revision = any_store.revision
    any_store.set("result:42", {"ok": True}, source="t")
    any_store.set("result:42", {"ok": False}, source="t")
    started = time.monotonic()
    change = wait_for(any_store, "result:42", timeout=10, after=revision)
    assert time.monotonic() - started < 1
    assert change is not None and change.value == b'{"ok":true}'  # the first after it
    later_change = wait_for(any_store, "result:42", timeout=10, after=change.version)
    assert later_change is not None and later_change.value == b'{"ok":false}'


def test_wait_times_out_with_none(store: Store) -> None:
    started = time.monotonic()
    assert wait_for(store, "never", timeout=0.1) is None
    assert 0.1 <= time.monotonic() - started < 1
    assert wait_for(store, "never", timeout=0) is None


def test_wait_sees_deletes_and_expiries(store: Store) -> None:
    store.set("a", 1, source="t")
    later(0.02, lambda: store.delete("a", source="t"))
    deleted = wait_for(store, "a", timeout=5)
    assert deleted is not None and (deleted.op, deleted.value) == (Op.DELETE, None)
    store.set("b", 1, source="t", ttl=0.05)
    expired = wait_for(store, "b", timeout=5)
    assert expired is not None and (expired.op, expired.source) == (Op.EXPIRE, "ttl")


def test_wait_with_after_needs_a_history(store: Store) -> None:
    from tui.state.change_log import MemoryChangeLog

    no_history = Store(log=MemoryChangeLog(history=0))
    no_history.set("k", 1, source="t")
    with pytest.raises(StateError, match="keeps no history"):
        wait_for(no_history, "k", timeout=0, after=0)


@pytest.mark.latency
def test_a_stop_ends_a_wait_within_100_ms(store: Store) -> None:
    stopping = threading.Event()

    class Stopped(Exception):
        pass

    def stop() -> None:
        if stopping.is_set():
            raise Stopped

    timer = later(0.05, stopping.set)
    started = time.monotonic()
    with pytest.raises(Stopped):
        wait_for(store, "never", stop=stop)
    assert time.monotonic() - started - 0.05 < 0.1
    timer.join()


# -- through Lua ------------------------------------------------------------------------------


def test_the_lua_api_returns_the_change_as_a_table(store: Store) -> None:
    lua = Lua(store)
    lines = lua.run(
        """
        local r = State.revision()
        State.set("result:1", {total = 3})
        State.delete("result:1")
        local c = State.wait("result:*", 1, r)
        print(State.revision(), c.key, c.op, c.value.total, c.version)
        local d = State.wait("result:*", 1, c.version)
        print(d.key, d.op, d.value, d.version)
        print(State.wait("nothing", 0.01))
        """
    )
    assert lines == ["2\tresult:1\tset\t3\t1", "result:1\tdelete\tnil\t2", "nil"]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("State.wait(5)", "State.wait: pattern must be a string, got number"),
        ('State.wait("k", -1)', "State.wait: timeout must be a number of seconds of at least 0"),
        ('State.wait("k", "soon")', "State.wait: timeout must be a number of seconds, got string"),
        ('State.wait("k", 1, 2.5)', "State.wait: after must be a revision (an integer), got float"),
        ('State.wait("k", 1, -3)', "State.wait: after must be a revision of at least 0, got -3"),
    ],
)
def test_bad_arguments_to_wait_are_clear_errors(store: Store, call: str, message: str) -> None:
    lines = Lua(store).run(f"print(pcall(function() return {call} end))")
    assert len(lines) == 1
    assert lines[0].startswith("false\t")
    assert message in lines[0]


@pytest.mark.latency
def test_a_waiting_script_is_cancelled_within_100_ms(store: Store, tmp_path: Path) -> None:
    run = start_script(store, tmp_path / "waits.lua", 'State.wait("never")')
    time.sleep(0.05)  # into the wait
    started = time.monotonic()
    run.cancel("stopped")
    result = run.wait(5)
    assert result is not None and result.status is RunStatus.CANCELLED
    assert time.monotonic() - started < 0.1


def test_a_waiting_run_says_on_what_and_since_when(store: Store, tmp_path: Path) -> None:
    script = tmp_path / "worker.lua"
    script.write_text('local c = State.wait("jobs:*")\nprint("got " .. c.key)\n')
    events: list[Waiting] = []
    waiting = threading.Event()

    def on_event(event: object) -> None:
        if isinstance(event, Waiting):
            events.append(event)
            waiting.set()

    supervisor = Supervisor(store, [script], on_event=on_event)
    supervisor.start_all()
    assert waiting.wait(5)
    info = supervisor.scripts[0].waiting
    assert info is not None and info[0] == "jobs:*"
    assert time.monotonic() - info[1] < 5
    store.set("jobs:1", 1, source="t")
    run = supervisor.scripts[0].run
    assert run is not None and run.wait(5) is not None
    assert events == [Waiting("worker.lua", 1, "jobs:*"), Waiting("worker.lua", 1, None)]
    assert supervisor.scripts[0].waiting is None
    supervisor.close()


# -- through the command line ---------------------------------------------------------------


def test_run_timeout_covers_a_waiting_script(tmp_path: Path) -> None:
    script = tmp_path / "waits.lua"
    script.write_text('print("waiting")\nState.wait("never")\n')
    started = time.monotonic()
    done = subprocess.run(
        [*stateui_command(), "run", "--timeout", "0.3", str(script)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 1
    assert "waiting" in done.stdout
    assert "timed out" in done.stderr or "cancelled" in done.stderr
    assert time.monotonic() - started < 10


def test_two_scripts_hand_work_over_with_wait(tmp_path: Path) -> None:
    producer = tmp_path / "producer.lua"
    consumer = tmp_path / "consumer.lua"
    producer.write_text(
        """
        local r = State.revision()
        State.set("request", {n = 21})
        local answer = State.wait("answer", 10, r)
        print("answer " .. answer.value)
        """
    )
    consumer.write_text(
        """
        local r = State.revision()
        local request = State.get("request") or State.wait("request", 10, r).value
        State.set("answer", request.n * 2)
        """
    )
    done = subprocess.run(
        [*stateui_command(), "run", str(consumer), str(producer)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "answer 42" in done.stdout
