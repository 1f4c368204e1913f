"""Benchmarks of the state engine: `python tests/bench/bench_state.py`.

Measures, side by side in one run, the guide's progress record through:
State.set / State.get from Lua, a plain Lua table assignment (the floor), a Python
dict + lock + orjson (the floor without the bridge), and redis-py against a local
redis-server when one is installed. Then the time and peak RSS to load 1,000,000
small keys from one Lua script (in a child process, so its RSS is its own).
"""

from __future__ import annotations

import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import orjson

from tui.lua import LuaStateRuntime
from tui.state import Store

N = 100_000
REPEATS = 11
RECORD_LUA = "{current = i, total = n, percent = i / n * 100, timestamp = os.time()}"


def lua_timer(store: Store, body: str, n: int = N) -> Callable[[], float]:
    """A function that runs `body` `n` times in Lua and returns seconds per operation."""
    runtime = LuaStateRuntime(store, source="bench", on_output=lambda _: None)
    runtime._lua.globals().wall_clock = time.perf_counter
    runtime.run_source(
        f"""
        local n = {n}
        local clock, State, os = wall_clock, State, os
        function bench()
          local t = {{}}
          local start = clock()
          for i = 1, n do {body} end
          return (clock() - start) / n
        end
        """,
        "bench.lua",
    )
    bench = runtime._lua.globals().bench
    return lambda: float(bench())


def python_floor_set() -> float:
    data: dict[str, bytes] = {}
    lock = threading.Lock()
    start = time.perf_counter()
    for i in range(1, N + 1):
        record = {"current": i, "total": N, "percent": i / N * 100, "timestamp": int(time.time())}
        encoded = orjson.dumps(record)
        with lock:
            data["progress:import_job"] = encoded
    return (time.perf_counter() - start) / N


def python_floor_get() -> float:
    lock = threading.Lock()
    data = {
        "progress:import_job": orjson.dumps(
            {"current": 1, "total": N, "percent": 1.0, "timestamp": 1}
        )
    }
    start = time.perf_counter()
    for _ in range(N):
        with lock:
            encoded = data["progress:import_job"]
        orjson.loads(encoded)
    return (time.perf_counter() - start) / N


def sample(timers: dict[str, Callable[[], float]]) -> dict[str, list[float]]:
    """Seconds per operation of each timer, REPEATS rounds, the timers taking turns."""
    samples: dict[str, list[float]] = {name: [] for name in timers}
    for _ in range(REPEATS):
        for name, timer in timers.items():
            samples[name].append(timer())
    return samples


def median_ratio(samples: dict[str, list[float]], name: str, floor: str) -> float:
    """The median over rounds of name / floor: each round's pair ran side by side, so a
    machine that slows down for a while moves both and leaves the ratio alone."""
    return statistics.median(a / b for a, b in zip(samples[name], samples[floor], strict=True))


def start_redis() -> tuple[subprocess.Popen[bytes], int] | None:
    server = shutil.which("redis-server")
    if server is None:
        return None
    try:
        import redis  # noqa: F401
    except ImportError:
        return None
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return proc, port
        except OSError:
            time.sleep(0.02)
    proc.kill()
    return None


def redis_timers(port: int) -> tuple[Callable[[], float], Callable[[], float]]:
    import redis

    client = redis.Redis(host="127.0.0.1", port=port)
    n = N // 10  # a network round trip each: fewer operations, same per-op figure

    def set_op() -> float:
        start = time.perf_counter()
        for i in range(1, n + 1):
            record = {
                "current": i,
                "total": n,
                "percent": i / n * 100,
                "timestamp": int(time.time()),
            }
            client.set("progress:import_job", orjson.dumps(record))
        return (time.perf_counter() - start) / n

    def get_op() -> float:
        start = time.perf_counter()
        for _ in range(n):
            orjson.loads(client.get("progress:import_job"))  # type: ignore[arg-type]
        return (time.perf_counter() - start) / n

    return set_op, get_op


LOAD_SCRIPT = """
for i = 1, 1000000 do
  State.set("cache:api_response:user_" .. i, {id = i, ok = true})
end
"""


