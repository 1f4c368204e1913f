"""Benchmarks of TTL and waiting: `python tests/bench/bench_ttl.py`.

Measures, each side by side in one run:
- what the TTL and limits bookkeeping costs `State.set` of a key without a TTL: the
  store as it is against the same store with the write path as it was before TTLs
  (`PlainStore` below), rounds interleaved, the median of the per-round ratios;
- how soon `State.wait` wakes a script after a write, with 1 and with 50 scripts
  waiting (p50 and p99 over every wake-up);
- sweeping 1,000,000 keys that expire at once: how long until they are gone, and a
  writer's rate meanwhile against its rate with nothing to sweep (and its longest stall).
"""

from __future__ import annotations

import os
import platform
import statistics
import threading
import time

from tests.bench.bench_state import RECORD_LUA, lua_timer
from tui.lua import LuaStateRuntime
from tui.state import Op, Store, codec
from tui.state.change import Change
from tui.state.errors import StateError
from tui.state.keys import check_key, is_plain_key

ROUNDS = 41
"""Rounds of the State.set comparison: a round varies by ±30% on a small VM, so the
median of many per-round ratios is what holds still."""


class PlainStore(Store):
    """The store with its write path as it was before TTLs and limits: the floor the
    bookkeeping is measured against."""

    def set_encoded(  # type: ignore[override]
        self, key: str, data: bytes, *, source: str, origin: str = "", ttl: None = None
    ) -> int:
        if not is_plain_key(key):
            check_key(key)
        if len(data) > self.max_value_bytes:
            codec.check_size(data, self.max_value_bytes)
        if self._refusal is not None:
            raise StateError(self._refusal)
        with self._lock:
            version = self._revision + 1
            now = self._clock()
            change = tuple.__new__(
                Change,
                (Op.SET, key, version, source, now, data, origin, self._stored(key) is None, 0.0),
            )
            self._record(change)
            self._revision = version
            self._backend.put(key, data, version, now, source, origin)
            if self._subscribers:
                self._publish(change)
        if self._to_notify:
            self._notify()
        return version


def set_cost() -> tuple[float, float, float]:
    """Seconds per State.set of the progress record: the store, the plain store, and
    the median of the per-round ratios."""
    timers = {
        "now": lua_timer(Store(), f'State.set("progress:import_job", {RECORD_LUA})'),
        "plain": lua_timer(PlainStore(), f'State.set("progress:import_job", {RECORD_LUA})'),
    }
    samples: dict[str, list[float]] = {name: [] for name in timers}
    for round_number in range(ROUNDS):
        order = list(timers) if round_number % 2 == 0 else list(reversed(timers))
        for name in order:
            samples[name].append(timers[name]())
    ratio = statistics.median(a / b for a, b in zip(samples["now"], samples["plain"], strict=True))
    return statistics.median(samples["now"]), statistics.median(samples["plain"]), ratio


def wake_latency(waiters: int, pings: int = 200) -> list[float]:
    """Seconds from each write of `ping` to each waiting script having it back from
    State.wait, for `waiters` scripts, one write every 20 ms."""
    store = Store()
    latencies: list[float] = []
    lock = threading.Lock()
    ready = threading.Barrier(waiters + 1)

    def waiter() -> None:
        runtime = LuaStateRuntime(store, source="waiter", on_output=lambda _: None)
        runtime._lua.globals().wall_clock = time.perf_counter
        runtime._lua.globals().ready = ready.wait
        runtime.run_source(
            f"""
            local clock, State = wall_clock, State
            local after = State.revision()
            ready()
            lags = {{}}
            for i = 1, {pings} do
              local change = State.wait("ping", 5, after)
              lags[i] = clock() - change.value.t
              after = change.version
            end
            """,
            "waiter.lua",
        )
        found = [float(v) for v in runtime._lua.globals().lags.values()]
        with lock:
            latencies.extend(found)

    threads = [threading.Thread(target=waiter) for _ in range(waiters)]
    for thread in threads:
        thread.start()
    ready.wait()
    for _ in range(pings):
        time.sleep(0.02)
        store.set("ping", {"t": time.perf_counter()}, source="bench")
    for thread in threads:
        thread.join()
    return latencies


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def writer_rate(
    store: Store, seconds: float, stop: threading.Event | None = None
) -> tuple[float, float]:
    """Writes a second of one key for `seconds` (or until `stop`), and the longest gap
    between two writes."""
    data = b'{"current":1,"total":100}'
    count, longest = 0, 0.0
    start = last = time.perf_counter()
    while True:
        store.set_encoded("writer:progress", data, source="bench")
        count += 1
        now = time.perf_counter()
        longest = max(longest, now - last)
        last = now
        if (stop is not None and stop.is_set()) or (stop is None and now - start >= seconds):
            break
    return count / (last - start), longest


def sweep_million(count: int = 1_000_000) -> tuple[float, float, float, float, float]:
    """Seconds to sweep `count` keys that expire at once (the store's clock jumps past
    their expiry); a writer's rate meanwhile and alone beside the same keys, and its
    longest stall in each."""
    offset = [0.0]
    store = Store(clock=lambda: time.time() + offset[0])
    data = b'{"cached":true}'
    for number in range(count):
        store.set_encoded(f"cache:item:{number}", data, source="bench", ttl=3600)
    baseline, baseline_stall = writer_rate(store, 2.0)
    done = threading.Event()
    result: dict[str, tuple[float, float]] = {}
    writer = threading.Thread(target=lambda: result.update(rate=writer_rate(store, 0, done)))
    writer.start()
    time.sleep(0.2)
    started = time.perf_counter()
    offset[0] = 7200.0  # every key is due now
    assert store._sweeper is not None
    store._sweeper.wake()
    while len(store) > 1:
        time.sleep(0.001)
    took = time.perf_counter() - started
    done.set()
    writer.join()
    store.close()
    rate, stall = result["rate"]
    return took, rate, baseline, stall, baseline_stall


def main() -> None:
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    now, plain, ratio = set_cost()
    print(f"State.set, key without a TTL: {now * 1e6:.2f} µs; before TTLs: {plain * 1e6:.2f} µs;")
    print(f"  median per-round ratio {ratio:.3f} ({(ratio - 1) * 100:+.1f}%)")
    for waiters in (1, 50):
        lags = wake_latency(waiters)
        print(
            f"State.wait wake-up, {waiters} waiting: p50 {percentile(lags, 0.5) * 1e3:.2f} ms, "
            f"p99 {percentile(lags, 0.99) * 1e3:.2f} ms ({len(lags)} wake-ups)"
        )
    took, rate, baseline, stall, baseline_stall = sweep_million()
    print(f"1,000,000 keys expiring at once: swept {took:.2f} s after they came due")
    print(
        f"  a writer meanwhile: {rate:,.0f} writes/s (alone: {baseline:,.0f}, "
        f"{rate / baseline * 100:.0f}%); longest stall {stall * 1e3:.1f} ms "
        f"(alone: {baseline_stall * 1e3:.1f} ms)"
    )


if __name__ == "__main__":
    main()
