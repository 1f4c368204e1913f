"""`stateui run` through the real entry point: output, exit codes, --load/--dump/--timeout."""

from __future__ import annotations

import inspect
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import stateui_command
from tui.cli import cli


def stateui(
    *args: str | Path, cwd: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*stateui_command(), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
    )


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_run_prints_output_and_exits_zero(tmp_path: Path) -> None:
    script = write(tmp_path, "hello.lua", 'print("hello", 1)\nState.set("k", {a = 1})\n')
    result = stateui("run", script)
    assert (result.returncode, result.stdout, result.stderr) == (0, "hello\t1\n", "")


def test_dump_to_stdout_comes_after_the_output(tmp_path: Path) -> None:
    script = write(
        tmp_path, "s.lua", 'State.set("b", {y = 2, x = 1}) State.set("a", 1) print("done")'
    )
    result = stateui("run", script, "--dump", "-")
    assert result.returncode == 0
    output, dumped = result.stdout.split("\n", 1)
    assert output == "done"
    assert json.loads(dumped) == {"a": 1, "b": {"x": 1, "y": 2}}
    assert dumped.index('"a"') < dumped.index('"b"') and dumped.index('"x"') < dumped.index('"y"')


def test_load_then_dump_to_a_file(tmp_path: Path) -> None:
    data = write(tmp_path, "in.json", '{"counter": 41, "cfg": {"on": true}}')
    script = write(tmp_path, "s.lua", 'State.incr("counter") print(State.get("cfg").on)')
    out = tmp_path / "out.json"
    result = stateui("run", script, "--load", data, "--dump", out)
    assert (result.returncode, result.stdout) == (0, "true\n")
    assert json.loads(out.read_text()) == {"cfg": {"on": True}, "counter": 42}


def test_several_scripts_run_in_parallel_with_prefixed_lines(tmp_path: Path) -> None:
    body = (
        'State.set("{me}", true)\n'
        'while not State.get("{other}") do sleep(0.001) end\n'
        'print("{says}")'
    )
    first = write(tmp_path, "first.lua", body.format(me="up1", other="up2", says="one"))
    second = write(tmp_path, "second.lua", body.format(me="up2", other="up1", says="two"))
    result = stateui("run", first, second, timeout=30)
    assert result.returncode == 0
    assert sorted(result.stdout.splitlines()) == ["[first.lua] one", "[second.lua] two"]


