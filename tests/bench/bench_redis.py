"""Benchmarks of the Redis store: `python tests/bench/bench_redis.py [--quick]`.

Measures, side by side in one run against one private redis-server that it starts on a
free loopback port in a temporary folder:
- State.set and State.get of the guide's progress record from Lua on a RedisStore,
  against a bare redis-py SET / GET of the same JSON on a plain client (target: at most
  1.5x), with the steps in between so that the table shows where the time goes: the
  store's SET script run by the connection, the Store API from Python with and without
  its change stream followed. The operations take turns, round after round; the µs/op
  are medians over the rounds and each ratio the median of the per-round ratios. The CPU
  columns are this process's CPU time (all its threads) and the server's, per operation.
- `State.incr("n")` through the real `stateui run --store redis://…`: 4 processes started
  at once, 25,000 each (the final value must be exactly 100,000), and 1 process alone.
- 1,000,000 keys in the namespace: the time to fill it (`fill`: pipelines of the store's
  own SET script), then `RedisStore.keys()`, `len(store)` and a read of every entry.

`fill(url, n)` fills a namespace as the third part does, for other benchmarks to reuse
(the app's first frame with a million keys). `--quick` runs everything small, in under
a minute; `--only PART` runs one part; the sizes have flags of their own (`--help`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import redis

from tests.app_helpers import make_app
from tests.bench.bench_state import RECORD_LUA, lua_timer
from tests.redis_server import RedisServer
from tui.app.main_screen import MainScreen
from tui.cli.stores import open_redis
from tui.state import Store
from tui.state.change_log import DEFAULT_HISTORY
from tui.state.location import RedisAddress, StoreLocation
from tui.state.redis.connection import KEY_BATCH, RedisConnection
from tui.state.redis.reader import SCAN_BATCH, RedisReader
from tui.state.redis.scripts import stream_length
from tui.state.redis.store import RedisStore

ROOT = Path(__file__).resolve().parents[2]
KEY = "progress:import_job"
PARTS = ("setget", "incr", "keys")
FULL = {"rounds": 15, "ops": 2_000, "incr": 25_000, "processes": 4, "incr_rounds": 3}
FULL_KEYS = 1_000_000
QUICK = {"rounds": 5, "ops": 300, "incr": 2_500, "processes": 4, "incr_rounds": 1}
QUICK_KEYS = 50_000


def address_of(url: str) -> RedisAddress:
    found = StoreLocation.parse(url).redis
    assert found is not None, url
    return found


def open_store(url: str) -> RedisStore:
    """The store at `url`, opened as the CLI opens it."""
    store = open_redis(address_of(url), history=None, limits=None)
    assert isinstance(store, RedisStore)
    return store


def record(i: int, n: int) -> dict[str, Any]:
    """The progress record RECORD_LUA builds in Lua, built in Python."""
    return {"current": i, "total": n, "percent": i / n * 100, "timestamp": int(time.time())}


# -- 1. State.set and State.get against bare redis-py ------------------------------------


def server_cpu(client: redis.Redis) -> float:
    """Seconds of CPU the server has used so far, all its threads."""
    info: Any = client.info("cpu")
    return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])


def set_get_timers(
    server: RedisServer, ops: int
) -> tuple[dict[str, Callable[[], float]], list[Store]]:
    """The timers of the set and get comparison (each runs `ops` operations and returns
    seconds per operation), and the stores to close after."""
    bare = redis.Redis(host="127.0.0.1", port=server.port)
    store = open_store(server.url("bench"))
    # The same store while this process follows its change stream (as the app does):
    # each write is read back by the stream's thread.
    followed = open_store(server.url("bench_followed"))
    followed.subscribe(maxlen=1)
    script = RedisConnection(address_of(server.url("bench_script")))
    followed.on_close(script.close)
    for target in (store, followed):
        target.set(KEY, record(1, ops), source="bench")
    bare.set(f"bare:{KEY}", orjson.dumps(record(1, ops)))
    length = stream_length(DEFAULT_HISTORY)  # the stream the store keeps

    def bare_set() -> float:
        start = time.perf_counter()
        for i in range(1, ops + 1):
            bare.set(f"bare:{KEY}", orjson.dumps(record(i, ops)))
        return (time.perf_counter() - start) / ops

    def bare_get() -> float:
        start = time.perf_counter()
        for _ in range(ops):
            orjson.loads(bare.get(f"bare:{KEY}"))  # type: ignore[arg-type]
        return (time.perf_counter() - start) / ops

    def script_set() -> float:
        start = time.perf_counter()
        for i in range(1, ops + 1):
            data = orjson.dumps(record(i, ops))
            script.set(KEY, data, source="bench", origin="", ttl=None, maxlen=length)
        return (time.perf_counter() - start) / ops

    def store_set(target: Store) -> Callable[[], float]:
        def timer() -> float:
            start = time.perf_counter()
            for i in range(1, ops + 1):
                target.set(KEY, record(i, ops), source="bench")
            return (time.perf_counter() - start) / ops

        return timer

    def store_get() -> float:
        start = time.perf_counter()
        for _ in range(ops):
            store.get(KEY)
        return (time.perf_counter() - start) / ops

    timers = {
        "bare_set": bare_set,
        "script_set": script_set,
        "followed_set": store_set(followed),
        "store_set": store_set(store),
        "lua_set": lua_timer(store, f'State.set("{KEY}", {RECORD_LUA})', ops),
        "bare_get": bare_get,
        "store_get": store_get,
        "lua_get": lua_timer(store, f'local v = State.get("{KEY}")', ops),
    }
    return timers, [store, followed]


SET_ROWS = (
    ("redis-py SET of the record's JSON (bare)", "bare_set"),
    ("RedisConnection.set: the SET script, nobody following", "script_set"),
    ("RedisStore.set from Python", "store_set"),
    ("RedisStore.set from Python, its change stream followed", "followed_set"),
    ("State.set from Lua", "lua_set"),
)
GET_ROWS = (
    ("redis-py GET + orjson.loads (bare)", "bare_get"),
    ("RedisStore.get from Python", "store_get"),
    ("State.get from Lua", "lua_get"),
)


def set_get(server: RedisServer, rounds: int, ops: int) -> None:
    """Print the set and get table."""
    timers, stores = set_get_timers(server, ops)
    probe = redis.Redis(host="127.0.0.1", port=server.port)
    wall: dict[str, list[float]] = {name: [] for name in timers}
    client: dict[str, list[float]] = {name: [] for name in timers}
    served: dict[str, list[float]] = {name: [] for name in timers}
    try:
        for timer in timers.values():  # a warm-up round, not kept
            timer()
        for round_number in range(rounds):
            order = list(timers) if round_number % 2 == 0 else list(reversed(timers))
            for name in order:
                cpu, server_before = time.process_time(), server_cpu(probe)
                wall[name].append(timers[name]())
                served[name].append((server_cpu(probe) - server_before) / ops)
                client[name].append((time.process_time() - cpu) / ops)
    finally:
        for store in stores:
            store.close()
    print(
        f"State.set / State.get against redis-py: {rounds} rounds of {ops:,} operations each, "
        "taking turns"
    )
    print(
        f"{'operation':<56} {'µs/op':>8} {'ops/s':>8} {'vs bare':>8} "
        f"{'client CPU':>10} {'server CPU':>10}"
    )
    for rows in (SET_ROWS, GET_ROWS):
        floor = rows[0][1]
        for label, name in rows:
            seconds = statistics.median(wall[name])
            ratio = statistics.median(a / b for a, b in zip(wall[name], wall[floor], strict=True))
            print(
                f"{label:<56} {seconds * 1e6:>8.1f} {1 / seconds:>8,.0f} {ratio:>7.2f}x "
                f"{statistics.median(client[name]) * 1e6:>10.1f} "
                f"{statistics.median(served[name]) * 1e6:>10.1f}"
            )
    print("(target: State.set and State.get at most 1.5x the bare redis-py SET and GET)")


# -- 2. State.incr from several `stateui run` processes at once ---------------------------


def stateui_command() -> list[str]:
    """The installed `stateui` console script (the real entry point), or `python -m tui`."""
    script = Path(sys.executable).with_name("stateui")
    return [str(script)] if script.exists() else [sys.executable, "-m", "tui"]


def child_env() -> dict[str, str]:
    """The environment of the `stateui` processes: this checkout's code first."""
    paths = [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


def run_at_once(url: str, script: Path, processes: int) -> float:
    """Seconds from starting `processes` `stateui run`s of `script` at once to the
    last one's end."""
    command = [*stateui_command(), "run", "--store", url, str(script)]
    start = time.perf_counter()
    runs = [
        subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=child_env(),
            text=True,
        )
        for _ in range(processes)
    ]
    for run in runs:
        _, err = run.communicate(timeout=600)
        if run.returncode != 0:
            raise SystemExit(f"stateui run failed ({run.returncode}): {err}")
    return time.perf_counter() - start


