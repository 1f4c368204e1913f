"""Random Lua programs made of hostile and careless constructs: every run ends within its
timeout plus 200 ms, stays under its memory cap, and leaves the store consistent."""

from __future__ import annotations

import time
from pathlib import Path

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui.lua import RunStatus, ScriptRun
from tui.state import Store

TIMEOUT = 0.3
"""Seconds a run gets before it is cancelled."""

GRACE = 0.2
"""How long after the cancel a run may take to end."""

CAP = 64 * 2**20
"""The Lua memory cap of each run, in bytes."""

RSS_GROWTH = 512 * 2**20
"""How much the process may grow over all the runs: far less than an uncapped run takes."""

# Each construct is one statement; programs are a few of them, some wrapped in pcall or a
# coroutine. Most never end by themselves.
CONSTRUCTS = [
    "while true do end",
    "while true do pcall(function() while true do end end) end",
    "while true do pcall(error, 'x') end",
    "local co = coroutine.wrap(function() while true do end end) co()",
    "local mt = {} local x = setmetatable({}, mt) mt.__call = x; x()",
    "local mt = {__call = function() end} local x = setmetatable({}, mt) mt.__call = x; x()",
    "local C = setmetatable({}, {}) local x = setmetatable({}, C) rawset(C, '__call', x) x()",
    "local s = getmetatable('') s.__call = print s.__call = 'x'; ('x')()",
    "local t = setmetatable({}, {}) getmetatable(t).__index = t; local _ = t.missing",
    "local t = {} while true do t[#t + 1] = string.rep('x', 1024) end",
    "local s = 'x' while true do s = s .. s end",
    "while true do io.write(string.rep('y', 65536)) end",
    "local big = {} for i = 1, 7000000 do big[i] = i end State.set('fuzz:big', big)",
    "for i = 1, 1000000 do State.incr('fuzz:count') end",
    "while true do State.set('fuzz:pair', {a = 1, b = 1}) end",
    "State.set('fuzz:k', io.stdout)",
    "error({code = 1})",
    "local ok, e = pcall(require, 'no_such_module') if not ok then error(e) end",
    "local function f() return f() + 1 end f()",
    "xpcall(function() error('a') end, function() while true do end end)",
    "setmetatable({}, {__gc = function() while true do end end}) collectgarbage()",
    "local ok, e = pcall(State.get, {}) if not ok then getmetatable(e) end",
    "print(string.rep('z', 100000))",
]

program = st.lists(
    st.tuples(
        st.sampled_from(CONSTRUCTS),
        st.sampled_from(["{}", "pcall(function() {} end)", "coroutine.wrap(function() {} end)()"]),
    ),
    min_size=1,
    max_size=3,
).map(lambda parts: "\n".join(wrap.format(body) for body, wrap in parts))


def rss() -> int:
    """This process's resident memory now, in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def assert_consistent(store: Store) -> None:
    """Every key holds JSON the store can give back, and the dump agrees with the keys."""
    dump = orjson.loads(store.dump_json())
    assert sorted(dump) == store.keys()
    for key, value in dump.items():
        entry = store.entry(key)
        assert entry is not None
        assert orjson.loads(entry.value) == value
    pair = store.get("fuzz:pair")
    assert pair in (None, {"a": 1, "b": 1})


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(source=program)
def test_every_run_ends_in_time_within_its_cap_and_the_store_stays_whole(
    source: str, tmp_path: Path
) -> None:
    script = tmp_path / "fuzz.lua"
    script.write_text(source)
    store = Store()
    started_rss = rss()
    run = ScriptRun(store, script, on_line=lambda _: None, max_memory=CAP).start()
    result = run.wait(TIMEOUT)
    if result is None:
        cancelled_at = time.monotonic()
        run.cancel(f"timed out after {TIMEOUT}s")
        result = run.wait(5)
        took = time.monotonic() - cancelled_at
        assert result is not None, f"the run never ended:\n{source}"
        assert took <= GRACE, f"the run took {took:.2f}s to stop:\n{source}"
        assert result.status is RunStatus.CANCELLED
    assert rss() - started_rss < RSS_GROWTH, f"memory grew past the cap:\n{source}"
    assert_consistent(store)