def load_million() -> tuple[float, float]:
    """Seconds and peak RSS (MB) for `stateui run` of a script setting 1M keys."""
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder, "million.lua")
        script.write_text(LOAD_SCRIPT)
        code = (
            "import resource, sys, time\n"
            "from pathlib import Path\n"
            "from tui.lua import ScriptRun\n"
            "from tui.state import Store\n"
            "store = Store()\n"
            "start = time.perf_counter()\n"
            f"result = ScriptRun(store, Path({str(script)!r}), on_line=print).start().wait()\n"
            "elapsed = time.perf_counter() - start\n"
            "assert result.status == 'ok' and len(store) == 1_000_000, result\n"
            "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
            "print(elapsed, peak)\n"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], check=True, capture_output=True, text=True
        )
    elapsed, peak = out.stdout.split()
    return float(elapsed), float(peak)


CANCEL_BODIES = {
    "tight loop": "while true do end",
    "pcall in a loop": "while true do pcall(function() while true do end end) end",
    "State.set in a loop": 'local i = 0 while true do i = i + 1 State.set("spin", {i = i}) end',
}


def cancel_latency(body: str, runs: int = 15) -> float:
    """Median seconds from cancel() to the run's end, for a script looping forever."""
    from tui.lua import ScriptRun

    samples = []
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder, "spin.lua")
        script.write_text(f'print("go")\n{body}\n')
        for _ in range(runs):
            started = threading.Event()
            run = ScriptRun(Store(), script, on_line=lambda _, ev=started: ev.set()).start()
            started.wait(10)
            time.sleep(0.05)
            begin = time.perf_counter()
            run.cancel()
            run.wait(10)
            samples.append(time.perf_counter() - begin)
    return statistics.median(samples)


def main() -> None:
    store = Store()
    store.set(
        "progress:import_job",
        {"current": 1, "total": N, "percent": 1.0, "timestamp": 1},
        source="bench",
    )
    timers = {
        "set": lua_timer(store, f'State.set("progress:import_job", {RECORD_LUA})'),
        "get": lua_timer(store, 'local v = State.get("progress:import_job")'),
        "table": lua_timer(store, f't["progress:import_job"] = {RECORD_LUA}'),
        "floor_set": python_floor_set,
        "floor_get": python_floor_get,
    }
    redis = start_redis()
    if redis is not None:
        timers["redis_set"], timers["redis_get"] = redis_timers(redis[1])
    try:
        samples = sample(timers)
    finally:
        if redis is not None:
            redis[0].terminate()
            redis[0].wait()
    m = {name: statistics.median(values) for name, values in samples.items()}

    def row(label: str, name: str, floor: str | None = None) -> tuple[str, float, float | None]:
        return label, m[name], median_ratio(samples, name, floor) if floor else None

    rows = [
        row("State.set (Lua → store)", "set", "floor_set"),
        row("State.get (store → Lua)", "get", "floor_get"),
        row("plain Lua table assignment (floor)", "table"),
        row("Python dict + lock + orjson, set (floor without the bridge)", "floor_set"),
        row("Python dict + lock + orjson, get (floor without the bridge)", "floor_get"),
    ]
    if redis is not None:
        rows += [
            row("redis-py SET, local redis-server", "redis_set", "floor_set"),
            row("redis-py GET, local redis-server", "redis_get", "floor_get"),
        ]
    else:
        rows.append(("redis-py (no redis-server installed: skipped)", float("nan"), None))
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"{'operation':<62} {'µs/op':>8} {'ops/s':>11} {'vs floor':>8}")
    for name, seconds, ratio_to_floor in rows:
        ratio = f"{ratio_to_floor:.2f}" if ratio_to_floor else ""
        ops = f"{1 / seconds:,.0f}" if seconds == seconds else ""
        print(f"{name:<62} {seconds * 1e6:>8.2f} {ops:>11} {ratio:>8}")
    for name, body in CANCEL_BODIES.items():
        label = f"cancel latency, {name} (ms)"
        print(f"{label:<62} {cancel_latency(body) * 1e3:>8.2f}")
    elapsed, peak = load_million()
    print(f"{'1,000,000 keys from one Lua script: seconds':<62} {elapsed:>8.2f}")
    print(f"{'1,000,000 keys from one Lua script: peak RSS (MB)':<62} {peak:>8.0f}")


if __name__ == "__main__":
    main()
