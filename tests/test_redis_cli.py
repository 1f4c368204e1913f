"""`stateui run --store redis://…`: several processes on one store, and a server that
cannot be reached or goes away."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

from tests.conftest import stateui_command
from tests.redis_server import RedisServer, free_port
from tui.state.location import DEFAULT_TIMEOUT


def stateui(*args: str | Path, timeout: float = 120) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*stateui_command(), *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )


def test_four_processes_incrementing_one_key_lose_nothing(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    script = tmp_path / "count.lua"
    script.write_text('for _ = 1, 2500 do State.incr("n") end\n')
    url = redis_server.url()
    runs = [stateui("run", "--store", url, script) for _ in range(4)]
    for run in runs:
        _, err = run.communicate(timeout=120)
        assert run.returncode == 0, err
    check = tmp_path / "check.lua"
    check.write_text('print(State.get("n"), State.revision())\n')
    done = stateui("run", "--store", url, check)
    out, err = done.communicate(timeout=60)
    assert (done.returncode, out) == (0, "10000\t10000\n"), err


def test_an_unreachable_server_is_exit_2_with_the_password_masked(tmp_path: Path) -> None:
    script = tmp_path / "one.lua"
    script.write_text('State.set("a", 1)\n')
    started = time.monotonic()
    run = stateui("run", "--store", f"redis://:hunter2@127.0.0.1:{free_port()}/0", script)
    _, err = run.communicate(timeout=30)
    assert run.returncode == 2
    assert "the store at redis://:***@127.0.0.1:" in err and "is unreachable" in err
    assert "hunter2" not in err
    assert time.monotonic() - started < 10  # the process's start included


def test_a_server_lost_mid_run_fails_each_call_clearly_and_the_run(tmp_path: Path) -> None:
    server = RedisServer(tmp_path)  # its own: this test stops it
    script = tmp_path / "busy.lua"
    script.write_text('State.set("started", true)\nwhile true do State.incr("n") end\n')
    run = stateui("run", "--store", server.url(), script)
    try:
        import redis

        client = redis.Redis(port=server.port)
        deadline = time.monotonic() + 30
        while not client.keys("*:v:started"):
            assert time.monotonic() < deadline, "the run never started"
            time.sleep(0.02)
    finally:
        server.stop()
    _, err = run.communicate(timeout=30)
    assert run.returncode == 1
    assert "busy.lua:2: State.incr: the store at redis://127.0.0.1:" in err
    assert "is unreachable" in err


class Lines:
    """The lines a process prints, as they come (read by a thread, so that a test waits
    for one with a timeout rather than blocking)."""

    def __init__(self, stream: IO[str]) -> None:
        self._queue: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)  # the process closed its output

    def wait_for(self, start: str, timeout: float = 15) -> str:
        """The first line from here on that starts with `start`."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no line {start!r} in time; seen {self.seen}") from None
            assert line is not None, f"no line {start!r} before the end; seen {self.seen}"
            self.seen.append(line)
            if line.startswith(start):
                return line