def test_output_streams_line_by_line(tmp_path: Path) -> None:
    script = write(
        tmp_path, "slow.lua", 'print("first")\nwhile not State.get("never") do sleep(0.01) end\n'
    )
    proc = subprocess.Popen(
        [*stateui_command(), "run", str(script), "--timeout", "20"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "first\n"  # arrives while the script still runs
        assert proc.poll() is None
    finally:
        proc.kill()
        proc.communicate()


def test_a_lua_error_goes_to_stderr_with_exit_one(tmp_path: Path) -> None:
    script = write(tmp_path, "bad.lua", 'print("before")\nlocal t = nil\nprint(t.x)\n')
    result = stateui("run", script)
    assert result.returncode == 1
    assert result.stdout == "before\n"
    lines = result.stderr.splitlines()
    assert lines[0] == "bad.lua:3: attempt to index a nil value (local 't')"
    assert lines[1] == "stack traceback:"
    assert "Traceback" not in result.stderr


def test_one_failing_script_fails_the_run_but_not_the_others(tmp_path: Path) -> None:
    good = write(tmp_path, "good.lua", 'State.set("good", true) print("ok")')
    bad = write(tmp_path, "bad.lua", 'error("nope")')
    result = stateui("run", good, bad, "--dump", "-")
    assert result.returncode == 1
    assert "[good.lua] ok" in result.stdout and '"good": true' in result.stdout
    assert result.stderr.startswith("[bad.lua] bad.lua:1: nope\n")


def test_syntax_error(tmp_path: Path) -> None:
    script = write(tmp_path, "syntax.lua", "local = 1\n")
    result = stateui("run", script)
    assert (result.returncode, result.stderr) == (1, "syntax.lua:1: <name> expected near '='\n")


def test_timeout_cancels_an_endless_loop(tmp_path: Path) -> None:
    script = write(tmp_path, "loop.lua", 'State.set("started", true)\nwhile true do end\n')
    result = stateui("run", script, "--timeout", "0.3", "--dump", "-", timeout=20)
    assert result.returncode == 1
    assert result.stderr == "loop.lua: timed out after 0.3s\n"
    assert json.loads(result.stdout) == {"started": True}


def test_max_memory_stops_a_runaway_allocation(tmp_path: Path) -> None:
    script = write(
        tmp_path, "hog.lua", "local t = {} for i = 1, 1e9 do t[i] = ('x'):rep(64) .. i end"
    )
    result = stateui("run", script, "--max-memory", "32", timeout=60)
    assert result.returncode == 1
    assert result.stderr == "not enough memory: the script went over its limit of 32 MB\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "missing.lua"], "stateui: script not found: missing.lua"),
        (["run", "."], "stateui: not a script file: ."),
        (["run"], "stateui run: Missing argument 'SCRIPTS...'."),
        (["run", "ok.lua", "--timeout", "-1"], "stateui run: Invalid value for '--timeout'"),
        (
            ["run", "ok.lua", "--load", "nope.json"],
            "stateui: --load nope.json: No such file or directory",
        ),
        (["run", "ok.lua", "--load", "bad.json"], "stateui: --load bad.json: invalid JSON: "),
        (
            ["run", "ok.lua", "--load", "list.json"],
            "stateui: --load list.json: expected a JSON object",
        ),
        (
            ["run", "ok.lua", "--load", "badkey.json"],
            "stateui: --load badkey.json: key must not be empty",
        ),
        (["run", "ok.lua", "--load", "nan.json"], "stateui: --load nan.json: invalid JSON"),
        (
            ["run", "ok.lua", "--load", "surrogate.json"],
            "stateui: --load surrogate.json: 'a': value holds a string that is not valid UTF-8",
        ),
        (
            ["run", "ok.lua", "--dump", "no/such/dir/out.json"],
            "stateui: --dump no/such/dir/out.json: no such folder",
        ),
        (["frobnicate"], "stateui: No such command 'frobnicate'."),
        (["watch", "--delimiter", ""], "stateui: --delimiter must not be empty"),
        (["watch", "--progress-prefix", ""], "stateui: --progress-prefix must not be empty"),
        (["watch", "."], "stateui: not a script file: ."),
        (["watch", "no/such/dir/x.lua"], "stateui: no such folder: "),
        (["watch", "ok.lua", "--load", "bad.json"], "stateui: --load bad.json: invalid JSON"),
        (["run", "ok.lua", "--dump", "."], "stateui: --dump .: is a folder, not a file"),
        (
            ["run", "ok.lua", "--load", "null.json"],
            "stateui: --load null.json: 'k': a key cannot hold null (leave the key out)",
        ),
    ],
)
def test_usage_errors_exit_two_with_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    write(tmp_path, "ok.lua", "")
    write(tmp_path, "bad.json", '{"a": 1,,}')
    write(tmp_path, "list.json", "[1, 2]")
    write(tmp_path, "badkey.json", '{"": 1}')
    write(tmp_path, "nan.json", '{"a": NaN}')
    write(tmp_path, "surrogate.json", '{"a": "\\ud800"}')
    write(tmp_path, "null.json", '{"k": null}')
    result = stateui(*args, cwd=tmp_path)
    assert result.returncode == 2, result
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith(message), result.stderr


