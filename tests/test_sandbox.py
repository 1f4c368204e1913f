"""The sandbox's promises: no Python object reaches a script, and every loop can be stopped."""

from __future__ import annotations

import os
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Lua, run_script
from tui.lua import LuaStateRuntime, RunResult, RunStatus, ScriptError, ScriptRun
from tui.lua.runner import CUT_NOTE, MAX_LINE, LineSplitter
from tui.state import Store


def _full_disk(text: str) -> None:
    raise OSError(28, "No space left on device")


def _failing_output(store: Store, **options: object) -> LuaStateRuntime:
    return LuaStateRuntime(store, source="test.lua#1", on_output=_full_disk, **options)


# -- errors raised in Python reach Lua as text ----------------------------------------


def test_a_failing_print_raises_a_string_at_the_scripts_line(store: Store) -> None:
    runtime = _failing_output(store)
    with pytest.raises(ScriptError) as raised:
        runtime.run_source(
            'local ok, err = pcall(function() print("x") end)\n'
            'assert(type(err) == "string", type(err))\n'
            "error(err, 0)\n",
            "test.lua",
        )
    assert raised.value.message == (
        "test.lua:1: cannot write the output: [Errno 28] No space left on device"
    )


def test_a_failing_io_write_raises_a_string(store: Store) -> None:
    runtime = _failing_output(store)
    with pytest.raises(ScriptError) as raised:
        runtime.run_source('\nio.write("x")', "test.lua")
    assert raised.value.message.startswith("test.lua:2: cannot write the output: ")


def test_a_failing_state_call_raises_a_string(lua: Lua) -> None:
    # The store's sum no longer fits a Lua integer: Python fails to hand it over.
    lines = lua.run(
        'State.incr("n", math.maxinteger)\n'
        'local ok, err = pcall(State.incr, "n", 1)\n'
        "print(ok, type(err), getmetatable(err) == getmetatable(''))"
    )
    assert lines == ["false\tstring\ttrue"]


def test_no_python_object_is_reachable(store: Store) -> None:
    # Walk everything a script can reach: no userdata but Lua's own files, whose
    # metatable is shut too.
    lua = Lua(store)
    lines = lua.run(
        """
        local seen, found = {}, {}
        local function walk(v, path)
          if seen[v] then return end
          local kind = type(v)
          if kind == "userdata" then
            found[#found + 1] = path .. " " .. tostring(getmetatable(v))
          end
          if kind ~= "table" and kind ~= "function" and kind ~= "userdata" then return end
          seen[v] = true
          local meta = getmetatable(v)
          if meta ~= nil then walk(meta, path .. ".<meta>") end
          if kind == "table" then
            for k, x in next, v do
              walk(k, path .. ".<key>")
              walk(x, path .. "." .. tostring(k))
            end
          end
        end
        walk(_G, "_G")
        walk(getmetatable(""), "<string meta>")
        local level = 1
        while debug.getinfo(level, "f") do
          walk(debug.getinfo(level, "f").func, "level" .. level)
          level = level + 1
        end
        print(debug.getregistry, debug.gethook, debug.getupvalue, debug.setmetatable)
        for _, line in ipairs(found) do print(line) end
        """
    )
    assert lines[0] == "nil\tnil\tnil\tnil"
    assert all(line.endswith(" FILE*") for line in lines[1:]), lines


def test_an_error_object_from_python_has_no_reachable_metatable(store: Store) -> None:
    # Even an error value that were to arrive as a Python object (a stop caught by
    # pcall, a failing write) is text: nothing to replace __call, __index or __gc of.
    out: list[str] = []
    runtime = LuaStateRuntime(store, source="t", on_output=_full_disk, on_error_output=out.append)
    runtime.run_source(
        'local ok, err = pcall(print, "x")\n'
        'io.stderr:write(type(err), " ", tostring(getmetatable(err) ~= nil), "\\n")\n',
        "test.lua",
    )
    assert "".join(out) == "string true\n"


def test_the_metatable_of_python_objects_is_shut(lua: Lua) -> None:
    # A Python object that were handed to Lua after all: its metatable stays shut.
    lua.runtime._lua.globals().leaked = _full_disk
    lines = lua.run("print(getmetatable(leaked))\nprint(pcall(setmetatable, leaked, {}))\n")
    assert lines[0] == "Python object"
    assert lines[1].startswith("false")


def cancel_takes(store: Store, script: Path, body: str, **options: Any) -> float:
    """Run `body`, cancel it 0.2 s in: the seconds it took to stop (fails if it never does)."""
    script.write_text(body)
    options.setdefault("on_line", lambda _: None)
    run = ScriptRun(store, script, **options).start()
    time.sleep(0.2)  # the run is under way (a run cancelled before it starts stops too)
    cancelled_at = time.monotonic()
    run.cancel()
    result = run.wait(5)
    assert result is not None, "the run did not stop"
    assert result.status is RunStatus.CANCELLED, result
    return time.monotonic() - cancelled_at