def incr(server: RedisServer, folder: Path, rounds: int, each: int, processes: int) -> bool:
    """Print the incr figures; whether every run left exactly the sum."""
    script = folder / "incr.lua"
    script.write_text(f'for _ = 1, {each} do State.incr("n") end\n')
    empty = folder / "empty.lua"
    empty.write_text("\n")
    exact = True
    took: dict[int, list[float]] = {1: [], processes: []}
    starts = [run_at_once(server.url(f"bench_start_{n}"), empty, 1) for n in range(3)]
    for round_number in range(rounds):
        counts = [1, processes] if round_number % 2 == 0 else [processes, 1]
        for count in counts:
            url = server.url(f"bench_incr_{round_number}_{count}")
            took[count].append(run_at_once(url, script, count))
            connection = RedisConnection(address_of(url))
            found, revision = connection.value("n"), connection.revision()
            connection.close()
            if found != str(count * each).encode() or revision != count * each:
                print(f"  WRONG: {count} x {each:,} left n = {found!r} at revision {revision}")
                exact = False
    print(
        f'State.incr("n") through `stateui run --store redis://…`, {each:,} a process, '
        f"median of {rounds} round{'s' if rounds > 1 else ''}:"
    )
    for count in (1, processes):
        seconds = statistics.median(took[count])
        total = count * each
        print(
            f"  {count} process{'es' if count > 1 else ''} at once: {seconds:.2f} s for "
            f"{total:,} incr, {total / seconds:,.0f} incr/s"
            f" (rounds: {', '.join(f'{s:.2f}' for s in took[count])} s)"
        )
    verdict = "exact (n and the revision are the sum) in every run" if exact else "WRONG"
    print(f"  final value: {verdict}")
    print(f"  a `stateui run` of an empty script, start to end: {statistics.median(starts):.2f} s")
    return exact