def test_python_dash_m_works_too(tmp_path: Path) -> None:
    script = write(tmp_path, "s.lua", 'print("via -m")')
    result = subprocess.run(
        [sys.executable, "-m", "tui", "run", str(script)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.returncode, result.stdout) == (0, "via -m\n")


def test_version_and_help() -> None:
    assert stateui("--version").stdout.startswith("stateui, version ")
    help_text = stateui("run", "--help").stdout
    for option in ("--load", "--dump", "--timeout", "--max-memory"):
        assert option in help_text


def test_a_reader_that_goes_away_ends_the_run_quietly(tmp_path: Path) -> None:
    script = write(tmp_path, "chatty.lua", 'for i = 1, 100000 do print("line " .. i) end')
    proc = subprocess.Popen(
        [*stateui_command(), "run", str(script), "--dump", "-"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline() == "line 1\n"
    proc.stdout.close()  # like `stateui run ... | head -1`
    assert proc.wait(30) in (0, 1)
    assert "Traceback" not in proc.stderr.read()


def test_a_timed_out_run_stays_a_failure_whatever_its_cleanup_does(tmp_path: Path) -> None:
    script = write(
        tmp_path,
        "sneaky.lua",
        "local g <close> = setmetatable({}, {__close = function() os.exit(0) end})\n"
        "while true do end\n",
    )
    result = stateui("run", script, "--timeout", "0.3")
    assert (result.returncode, result.stderr) == (1, "sneaky.lua: timed out after 0.3s\n")


def test_a_run_stuck_in_a_c_call_is_left_behind_after_a_timeout(tmp_path: Path) -> None:
    script = write(tmp_path, "stuck.lua", 'print(("a"):rep(100000):find(".-.-.-.-b"))')
    result = stateui("run", script, "--timeout", "0.3", timeout=60)
    assert result.returncode == 1
    assert result.stderr.startswith("stuck.lua: did not stop: it is inside one long call")


@pytest.mark.parametrize("number", ["18446744073709551616", "-9223372036854775809"])
def test_load_refuses_integers_beyond_64_bits(tmp_path: Path, number: str) -> None:
    data = write(tmp_path, "big.json", f'{{"n": {number}}}')
    script = write(tmp_path, "s.lua", "")
    result = stateui("run", script, "--load", data)
    assert result.returncode == 2
    assert result.stderr == f"stateui: --load {data}: 'n': value does not fit in a 64-bit integer\n"


def test_max_memory_has_a_sane_bound(tmp_path: Path) -> None:
    script = write(tmp_path, "s.lua", "")
    result = stateui("run", script, "--max-memory", "99999999999999999")
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_text_the_terminal_cannot_encode_is_escaped_not_lost(tmp_path: Path) -> None:
    script = write(tmp_path, "cafe.lua", 'print("café")')
    result = subprocess.run(
        [*stateui_command(), "run", str(script)],
        capture_output=True,
        timeout=60,
        env={**os.environ, "PYTHONIOENCODING": "ascii"},
    )
    assert (result.returncode, result.stdout) == (0, b"caf\\xe9\n")


def test_ctrl_c_stops_every_run_and_exits_130(tmp_path: Path) -> None:
    script = write(tmp_path, "spin.lua", 'print("spinning")\nwhile true do end\n')
    proc = subprocess.Popen(
        [*stateui_command(), "run", str(script), str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline().endswith("spinning\n")
    proc.send_signal(signal.SIGINT)
    assert proc.wait(10) == 130
    assert "Traceback" not in proc.stderr.read()


def test_a_long_error_report_is_written_in_full_before_exit(tmp_path: Path) -> None:
    script = write(tmp_path, "long.lua", 'error(string.rep("x", 300000) .. "END")')
    result = stateui("run", script)
    assert result.returncode == 1
    assert result.stderr.splitlines()[0].endswith("END")


def test_scripts_that_share_a_name_are_told_apart_by_their_path(tmp_path: Path) -> None:
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    write(tmp_path / "one", "job.lua", 'print("hi")')
    write(tmp_path / "two", "job.lua", 'print("hi") error("boom")')
    result = stateui("run", "one/job.lua", "two/job.lua", cwd=tmp_path)
    assert result.returncode == 1
    assert sorted(result.stdout.splitlines()) == ["[one/job.lua] hi", "[two/job.lua] hi"]
    assert result.stderr.startswith("[two/job.lua] job.lua:1: boom\n")


def test_one_script_given_twice_runs_twice_under_two_labels(tmp_path: Path) -> None:
    write(tmp_path, "x.lua", 'print("run", State.incr("runs"))')
    result = stateui("run", "x.lua", "x.lua", "--dump", "-", cwd=tmp_path)
    assert result.returncode == 0
    *printed, dumped = result.stdout.split("\n", 2)
    prefixes = sorted(line.split("] ")[0] + "]" for line in printed)
    assert prefixes == ["[x.lua (2)]", "[x.lua]"]
    assert json.loads(dumped) == {"runs": 2}


def test_a_symlinked_script_finds_the_modules_beside_its_target(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    write(real, "helper.lua", "return 42")
    write(real, "main.lua", 'print((require("helper")))')
    (tmp_path / "link.lua").symlink_to(real / "main.lua")
    result = stateui("run", "link.lua", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, "42\n")


def test_io_stderr_goes_to_standard_error(tmp_path: Path) -> None:
    script = write(tmp_path, "warn.lua", 'print("out")\nio.stderr:write("careful\\n")\n')
    result = stateui("run", script)
    assert (result.returncode, result.stdout, result.stderr) == (0, "out\n", "careful\n")


def test_blank_lines_written_to_stderr_are_kept(tmp_path: Path) -> None:
    script = write(tmp_path, "gaps.lua", 'io.stderr:write("a\\n\\nb\\n")\n')
    assert stateui("run", script).stderr == "a\n\nb\n"


def test_help_shows_each_commands_whole_description() -> None:
    result = stateui("--help")
    assert result.returncode == 0
    commands = result.stdout.split("\nCommands:\n")[1]
    listed = " ".join(commands.split())  # a long description may wrap
    for name, command in cli.commands.items():
        first_line = inspect.cleandoc(command.help or "").splitlines()[0]
        assert f"{name} {first_line}" in listed
    assert "..." not in commands