def stops_in_time(store: Store, script: Path, body: str) -> RunResult:
    """Run `body` with a 0.2 s timeout: it must end (cancelled or failed) by 0.4 s."""
    script.write_text(body)
    run = ScriptRun(store, script, on_line=lambda _: None).start()
    started = time.monotonic()
    timer = threading.Timer(0.2, run.cancel, args=("timed out",))
    timer.start()
    result = run.wait(5)
    timer.cancel()
    assert result is not None, "the run did not stop"
    assert time.monotonic() - started < 0.4, result
    return result


@pytest.mark.latency
def test_an_endless_loop_after_a_python_error_still_cancels(tmp_path: Path, store: Store) -> None:
    body = (
        'local ok, err = pcall(print, "x")\n'
        "local mt = getmetatable(err)\n"
        "if type(mt) == 'table' then mt.__call = function() end end\n"
        "while true do pcall(function() while true do end end) end\n"
    )
    assert cancel_takes(store, tmp_path / "loop.lua", body, on_line=_full_disk) < 0.2


def test_require_of_a_module_whose_name_is_not_utf8(tmp_path: Path, store: Store) -> None:
    name = b"caf\xe9"
    module = bytes(tmp_path) + b"/" + name + b".lua"
    fd = os.open(module, os.O_WRONLY | os.O_CREAT)
    os.write(fd, b"return 42")
    os.close(fd)
    (tmp_path / "main.lua").write_bytes(b'print(require("' + name + b'"))')
    modules: list[Path] = []
    result, lines = run_script(store, tmp_path / "main.lua", on_module=modules.append)
    assert result.error is None, result.error
    assert lines[0].startswith("42")
    assert [bytes(path) for path in modules] == [module]


# -- loops inside Lua's VM or its C library end too ---------------------------------

REFUSED = {
    "a __call chain that loops": (
        "local mt = {} local x = setmetatable({}, mt) mt.__call = x x()",
        "loop.lua:1: a metatable's __call must be a function, got table",
    ),
    "a __call chain given to setmetatable": (
        "local x = {} setmetatable(x, {__call = x}) x()",
        "loop.lua:1: setmetatable: __call must be a function, got table",
    ),
    "a __call chain set by rawset": (
        "local mt = {} local x = setmetatable({}, mt) rawset(mt, '__call', x) x()",
        "loop.lua:1: a metatable's __call must be a function, got table",
    ),
    "a __call chain replacing a function __call": (
        "local mt = {__call = function() end} local x = setmetatable({}, mt)\nmt.__call = x x()",
        "loop.lua:2: a metatable's __call must be a function, got table",
    ),
    "a __call chain through a metatable's own metatable": (
        "local mt = {} local x = setmetatable({}, mt) setmetatable(mt, {}) mt.__call = x x()",
        "loop.lua:1: a metatable's __call must be a function, got table",
    ),
    "a __call chain in a class that inherits": (
        "local Base = {} local Class = setmetatable({}, Base) local x = setmetatable({}, Class)\n"
        "Class.__call = x x()",
        "loop.lua:2: a metatable's __call must be a function, got table",
    ),
    "a __call chain through getmetatable": (
        "local x = setmetatable({}, {__call = function() end}) getmetatable(x).__call = x x()",
        "loop.lua:1: a metatable's __call must be a function, got table",
    ),
    "a __call on every string": (
        "getmetatable('').__call = 'x' ('x')()",
        "loop.lua:1: a metatable's __call must be a function, got string",
    ),
    "a __call on every string, replaced": (
        "local s = getmetatable('') s.__call = function() end s.__call = 'x' ('x')()",
        "loop.lua:1: a metatable's __call must be a function, got string",
    ),
    "an __index chain": (
        "local mt = {} local x = setmetatable({}, mt) mt.__index = x return x.y",
        "loop.lua:1: '__index' chain too long; possible loop",
    ),
    "a __newindex chain": (
        "local mt = {} local x = setmetatable({}, mt) mt.__newindex = x x.y = 1",
        "loop.lua:1: '__newindex' chain too long; possible loop",
    ),
    "an __eq that recurses": (
        "local mt = {__eq = function(a, b) return a == b end}\n"
        "return setmetatable({}, mt) == setmetatable({}, mt)",
        "C stack overflow",
    ),
    "a __concat that recurses": (
        "local mt = {__concat = function(a, b) return a .. b end}\n"
        "return setmetatable({}, mt) .. 'a'",
        "C stack overflow",
    ),
    "a __len that recurses": (
        "local x = setmetatable({}, {__len = function(a) return #a end}) return #x",
        "C stack overflow",
    ),
    "a huge string.rep": (
        "local s = string.rep('x', 2^53)",
        "loop.lua:1: resulting string too large",
    ),
}


@pytest.mark.parametrize("body, message", list(REFUSED.values()), ids=list(REFUSED))
def test_loops_inside_the_vm_are_refused(
    tmp_path: Path, store: Store, body: str, message: str
) -> None:
    result = stops_in_time(store, tmp_path / "loop.lua", body)
    assert result.error is not None, result
    assert message in result.error.message


