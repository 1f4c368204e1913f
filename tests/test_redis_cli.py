"""`stateui run --store redis://…`: several processes on one store, and a server that
cannot be reached or goes away."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from tests.conftest import stateui_command
from tests.redis_server import RedisServer, free_port


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
