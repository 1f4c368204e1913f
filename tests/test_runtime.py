"""The Lua runtime around a script: output, sleep, modules, sandbox, errors, cancellation."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Lua, run_script, start_script
from tui.lua import LuaStateRuntime, RunResult, RunStatus, ScriptError, ScriptRun
from tui.state import Store


def test_print_formats_like_lua(lua: Lua) -> None:
    lines = lua.run('print(1, 2.5, 3.0, nil, true, "s", math.maxinteger) print() print("a\\nb")')
    assert lines == ["1\t2.5\t3.0\tnil\ttrue\ts\t9223372036854775807", "", "a", "b"]


def test_print_uses_tostring_metamethods(lua: Lua) -> None:
    lines = lua.run('print(setmetatable({}, {__tostring = function() return "custom" end}))')
    assert lines == ["custom"]


def test_print_shows_bytes_that_are_not_utf8(lua: Lua) -> None:
    assert lua.run('print("ok\\xffok")') == ["ok\\xFFok"]


def test_io_write_is_captured_without_newlines(lua: Lua) -> None:
    assert lua.run('io.write("a", 1) io.write("b\\n") print("c")') == ["a1b", "c"]


def test_io_stdout_is_captured_too(lua: Lua, tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    lines = lua.run(
        'io.stdout:write("direct ", 1, "\\n") print(io.stdout)\n'
        f'io.output("{target}") io.write("to the file") io.output():close()\n'
        'io.output(io.stdout) io.write("back\\n")'
    )
    assert lines == ["direct 1", "file (stdout)", "back"]
    assert target.read_text() == "to the file"


def test_sleep_pauses(lua: Lua) -> None:
    start = time.monotonic()
    lua.run("sleep(0.05)")
    assert time.monotonic() - start >= 0.05


def test_sleep_refuses_bad_durations(lua: Lua) -> None:
    assert lua.run('print(pcall(sleep, -1)) print(pcall(sleep, "x"))') == [
        "false\tsleep: seconds must be a finite number of at least 0, got -1",
        "false\tsleep: seconds must be a number, got string",
    ]


def test_standard_libraries_are_there(lua: Lua) -> None:
    lines = lua.run(
        'print(string.format("%05.1f", 3.14159), math.floor(2.7), table.concat({1, 2}, "-"),'
        " utf8.char(955), type(os.time()), type(io.open), type(coroutine.wrap))"
    )
    assert lines == ["003.1\t2\t1-2\tλ\tnumber\tfunction\tfunction"]


def test_require_finds_modules_in_the_script_folder(tmp_path: Path, store: Store) -> None:
    (tmp_path / "helpers.lua").write_text("return {double = function(x) return 2 * x end}")
    (tmp_path / "main.lua").write_text('local h = require("helpers") print(h.double(21))')
    result, lines = run_script(store, tmp_path / "main.lua")
    assert result.status is RunStatus.OK, result
    assert lines == ["42"]


def test_require_works_from_any_folder_name(tmp_path: Path, store: Store) -> None:
    folder = tmp_path / "odd;name?"
    folder.mkdir()
    (folder / "helper.lua").write_text("return 7")
    (folder / "main.lua").write_text('print((require("helper")))')
    result, lines = run_script(store, folder / "main.lua")
    assert result.status is RunStatus.OK, result
    assert lines == ["7"]


def test_no_way_into_python(lua: Lua) -> None:
    assert lua.run("print(python, package.loaded.python)") == ["nil\tnil"]
    assert lua.run('print(pcall(require, "python"))')[0].startswith("false")


def test_python_objects_refuse_attribute_access(lua: Lua) -> None:
    # Scripts get no Python object; should one ever leak, its attributes stay shut.
    lua.runtime._lua.globals().leaked = test_python_objects_refuse_attribute_access
    lines = lua.run(
        "for _, name in ipairs({'__globals__', '__code__', '__name__'}) do\n"
        "  print(name, (pcall(function() return leaked[name] end)))\n"
        "end"
    )
    assert lines == ["__globals__\tfalse", "__code__\tfalse", "__name__\tfalse"]


def test_binary_chunks_are_refused(lua: Lua) -> None:
    lines = lua.run("local ok, err = load(string.dump(function() end)) print(ok, err)")
    assert lines[0].startswith("nil\t") and "binary" in lines[0]


def test_the_cancellation_hook_cannot_be_removed(lua: Lua) -> None:
    assert lua.run("print(pcall(debug.sethook))")[0].startswith("false\t")


def test_runtime_errors_name_file_line_and_traceback(lua: Lua) -> None:
    with pytest.raises(ScriptError) as raised:
        lua.run("local function inner()\n  error('boom')\nend\ninner()\n")
    error = raised.value
    assert error.message == "test.lua:2: boom"
    assert (error.file, error.line) == ("test.lua", 2)
    assert "test.lua:2: in" in error.traceback and "test.lua:4: in main chunk" in error.traceback
    assert "stateui" not in error.traceback


def test_syntax_errors_name_file_and_line(lua: Lua) -> None:
    with pytest.raises(ScriptError) as raised:
        lua.run("local x = 1\nlocal y = = 2\n")
    assert raised.value.message == "test.lua:2: unexpected symbol near '='"


def test_error_values_that_are_not_strings_are_described(lua: Lua) -> None:
    with pytest.raises(ScriptError) as raised:
        lua.run("error({code = 1})")
    assert raised.value.message == "(error object is a table value)"
    assert "test.lua:1: in main chunk" in raised.value.traceback


def test_os_exit_ends_the_script(lua: Lua) -> None:
    assert lua.run('print("before") os.exit(0) print("after")') == ["before"]
    other = Lua(lua.store)
    with pytest.raises(ScriptError, match=r"the script called os.exit\(3\)"):
        other.run("pcall(os.exit, 3) print('after')")
    assert other.output == []


def test_memory_cap_turns_a_runaway_into_an_error(make_lua) -> None:  # type: ignore[no-untyped-def]
    lua = make_lua(max_memory=16 * 2**20)
    with pytest.raises(ScriptError) as raised:
        lua.run("local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 100) .. i end")
    assert raised.value.message == ("not enough memory: the script went over its limit of 16 MB")
    assert lua.run("print('still usable')") == ["still usable"]


# -- cancellation ------------------------------------------------------------------

LOOPS = {
    "tight loop": "while true do end",
    "inside pcall": "while true do pcall(function() while true do end end) end",
    "inside xpcall": "xpcall(function() while true do end end, function(e) while true do end end)",
    "in a coroutine": "local co = coroutine.create(function() while true do end end)\n"
    "while true do coroutine.resume(co) end",
    "in coroutine.wrap": "coroutine.wrap(function() while true do end end)()",
    "in sleep": "sleep(3600)",
    "in a State loop": 'while true do State.incr("spin") end',
    "pcall around sleep": "while true do pcall(sleep, 3600) end",
    "in update's function": 'State.update("u", function() while true do end end)',
    "reading a big value in a loop": (
        'local big = {} for i = 1, 20000 do big[i] = i end State.set("big", big)\n'
        'while true do local v = State.get("big") end'
    ),
    "storing tables that share sub-tables": (
        "local t = {} for _ = 1, 40 do t = {a = t, b = t} end State.set('k', t)"
    ),
    "a reader function given to load": "while true do load(function() while true do end end) end",
    "a __close that closes a cancelled coroutine": (
        "local co = coroutine.create(function()\n"
        "  local x <close> = setmetatable({}, {__close = function() while true do end end})\n"
        "  while true do end\n"
        "end)\n"
        "local guard <close> = setmetatable({}, {__close = function() coroutine.close(co) end})\n"
        "coroutine.resume(co)\n"
        "while true do end"
    ),
    "a __close that calls os.exit(0)": (
        "local g <close> = setmetatable({}, {__close = function() os.exit(0) end})\n"
        "while true do end"
    ),
}


@pytest.mark.latency
@pytest.mark.parametrize("body", LOOPS.values(), ids=LOOPS.keys())
def test_cancel_stops_a_run_anywhere(tmp_path: Path, store: Store, body: str) -> None:
    run = start_script(store, tmp_path / "spin.lua", body)
    time.sleep(0.05)  # let it get into the loop
    cancelled_at = time.monotonic()
    run.cancel()
    result = run.wait(5)
    stopped_after = time.monotonic() - cancelled_at
    assert result is not None and result.status is RunStatus.CANCELLED
    assert result.reason == "cancelled"
    assert stopped_after < 0.1


def test_a_finished_run_reports_ok_with_its_duration(tmp_path: Path, store: Store) -> None:
    script = tmp_path / "ok.lua"
    script.write_text('State.set("done", true)')
    results: list[RunResult] = []
    run = ScriptRun(store, script, number=3, on_line=print, on_done=results.append).start()
    result = run.wait(10)
    assert result is not None and result.status is RunStatus.OK and result.duration > 0
    assert results == [result]
    entry = store.entry("done")
    assert entry is not None and entry.source == "ok.lua#3"


def test_a_vanished_script_is_an_error_not_a_crash(tmp_path: Path, store: Store) -> None:
    result, _ = run_script(store, tmp_path / "gone.lua")
    assert result.status is RunStatus.ERROR
    assert result.error is not None and "cannot read" in result.error.message


def test_scripts_may_start_with_a_shebang_or_a_byte_order_mark(
    tmp_path: Path, store: Store
) -> None:
    script = tmp_path / "tool.lua"
    script.write_bytes(b'\xef\xbb\xbf#!/usr/bin/env lua\nprint("ok")\nerror("line three")\n')
    result, lines = run_script(store, script)
    assert lines == ["ok"]
    assert result.error is not None
    assert result.error.message == "tool.lua:3: line three"


# -- the sandbox holds against hostile scripts -----------------------------------------


def test_no_native_code_can_be_loaded(lua: Lua) -> None:
    assert lua.run("print(package.loadlib, package.cpath, #package.searchers)") == ["nil\t\t2"]


def test_require_refuses_precompiled_modules(tmp_path: Path, store: Store) -> None:
    (tmp_path / "compiled.lua").write_bytes(b"\x1bLua\x54\x00garbage")
    (tmp_path / "main.lua").write_text('print(pcall(require, "compiled"))')
    result, lines = run_script(store, tmp_path / "main.lua")
    assert result.status is RunStatus.OK
    assert lines[0].startswith("false\terror loading module 'compiled'")
    assert "attempt to load a binary chunk" in "\n".join(lines)


def test_the_debug_library_cannot_reach_stateui_internals(lua: Lua) -> None:
    assert lua.run("print(debug.getupvalue, debug.getlocal, debug.getregistry)") == [
        "nil\tnil\tnil"
    ]
    assert lua.run("print(type(debug.traceback), type(debug.getinfo))") == ["function\tfunction"]


def test_finalizers_are_refused_because_they_cannot_be_stopped(lua: Lua) -> None:
    lines = lua.run("print(pcall(setmetatable, {}, {__gc = function() end}))")
    assert lines == [
        "false\tsetmetatable: __gc finalizers are not supported (they cannot be stopped)"
    ]
    assert lua.run("print(getmetatable(setmetatable({}, {__index = {a = 1}})).__index.a)") == ["1"]


def test_error_messages_with_bytes_that_are_not_utf8(lua: Lua) -> None:
    with pytest.raises(ScriptError) as raised:
        lua.run('error("bad \\xff byte")')
    assert raised.value.message == "test.lua:1: bad \\xFF byte"
    with pytest.raises(ScriptError) as raised:
        lua.run("local x = '\\xff' +")
    assert raised.value.message.startswith("test.lua:1: unexpected symbol")


def test_error_with_a_userdata_value(lua: Lua) -> None:
    with pytest.raises(ScriptError) as raised:
        lua.run("error(io.tmpfile())")
    assert raised.value.message.startswith("file (0x")  # its __tostring
    assert "test.lua:1: in main chunk" in raised.value.traceback


def test_huge_sleeps_are_fine_and_still_cancellable(tmp_path: Path, store: Store) -> None:
    run = start_script(store, tmp_path / "nap.lua", "sleep(1e300)")
    run.cancel()
    result = run.wait(5)
    assert result is not None and result.status is RunStatus.CANCELLED


def test_memory_cap_with_big_reads_is_an_error_not_a_hang(tmp_path: Path, store: Store) -> None:
    script = tmp_path / "reads.lua"
    script.write_text(
        "local big = {} for i = 1, 200000 do big[i] = i end\n"
        'State.set("big", big) big = nil\n'
        'local keep = {} for i = 1, 100 do keep[i] = State.get("big") end\n'
    )
    result, _ = run_script(store, script, max_memory=16 * 2**20)
    assert result.status is RunStatus.ERROR
    assert result.error is not None
    assert result.error.message == "not enough memory: the script went over its limit of 16 MB"
    assert len(store.get("big")) == 200_000


def test_memory_cap_with_many_keys_listed(tmp_path: Path, store: Store) -> None:
    store.load({f"k{i:06}": i for i in range(100_000)}, source="cli")
    script = tmp_path / "lists.lua"
    script.write_text("local keep = {} for i = 1, 100 do keep[i] = State.list() end\n")
    result, _ = run_script(store, script, max_memory=8 * 2**20)
    assert result.status is RunStatus.ERROR
    assert result.error is not None and result.error.message.startswith("not enough memory")


def test_load_keeps_the_usual_globals_unless_given_an_env(lua: Lua, tmp_path: Path) -> None:
    module = tmp_path / "mod.lua"
    module.write_text("return type(print)")
    lines = lua.run(
        'print(load("return type(print)")())\n'
        'print(pcall(load("return print", "x", "t", nil)))\n'
        f'print(loadfile("{module}")(), dofile("{module}"))'
    )
    assert lines[0] == "function"
    assert lines[1].startswith("false\t")  # an explicit nil env: no globals, as in Lua
    assert lines[2] == "function\tfunction"


def test_the_file_metatable_is_out_of_reach(lua: Lua) -> None:
    assert lua.run("print(getmetatable(io.tmpfile()), getmetatable(io.stderr))") == ["FILE*\tFILE*"]
    with pytest.raises(ScriptError, match="attempt to index a string value"):
        lua.run("getmetatable(io.tmpfile()).__gc = function() while true do end end")


@pytest.mark.parametrize(
    ("call", "outcome"),
    [
        ("os.exit(0.0)", None),
        ('os.exit("0")', None),
        ("os.exit(true)", None),
        ("os.exit(false)", "the script called os.exit(1)"),
        ("os.exit(3)", "the script called os.exit(3)"),
        ("os.exit(1.5)", "test.lua:1: bad argument #1 to 'exit' (number has no integer"),
    ],
)
def test_os_exit_reads_its_argument_like_lua(
    make_lua: Callable[..., Lua], call: str, outcome: str | None
) -> None:
    lua = make_lua()
    if outcome is None:
        assert lua.run(f"{call} print('not reached')") == []
    else:
        with pytest.raises(ScriptError) as raised:
            lua.run(call)
        assert raised.value.message.startswith(outcome)


def test_io_errors_point_at_the_script(lua: Lua, tmp_path: Path) -> None:
    with pytest.raises(ScriptError) as raised:
        lua.run("io.output({})")
    assert raised.value.message.startswith("test.lua:1: io.output: bad argument #1")
    with pytest.raises(ScriptError) as raised:
        lua.run(f'local f = io.output("{tmp_path / "x"}") f:close() io.write("z")')
    assert raised.value.message == "test.lua:1: io.write: attempt to use a closed file"


def test_io_stdout_behaves_like_a_file(lua: Lua) -> None:
    assert lua.run("print(io.type(io.stdout))") == ["file"]
    with pytest.raises(ScriptError, match=r"bad argument #1 to 'write' \(FILE\* expected"):
        lua.run('io.stdout.write("x")')


def test_a_missing_module_lists_the_script_folder(tmp_path: Path, store: Store) -> None:
    (tmp_path / "main.lua").write_text('require("nosuch")')
    result, _ = run_script(store, tmp_path / "main.lua")
    assert result.error is not None
    message = result.error.message
    assert f"no file '{tmp_path}/nosuch.lua'" in message
    assert "\n\t\n" not in message


def test_memory_cap_counts_what_state_get_returned(tmp_path: Path, store: Store) -> None:
    store.set("big", list(range(1_500_000)), source="cli")
    script = tmp_path / "hold.lua"
    script.write_text('local v = State.get("big")\nState.set("after", true)\n')
    result, _ = run_script(store, script, max_memory=8 * 2**20)
    assert result.status is RunStatus.ERROR
    assert result.error is not None
    assert result.error.message == "not enough memory: the script went over its limit of 8 MB"
    assert not store.exists("after")


def test_on_done_has_run_when_wait_returns(tmp_path: Path, store: Store) -> None:
    script = tmp_path / "quick.lua"
    script.write_text("")
    seen: list[RunResult] = []

    def slow_reporter(result: RunResult) -> None:
        time.sleep(0.2)
        seen.append(result)

    result, _ = run_script(store, script, on_done=slow_reporter)
    assert seen == [result]


def test_io_stderr_is_captured_apart_from_print(store: Store) -> None:
    out: list[str] = []
    err: list[str] = []
    lua = LuaStateRuntime(store, source="t", on_output=out.append, on_error_output=err.append)
    lua.run_source(
        'print("to out")\nio.stderr:write("to err ", 1, "\\n")\n'
        "io.output(io.stderr)\nio.write('also err\\n')\n"
        "assert(io.type(io.stderr) == 'file')\n"
        "print(io.stderr:close())\n",
        "t.lua",
    )
    assert "".join(out) == "to out\nnil\tcannot close standard file\n"
    assert "".join(err) == "to err 1\nalso err\n"


def test_the_standard_file_stand_ins_behave_like_lua(lua: Lua) -> None:
    assert lua.run(
        "print(io.close(io.stdout))\n"
        "print(io.stdout:seek())\n"
        "io.write(1.0, ' ', -0.0, ' ', 2^53, ' ', 7, '\\n')\n"
        "print(io.flush() == io.stdout, io.type(io.stdout), io.type(io.stdin))\n"
        "print(select('#', io.write()))\n"
    ) == [
        "nil\tcannot close standard file",
        "nil\tIllegal seek\t29",
        "1 -0 9.007199254741e+15 7",
        "true\tfile\tfile",
        "1",
    ]


def test_without_stdin_a_script_reads_end_of_file(store: Store) -> None:
    out: list[str] = []
    lua = LuaStateRuntime(store, source="t", on_output=out.append, stdin=False)
    lua.run_source(
        "print(io.read('l'), io.read('n'), io.stdin:read('a'))\n"
        "local n = 0 for _ in io.lines() do n = n + 1 end\n"
        "print(n, io.type(io.stdin), io.input() == io.stdin)\n",
        "t.lua",
    )
    assert "".join(out) == "nil\tnil\t\n0\tfile\ttrue\n"


def test_a_module_is_reported_before_it_loads(tmp_path: Path, store: Store) -> None:
    (tmp_path / "broken.lua").write_text("return {\n")
    seen: list[Path] = []
    lua = LuaStateRuntime(
        store, source="t", on_output=lambda _: None, on_module=seen.append, module_dirs=[tmp_path]
    )
    with pytest.raises(ScriptError, match="error loading module 'broken'"):
        lua.run_source('require("broken")', "t.lua")
    assert seen == [tmp_path / "broken.lua"]


def test_an_empty_stdin_reads_like_lua_at_end_of_file(store: Store) -> None:
    out: list[str] = []
    lua = LuaStateRuntime(store, source="t", on_output=out.append, stdin=False)
    lua.run_source(
        'print(io.read("a") == "", select("#", io.read("*a", "a")), io.read("a", "l", "a"))\n'
        'print(io.stdin:read("n"), pcall(io.read, "x"))\n',
        "t.lua",
    )
    lines = "".join(out).splitlines()
    assert lines[0] == "true\t2\t\tnil"
    assert lines[1].startswith("nil\tfalse\t") and "bad argument #1 to 'read'" in lines[1]


def test_io_close_errors_point_at_the_script(lua: Lua) -> None:
    with pytest.raises(ScriptError, match=r"^test.lua:1: io.close: bad argument"):
        lua.run("io.close(42)")