# -- 3. a million keys --------------------------------------------------------------------


def fill_items(n: int) -> Iterator[tuple[str, bytes]]:
    """`n` keys shaped as bench_app's million: a tenth `big:item_N` holding N, the rest
    in 9 folders `cache:shard_G:user_N` holding {"id": N}."""
    big = n // 10
    for number in range(big):
        yield f"big:item_{number}", orjson.dumps(number)
    per_shard = -(-(n - big) // 9)
    for number in range(n - big):
        shard, user = divmod(number, per_shard)
        yield f"cache:shard_{shard}:user_{user}", orjson.dumps({"id": user})


def fill(url: str, n: int, *, batch: int = 5_000) -> float:
    """Fill the namespace at `url` with `n` keys (see `fill_items`); seconds taken.

    Each key is written by the store's own SET script, as State.set writes it (value,
    meta, write order, byte count, stream entry), but sent in pipelines of `batch`
    calls rather than a round trip each. The arguments are those RedisConnection.set
    sends: keep them in step with it.
    """
    connection = RedisConnection(address_of(url))  # checks and notes the layout's format
    length = stream_length(DEFAULT_HISTORY)
    ns = connection.ns
    start = time.perf_counter()
    pipe = connection._client.pipeline(transaction=False)
    for count, (key, data) in enumerate(fill_items(n), 1):
        connection._set(args=[ns, key, data, "bench", "", "", length, ""], client=pipe)
        if count % batch == 0:
            pipe.execute()
    pipe.execute()
    took = time.perf_counter() - start
    connection.close()
    return took


def million(server: RedisServer, n: int) -> None:
    """Print the figures of a namespace of `n` keys."""
    url = server.url("bench_million")
    probe = redis.Redis(host="127.0.0.1", port=server.port)
    memory_before = int(probe.info("memory")["used_memory"])
    filled = fill(url, n)
    memory = int(probe.info("memory")["used_memory"]) - memory_before
    start = time.perf_counter()
    store = open_store(url)
    opened = time.perf_counter() - start
    try:
        lengths, listed = [], []
        for _ in range(3):
            start = time.perf_counter()
            counted = len(store)
            lengths.append(time.perf_counter() - start)
            start = time.perf_counter()
            keys = store.keys()
            listed.append(time.perf_counter() - start)
            assert counted == len(keys) == n, (counted, len(keys), n)
        rows = [0]
        start = time.perf_counter()
        RedisReader(store._redis).scan(lambda batch: rows.__setitem__(0, rows[0] + len(batch)))
        scanned = time.perf_counter() - start
        assert rows[0] == n, rows
    finally:
        store.close()
    first_frame, loaded = asyncio.run(app_load(url, n))
    print(f"{n:,} keys in the namespace:")
    print(
        f"  fill, pipelines of the store's SET script (5,000 a round trip): {filled:.1f} s, "
        f"{n / filled:,.0f} keys/s; Redis memory {memory / 2**20:,.0f} MB "
        f"({memory / n:.0f} bytes a key)"
    )
    print(f"  open the store (as the CLI does): {opened * 1e3:.1f} ms")
    print(f"  len(store): {statistics.median(lengths) * 1e3:.2f} ms (median of 3)")
    print(
        f"  RedisStore.keys(), all of them, in key order ({KEY_BATCH:,} a script): "
        f"{statistics.median(listed):.2f} s (median of 3)"
    )
    print(
        f"  every entry, as the data commands read it (RedisReader.scan, {SCAN_BATCH:,} keys "
        f"a round trip): {scanned:.2f} s"
    )
    print(
        f"  the app (stateui watch --store): first frame {first_frame:.2f} s (target 3 s), "
        f"every key in the tree {loaded:.2f} s"
    )


async def app_load(url: str, n: int) -> tuple[float, float]:
    """Seconds from opening the store to the app's first frame, and to every key of the
    namespace in its tree (read in batches while the app runs)."""
    start = time.perf_counter()
    store = open_store(url)
    app = make_app(store)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            first_frame = time.perf_counter() - start
            screen = app.screen
            assert isinstance(screen, MainScreen)
            while screen.feed.load is not None:
                await pilot.pause(0.05)
            loaded = time.perf_counter() - start
            assert len(screen.feed.index) == n, len(screen.feed.index)
    finally:
        store.close()
    return first_frame, loaded


# -- the command line -----------------------------------------------------------------------


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmarks of the Redis store.")
    parser.add_argument("--quick", action="store_true", help="small sizes: under a minute")
    parser.add_argument("--only", action="append", choices=PARTS, help="run only this part")
    parser.add_argument("--rounds", type=int, help="set/get rounds (15; quick 5)")
    parser.add_argument("--ops", type=int, help="set/get operations a timer a round (2,000)")
    parser.add_argument("--incr", type=int, help="State.incr calls a process (25,000)")
    parser.add_argument("--processes", type=int, help="processes incrementing at once (4)")
    parser.add_argument("--incr-rounds", type=int, help="rounds of the incr runs (3; quick 1)")
    parser.add_argument("--keys", type=int, help="keys in the namespace (1,000,000)")
    found = parser.parse_args()
    for name, value in (QUICK if found.quick else FULL).items():
        if getattr(found, name) is None:
            setattr(found, name, value)
    if found.keys is None:
        found.keys = QUICK_KEYS if found.quick else FULL_KEYS
    return found


def main() -> None:
    chosen = options()
    parts = chosen.only or PARTS
    version = subprocess.run(
        ["redis-server", "--version"], capture_output=True, text=True, check=True
    ).stdout.split()[2]
    load = ", ".join(f"{figure:.2f}" for figure in os.getloadavg())
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, redis-py {redis.__version__}, redis-server "
        f"{version.removeprefix('v=')} on loopback; load average at start {load}"
    )
    exact = True
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        server = RedisServer(folder)
        try:
            if "setget" in parts:
                set_get(server, chosen.rounds, chosen.ops)
            if "incr" in parts:
                exact = incr(server, folder, chosen.incr_rounds, chosen.incr, chosen.processes)
            if "keys" in parts:
                million(server, chosen.keys)
        finally:
            server.stop()
    if not exact:
        sys.exit(1)


if __name__ == "__main__":
    main()