CANCELLED = {
    "gsub of a large string in a loop": (
        "local s = string.rep('a', 2^21) while true do s:gsub('a', 'b') end"
    ),
    "upper of a large string in a loop": (
        "local s = string.rep('a', 2^24) while true do s = s:upper():lower() end"
    ),
    "table.concat of a large table in a loop": (
        "local t = {} for i = 1, 2^20 do t[i] = 'abcdefgh' end\n"
        "while true do local s = table.concat(t) end"
    ),
    "a __close that loops": (
        "do local x <close> = setmetatable({}, {__close = function() while true do end end}) end"
    ),
}


# Each call here takes well under the 0.2 s a run has to stop once cancelled (one call
# cannot be interrupted; the run stops before the next): a gsub over 8 MiB took 171 ms
# on a slow day of the 2-core VM, and one over 2 MiB 56 ms.
@pytest.mark.latency
@pytest.mark.parametrize("body", list(CANCELLED.values()), ids=list(CANCELLED))
def test_loops_of_long_library_calls_are_cancelled(tmp_path: Path, store: Store, body: str) -> None:
    result = stops_in_time(store, tmp_path / "loop.lua", body)
    assert result.status is RunStatus.CANCELLED, result


# -- output without newlines stays bounded ---------------------------------------------


def test_a_line_without_end_is_cut_at_64_kib(tmp_path: Path, store: Store) -> None:
    script = tmp_path / "long.lua"
    script.write_text(
        'for _ = 1, 100 do io.write(string.rep("y", 65536)) end\n'
        'io.write("\\nafter\\n") io.write(string.rep("z", 70000))'
    )
    result, lines = run_script(store, script)
    assert result.status is RunStatus.OK, result
    assert lines == [
        "y" * MAX_LINE + CUT_NOTE,
        "after",
        "z" * MAX_LINE + CUT_NOTE,
    ]


def test_writes_without_newlines_keep_memory_bounded() -> None:
    lines: list[str] = []
    splitter = LineSplitter(lines.append)
    tracemalloc.start()
    try:
        for _ in range(1000):  # 64 MiB of text, no newline
            splitter.write("y" * 65536)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * 2**20
    assert lines == ["y" * MAX_LINE + CUT_NOTE]
    splitter.write("rest\nnext")
    splitter.flush()
    assert lines[1:] == ["next"]


# -- errors that point into stateui are told at the script's line ------------------------


def _failure(lua: Lua, source: str) -> ScriptError:
    with pytest.raises(ScriptError) as raised:
        lua.run(source)
    return raised.value


def test_a_stack_overflow_in_a_state_call_points_at_the_script(lua: Lua) -> None:
    error = _failure(lua, 'local function f(n)\n  State.set("k", n) return 1 + f(n + 1)\nend\nf(1)')
    assert error.message == "test.lua:2: stack overflow"


def test_errors_of_library_calls_point_at_the_script(lua: Lua) -> None:
    assert _failure(lua, "\nlocal s = ('x'):rep(2^53)").message == (
        "test.lua:2: resulting string too large"
    )
    assert _failure(lua, '\nstring.format("%d", "x")').message == (
        "test.lua:2: bad argument #2 to 'format' (number expected, got string)"
    )
    assert lua.run("print(pcall(function() return string.rep('x', 2^53) end))") == [
        "false\ttest.lua:1: resulting string too large"
    ]


def test_a_wrapped_coroutine_resumed_from_inside_tells_why(lua: Lua) -> None:
    error = _failure(lua, "local f\nf = coroutine.wrap(function() f() end)\nf()")
    assert "cannot resume non-suspended coroutine" in error.message
    assert "stateui" not in error.message


@pytest.mark.parametrize(
    "value, message",
    [
        ("io.stdout", "value is io.stdout, a file, which cannot be stored as JSON"),
        ("{out = io.stderr}", "value at out is io.stderr, a file, which cannot be stored as JSON"),
        ('io.open("/dev/null")', "value is a file, which cannot be stored as JSON"),
    ],
)
def test_storing_a_file_names_the_file(lua: Lua, value: str, message: str) -> None:
    error = _failure(lua, f'local x = 1\nState.set("k", {value})')
    assert error.message == f"test.lua:2: State.set: {message}"


@pytest.mark.parametrize("value", ['string.rep("x", 1023)', '{string.rep("x", 1021)}'])
def test_a_value_just_over_the_limit_says_by_how_much(value: str) -> None:
    lua = Lua(Store(max_value_bytes=1024))
    error = _failure(lua, f'State.set("k", {value})')
    assert error.message == (
        "test.lua:1: State.set: value is 1 KiB (1,025 bytes) as JSON, "
        "over the limit of 1 KiB (1,024 bytes)"
    )


def test_the_guarded_pcall_keeps_the_number_of_results(lua: Lua) -> None:
    lines = lua.run(
        'print(select("#", pcall(function() end)), select("#", load("x = 1")),'
        " select('#', coroutine.resume(coroutine.create(function() end))),"
        " select('#', pcall(error)))"
    )
    assert lines == ["1\t1\t1\t2"]
