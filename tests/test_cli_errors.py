"""Every way `stateui run` and `watch` can be misused ends in one line, never a traceback."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import stateui_command
from tui.cli import commands, main
from tui.state import Store

COMMANDS = [["run", "ok.lua"], ["watch"]]
"""`watch` checks its --load before the app starts, so both can be run without a terminal."""


def stateui(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*stateui_command(), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
    )


def assert_usage_error(result: subprocess.CompletedProcess[str], message: str) -> None:
    assert (result.returncode, result.stdout, result.stderr) == (2, "", message + "\n")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "ok.lua").write_text("", encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '{"a": 1,\n "b": ' + "[" * 1000 + "]" * 1000 + "}",
            "nested too deeply (a value may be at most 100 levels deep)",
        ),
        ('{"a": 1,\n "b": ' + '{"c": ' * 1000 + "1" + "}" * 1001, "nested too deeply"),
        ('{"a": 1,\n "b": [1, NaN]}', "invalid JSON: NaN is not valid JSON at line 2, column 11"),
        ('{"a": [1, 2],\n  "b": Infinity}', "invalid JSON: Infinity is not valid JSON at line 2"),
        (
            '{"a": {"b": -Infinity}}',
            "invalid JSON: -Infinity is not valid JSON at line 1, column 13",
        ),
        (
            '{"a": "NaN",\n "b": 1,\n "a": 2}',
            'key "a" appears twice in one object (line 3, column 2)',
        ),
        (
            '{"x": [{"a": 1}, {"a": 2}], "y": {"a": 1, "b": {}, "a": 3}}',
            'key "a" appears twice in one object (line 1, column 52)',
        ),
        ('{"\\u0061": 1, "a": 2}', 'key "a" appears twice in one object (line 1, column 15)'),
        (
            '{"s": "x\\"", "a\\"": 1,\n "a\\"": 2}',
            'key "a\\"" appears twice in one object (line 2, column 2)',
        ),
        (
            '{"' + "k" * 100 + '": 1, "' + "k" * 100 + '": 2}',
            'key "' + "k" * 55 + '..." appears twice in one object (line 1, column 109)',
        ),
    ],
)
def test_load_refuses_what_json_allows_or_cannot_hold_saying_where(
    folder: Path, command: list[str], text: str, message: str
) -> None:
    (folder / "in.json").write_text(text, encoding="utf-8")
    result = stateui(*command, "--load", "in.json", cwd=folder)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith(f"stateui: --load in.json: {message}"), result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr


def test_load_keeps_the_same_key_in_different_objects(folder: Path) -> None:
    (folder / "in.json").write_text('{"a": {"k": 1}, "b": {"k": 2}}', encoding="utf-8")
    result = stateui("run", "ok.lua", "--load", "in.json", "--dump", "-", cwd=folder)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"a": {"k": 1}, "b": {"k": 2}}


@pytest.mark.parametrize("command", COMMANDS)
def test_a_load_file_too_large_for_memory_is_one_line(
    folder: Path,
    command: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def out_of_memory(self: Path) -> bytes:
        raise MemoryError

    (folder / "huge.json").write_text("{}", encoding="utf-8")
    monkeypatch.chdir(folder)
    monkeypatch.setattr(Path, "read_bytes", out_of_memory)
    with pytest.raises(SystemExit) as stop:
        main([*command, "--load", "huge.json"])
    assert stop.value.code == 2
    message = "stateui: --load huge.json: the file is too large to load (out of memory)\n"
    assert capsys.readouterr() == ("", message)


@pytest.mark.parametrize("command", COMMANDS)
def test_a_load_file_larger_than_the_memory_allowed_is_one_line(
    folder: Path, command: list[str]
) -> None:

    def two_gigabytes_at_most() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    with (folder / "huge.json").open("wb") as huge:
        huge.truncate(3 << 30)  # sparse: it takes no room on disk
    result = subprocess.run(
        [*stateui_command(), *command, "--load", "huge.json"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=folder,
        stdin=subprocess.DEVNULL,
        preexec_fn=two_gigabytes_at_most,
    )
    message = "stateui: --load huge.json: the file is too large to load (out of memory)"
    assert_usage_error(result, message)


LOCKED_CASES = [
    (["run", "ok.lua", "--load", "locked/in.json"], "--load locked/in.json: Permission denied"),
    (["watch", "--load", "locked/in.json"], "--load locked/in.json: Permission denied"),
    (["run", "locked/s.lua"], "locked/s.lua: Permission denied"),
    (["watch", "locked/s.lua"], "locked/s.lua: Permission denied"),
    (["run", "ok.lua", "--dump", "locked/out.json"], "--dump locked/out.json: Permission denied"),
    (["run", "ok.lua", "--dump", "locked/sub/out.json"], "--dump locked/sub: Permission denied"),
]


@pytest.mark.parametrize(("args", "message"), LOCKED_CASES)
def test_a_folder_that_cannot_be_searched_is_one_line_simulated(
    folder: Path,
    args: list[str],
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    real_stat, real_read_bytes = Path.stat, Path.read_bytes

    def inside_locked(path: Path) -> bool:
        """Like a folder with mode 000: it can be seen, what it holds cannot."""
        return "locked" in path.parts[:-1]

    def stat(self: Path, *, follow_symlinks: bool = True) -> os.stat_result:
        if inside_locked(self):
            raise PermissionError(13, "Permission denied", str(self))
        return real_stat(self, follow_symlinks=follow_symlinks)

    def read_bytes(self: Path) -> bytes:
        if inside_locked(self):
            raise PermissionError(13, "Permission denied", str(self))
        return real_read_bytes(self)

    (folder / "locked").mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.setattr(Path, "stat", stat)
    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    with pytest.raises(SystemExit) as stop:
        main(args)
    assert stop.value.code == 2
    assert capsys.readouterr() == ("", f"stateui: {message}\n")


@pytest.mark.parametrize(
    "seconds", ["nan", "NaN", "inf", "-inf", "infinity", "0", "-0", "-1", "1e-400"]
)
def test_a_timeout_that_would_never_fire_is_refused(folder: Path, seconds: str) -> None:
    result = stateui("run", "ok.lua", "--timeout", seconds, cwd=folder)
    message = f"stateui run: Invalid value for '--timeout': '{seconds}' is not a finite number"
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith(message) and len(result.stderr.splitlines()) == 1


def test_a_small_timeout_is_taken(folder: Path) -> None:
    (folder / "spin.lua").write_text("while true do end", encoding="utf-8")
    result = stateui("run", "spin.lua", "--timeout", "1e-3", cwd=folder)
    assert (result.returncode, result.stderr) == (1, "spin.lua: timed out after 0.001s\n")


def run_with_stdout(folder: Path, stdout: str, *args: str) -> tuple[int, str]:
    """Run stateui with standard output closed (`>&-`) or on /dev/full; exit code, stderr."""
    with Path(os.devnull if stdout == "closed" else stdout).open("wb") as target:
        result = subprocess.run(
            [*stateui_command(), *args],
            stdout=target,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            timeout=60,
            cwd=folder,
            preexec_fn=(lambda: os.close(1)) if stdout == "closed" else None,
        )
    return result.returncode, result.stderr


@pytest.mark.parametrize(
    ("stdout", "why"), [("closed", "it is closed"), ("/dev/full", "No space left on device")]
)
@pytest.mark.parametrize("args", [["hello.lua"], ["ok.lua", "--dump", "-"]])
def test_output_that_cannot_be_written_is_said_once_and_fails_the_run(
    folder: Path, stdout: str, why: str, args: list[str]
) -> None:
    if stdout == "/dev/full" and not Path(stdout).exists():
        pytest.skip("this system has no /dev/full")
    (folder / "hello.lua").write_text('for i = 1, 3 do print("hello") end', encoding="utf-8")
    message = f"stateui: cannot write to standard output ({why}): the output was lost\n"
    assert run_with_stdout(folder, stdout, "run", *args) == (1, message)


def test_a_closed_standard_output_that_nothing_needs_is_no_error(folder: Path) -> None:
    (folder / "quiet.lua").write_text('State.set("k", 1)', encoding="utf-8")
    assert run_with_stdout(folder, "closed", "run", "quiet.lua", "--dump", "out.json") == (0, "")
    assert json.loads((folder / "out.json").read_text()) == {"k": 1}


def test_dump_needs_a_file_name(folder: Path) -> None:
    result = stateui("run", "ok.lua", "--dump", "", cwd=folder)
    assert_usage_error(result, "stateui: --dump needs a file name ('-' for standard output)")


def wait_for(condition: Callable[[], object], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.001)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_dump_cut_short_by_a_signal_leaves_no_partial_file(folder: Path, signum: int) -> None:
    # 200 MB take a few hundred milliseconds to write: the signal lands in the middle.
    (folder / "big.lua").write_text(
        'local s = string.rep("x", 1000000)\n'
        'for i = 1, 200 do State.set("k" .. i, s .. i) end\n'
        'print("filled")\n',
        encoding="utf-8",
    )
    out = folder / "out.json"
    out.write_text("old\n", encoding="utf-8")
    proc = subprocess.Popen(
        [*stateui_command(), "run", "big.lua", "--dump", "out.json"],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline() == "filled\n"
    wait_for(lambda: list(folder.glob(".out.json.*.partial")))
    proc.send_signal(signum)
    assert proc.wait(60) == 128 + signum
    assert proc.stderr.read() == ""
    assert sorted(path.name for path in folder.iterdir()) == ["big.lua", "ok.lua", "out.json"]
    assert out.read_text(encoding="utf-8") == "old\n"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_cancels_the_runs_like_ctrl_c(folder: Path, signum: int) -> None:
    (folder / "spin.lua").write_text('print("spinning")\nwhile true do end\n', encoding="utf-8")
    proc = subprocess.Popen(
        [*stateui_command(), "run", "spin.lua", "--dump", "out.json"],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline() == "spinning\n"
    proc.send_signal(signum)
    assert proc.wait(10) == 128 + signum
    assert proc.stderr.read() == "spin.lua: terminated\n"
    assert not (folder / "out.json").exists()


@pytest.mark.parametrize("dangling", [False, True])
def test_dump_onto_a_symlink_writes_through_it(folder: Path, dangling: bool) -> None:
    (folder / "real").mkdir()
    target = folder / "real" / "data.json"
    if not dangling:
        target.write_text("old\n", encoding="utf-8")
    link = folder / "link.json"
    link.symlink_to(Path("real") / "data.json")
    (folder / "s.lua").write_text('State.set("k", 1)', encoding="utf-8")
    result = stateui("run", "s.lua", "--dump", "link.json", cwd=folder)
    assert (result.returncode, result.stderr) == (0, "")
    assert link.is_symlink() and link.readlink() == Path("real") / "data.json"
    assert json.loads(target.read_text(encoding="utf-8")) == {"k": 1}
    assert sorted(path.name for path in (folder / "real").iterdir()) == ["data.json"]


CAFE = os.fsdecode(b"caf\xe9")
"""A name in Latin-1, as an old file system holds it: not UTF-8."""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", f"{CAFE}.lua"], "stateui: script not found: caf\\xe9.lua"),
        (["run", "ok.lua", "--load", f"{CAFE}.json"], "stateui: --load caf\\xe9.json: No such"),
        (
            ["run", "ok.lua", "--dump", f"{CAFE}/out.json"],
            "stateui: --dump caf\\xe9/out.json: no such folder: caf\\xe9",
        ),
        (["run", "ok.lua", "--dump", CAFE], "stateui: --dump caf\\xe9: is a folder, not a file"),
        (["watch", f"{CAFE}/x/s.lua"], "stateui: no such folder: "),
    ],
)
def test_names_that_are_not_utf8_are_shown_escaped(
    folder: Path, args: list[str], message: str
) -> None:
    if args[-1] == CAFE:
        (folder / CAFE).mkdir()
    result = stateui(*args, cwd=folder)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith(message), result.stderr
    assert "\\udc" not in result.stderr and "b'" not in result.stderr


def test_the_labels_of_scripts_not_named_in_utf8_are_shown_escaped(folder: Path) -> None:
    (folder / f"{CAFE}.lua").write_text('print("hi")\nwhile true do end\n', encoding="utf-8")
    result = stateui("run", f"{CAFE}.lua", "ok.lua", "--timeout", "0.3", cwd=folder)
    assert (result.returncode, result.stdout) == (1, "[caf\\xe9.lua] hi\n")
    assert result.stderr == "[caf\\xe9.lua] caf\\xe9.lua: timed out after 0.3s\n"


def test_a_dump_into_a_read_only_folder_is_refused_simulated(
    folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (folder / "ro").mkdir()
    (folder / "s.lua").write_text('print("ran")', encoding="utf-8")
    real_access = os.access

    def access(path: str | os.PathLike[str], mode: int) -> bool:
        return Path(path).name != "ro" and real_access(path, mode)

    monkeypatch.chdir(folder)
    monkeypatch.setattr(os, "access", access)
    with pytest.raises(SystemExit) as stop:
        main(["run", "s.lua", "--dump", "ro/out.json"])
    assert stop.value.code == 2
    message = f"stateui: --dump ro/out.json: cannot write in the folder {folder / 'ro'}\n"
    assert capsys.readouterr() == ("", message)


@pytest.mark.parametrize("dump_to", ["-", "out.json"])
def test_a_dump_too_large_for_memory_is_one_line_and_fails_the_run(
    folder: Path,
    dump_to: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def out_of_memory(self: Store) -> bytes:
        raise MemoryError

    monkeypatch.chdir(folder)
    monkeypatch.setattr(Store, "dump_json", out_of_memory)
    with pytest.raises(SystemExit) as stop:
        main(["run", "ok.lua", "--dump", dump_to])
    assert stop.value.code == 1
    message = f"stateui: --dump {dump_to}: the store is too large to dump\n"
    assert capsys.readouterr() == ("", message)
    assert sorted(path.name for path in folder.iterdir()) == ["ok.lua"]


@pytest.mark.parametrize("command", COMMANDS)
def test_load_says_where_a_file_stops_being_utf8(folder: Path, command: list[str]) -> None:
    (folder / "in.json").write_bytes(b'{"a": 1,\n "caf\xe9": 2}')
    result = stateui(*command, "--load", "in.json", cwd=folder)
    message = (
        "stateui: --load in.json: invalid JSON: the file is not UTF-8 "
        "(byte 0xe9 at line 2, column 6)"
    )
    assert_usage_error(result, message)


def test_a_dump_onto_a_device_needs_no_writable_folder(
    folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(folder)
    real_access = os.access

    def access(path: str | os.PathLike[str], mode: int) -> bool:
        return Path(path) != Path(os.devnull).parent and real_access(path, mode)

    monkeypatch.setattr(os, "access", access)  # /dev, as anyone but root finds it
    with pytest.raises(SystemExit) as stop:
        main(["run", "ok.lua", "--dump", os.devnull])
    assert stop.value.code == 0
    assert capsys.readouterr() == ("", "")


def test_a_bug_of_ours_is_one_line_with_exit_70_and_a_traceback_on_request(
    folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (folder / "s.lua").write_text('print("ran")', encoding="utf-8")
    monkeypatch.chdir(folder)

    def broken(*args: object, **options: object) -> bool:
        raise RuntimeError("the dump went sideways")

    monkeypatch.setattr(commands, "run_and_dump", broken)
    with pytest.raises(SystemExit) as stop:
        main(["run", "s.lua"])
    assert stop.value.code == 70
    assert capsys.readouterr().err == (
        "stateui: internal error (RuntimeError: the dump went sideways); "
        "STATEUI_DEBUG=1 shows where\n"
    )
    monkeypatch.setenv("STATEUI_DEBUG", "1")
    with pytest.raises(RuntimeError, match="sideways"):
        main(["run", "s.lua"])