def test_a_run_goes_on_when_its_server_comes_back(tmp_path: Path) -> None:
    server = RedisServer(tmp_path, durable=True)  # its own: this test stops it
    url = server.url()
    script = tmp_path / "loop.lua"
    script.write_text(
        'State.set("before", "kept")\n'
        'print("started")\n'
        "local failures, after, i = 0, 0, 0\n"
        "while after < 20 do\n"
        "  i = i + 1\n"
        '  local ok, err = pcall(State.set, "n", i)\n'
        "  if not ok then\n"
        "    failures = failures + 1\n"
        '    if failures == 1 then print("lost: " .. tostring(err)) end\n'
        '    if failures == 60 then print("still lost") end\n'
        "    sleep(0.02)\n"
        "  elseif failures > 0 then\n"
        "    after = after + 1\n"
        "  else\n"
        "    sleep(0.005)\n"
        "  end\n"
        "end\n"
        'print("back; n = " .. State.get("n"))\n'
        # The sweeper survived the outage: the key's expiry is recorded as a change.
        'State.set("brief", 1, {ttl = 0.05})\n'
        'local seen = State.wait("brief", 5, State.revision())\n'
        'while seen and seen.op == "set" do seen = State.wait("brief", 5, seen.version) end\n'
        'print("brief: " .. (seen and seen.op or "still there"))\n'
    )
    run = subprocess.Popen(
        [*stateui_command(), "run", "--store", url, str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert run.stdout is not None
        lines = Lines(run.stdout)
        lines.wait_for("started")
        server.stop()
        lost = lines.wait_for("lost: ")
        assert "State.set: the store at redis://127.0.0.1:" in lost and "is unreachable" in lost
        lines.wait_for("still lost")  # over a second: every thread of the run met the outage
        server.start()
        back = lines.wait_for("back; n = ")
        assert lines.wait_for("brief: ") == "brief: expire"
        assert run.wait(timeout=15) == 0
        assert run.stderr is not None and run.stderr.read() == ""  # no thread died
        import redis

        ns = url.rsplit("=", 1)[1]
        client = redis.Redis(port=server.port)
        assert client.get(f"{ns}:v:before") == b'"kept"'  # written before the kill
        assert client.get(f"{ns}:v:n") == back.removeprefix("back; n = ").encode()
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
        server.stop()


def test_a_frozen_server_ends_the_run_within_the_timeout(tmp_path: Path) -> None:
    server = RedisServer(tmp_path)  # its own: this test freezes it
    script = tmp_path / "busy.lua"
    script.write_text('State.set("started", true)\nwhile true do State.incr("n") end\n')
    run = stateui("run", "--store", server.url(), script)
    try:
        import redis

        client = redis.Redis(port=server.port)
        deadline = time.monotonic() + 30
        while not client.keys("*:v:started"):
            assert time.monotonic() < deadline, "the run never started"
            time.sleep(0.02)
        # A server that answers nothing (not one that refuses): every call waits for it.
        server.process.send_signal(signal.SIGSTOP)
        frozen = time.monotonic()
        _, err = run.communicate(timeout=30)
        took = time.monotonic() - frozen
    finally:
        server.process.send_signal(signal.SIGCONT)
        server.stop()
    assert run.returncode == 1, err
    assert "busy.lua:2: State.incr: the store at redis://127.0.0.1:" in err
    assert "is unreachable" in err and "Traceback" not in err
    # The call that waited fails at the timeout; the run ends right after it.
    assert took < DEFAULT_TIMEOUT + 1, f"the run took {took:.1f} s to end"


def test_the_job_queue_runs_as_three_processes_and_again_on_one_namespace(
    redis_server: RedisServer,
) -> None:
    folder = Path(__file__).parent.parent / "lua_examples" / "job_queue"
    url = redis_server.url()
    for _ in range(2):  # the second run finds the first one's keys, and starts clean
        workers = [stateui("run", "--store", url, folder / f"worker_{n}.lua") for n in (1, 2)]
        producer = stateui("run", "--store", url, folder / "producer.lua")
        out, err = producer.communicate(timeout=60)
        assert (producer.returncode, out) == (
            0,
            "6 jobs done, the sums of squares add up to 369\n",
        ), err
        taken = []
        for worker in workers:
            out, err = worker.communicate(timeout=60)
            assert worker.returncode == 0, err
            taken.append(int(out.split(" took ")[1].split()[0]))
        assert sum(taken) == 6


def test_history_set_once_is_kept_by_the_runs_that_do_not_say(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    script = tmp_path / "one.lua"
    script.write_text('State.set("a", 1)\n')
    url = redis_server.url()
    for extra in (["--history", "3"], []):
        run = stateui("run", "--store", url, *extra, script)
        _, err = run.communicate(timeout=60)
        assert run.returncode == 0, err
    info = stateui("info", "--store", url)
    out, err = info.communicate(timeout=60)
    assert "history:  the last 3 versions of each key" in out, out + err


def test_redis_py_is_loaded_only_for_a_redis_store() -> None:
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, tui.cli; print('redis' in sys.modules)"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert loaded.stdout == "False\n", loaded.stderr  # it costs a start 0.15 s
