"""The file store through the real `stateui`: the data commands, owners, crashes, full disks."""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import stateui_command
from tests.test_cli import stateui, write


def test_a_run_leaves_its_store_for_the_data_commands(tmp_path: Path) -> None:
    script = write(
        tmp_path,
        "job.lua",
        'State.set("workflow:data:status", "done")\n'
        'State.set("workflow:data:rows", {1, 2, 3})\n'
        'State.set("progress:import", {current = 3, total = 3})\n',
    )
    assert stateui("run", "--store", tmp_path / "s.db", script).returncode == 0
    got = stateui("get", "--store", tmp_path / "s.db", "workflow:data:rows")
    assert (got.returncode, got.stdout) == (0, "[\n  1,\n  2,\n  3\n]\n")
    keys = stateui("keys", "--store", tmp_path / "s.db", "workflow:*")
    assert keys.stdout == "workflow:data:rows\nworkflow:data:status\n"
    assert stateui("keys", "--store", tmp_path / "s.db", "PROGRESS").stdout == ""
    assert stateui("keys", "--store", tmp_path / "s.db", "progress").stdout == "progress:import\n"
    exported = stateui("export", "--store", tmp_path / "s.db")
    assert json.loads(exported.stdout)["progress:import"] == {"current": 3, "total": 3}
    assert exported.stdout.startswith('{\n  "progress:import"')
    info = stateui("info", "--store", tmp_path / "s.db").stdout
    assert re.search(r"^keys: +3$", info, re.M)
    assert re.search(r"^revision: +3$", info, re.M)
    assert re.search(r"^owner: +none$", info, re.M)
    assert re.search(r"^format: +3$", info, re.M)


def test_the_store_can_come_from_the_environment(tmp_path: Path) -> None:
    env = {**os.environ, "STATEUI_STORE": str(tmp_path / "env.db")}
    command = [*stateui_command(), "set", "k", '{"a": 1}']
    assert subprocess.run(command, env=env, capture_output=True).returncode == 0
    got = subprocess.run([*stateui_command(), "get", "k"], env=env, capture_output=True, text=True)
    assert got.stdout == '{\n  "a": 1\n}\n'
    by_url = stateui("get", "--store", f"sqlite:///{tmp_path / 'env.db'}", "k")
    assert by_url.returncode == 0, by_url.stderr


def test_get_of_a_missing_key_exits_one(tmp_path: Path) -> None:
    stateui("set", "--store", tmp_path / "s.db", "k", "1")
    missing = stateui("get", "--store", tmp_path / "s.db", "nope")
    assert (missing.returncode, missing.stdout, missing.stderr) == (1, "", "no key nope\n")


@pytest.mark.parametrize(
    "value, message",
    [
        ("{bad", "set k: invalid JSON: Expecting property name enclosed in double quotes"),
        ("NaN", "set k: invalid JSON: NaN is not valid JSON at line 1, column 1"),
        ("[" * 300 + "]" * 300, "is nested deeper than 100 levels"),
        ("null", "null cannot be stored"),
        ("18446744073709551616", "set k: value does not fit in a 64-bit integer"),
    ],
)
def test_set_refuses_what_the_lua_api_refuses(tmp_path: Path, value: str, message: str) -> None:
    stateui("set", "--store", tmp_path / "s.db", "k", '"kept"')
    refused = stateui("set", "--store", tmp_path / "s.db", "k", value)
    assert refused.returncode == 2
    assert message in refused.stderr and "Traceback" not in refused.stderr
    assert stateui("get", "--store", tmp_path / "s.db", "k").stdout == '"kept"\n'


def test_set_reads_standard_input_and_refuses_bad_keys(tmp_path: Path) -> None:
    command = [*stateui_command(), "set", "--store", str(tmp_path / "s.db"), "k", "-"]
    assert subprocess.run(command, input=b'{"x": [1]}', capture_output=True).returncode == 0
    assert (
        stateui("get", "--store", tmp_path / "s.db", "k").stdout == '{\n  "x": [\n    1\n  ]\n}\n'
    )
    bad = stateui("set", "--store", tmp_path / "s.db", "", "1")
    assert (bad.returncode, bad.stderr) == (2, "stateui: key must not be empty\n")


def test_del_prints_how_many_went_and_history_shows_them(tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    for value in ("1", "2", "3"):
        stateui("set", "--store", store, "a", value)
    stateui("set", "--store", store, "b", "1")
    deleted = stateui("del", "--store", store, "a", "b", "nope")
    assert (deleted.returncode, deleted.stdout) == (0, "2\n")
    lines = stateui("history", "--store", store, "a").stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["5", "3", "2", "1"]
    assert lines[0].split()[3:] == ["cli", "-", "delete", "-"]
    assert lines[1].split()[3:] == ["cli", "-", "set", "3"]
    versions = stateui("history", "--store", store, "a", "--limit", "2", "--json").stdout
    assert [json.loads(line)["value"] for line in versions.splitlines()] == [None, 3]
    log = stateui("log", "--store", store, "--since", "3", "--key", "a").stdout.splitlines()
    assert [line.split()[0] for line in log] == ["5"]
    assert "a" in log[0].split()


def test_export_and_import_both_ways(tmp_path: Path) -> None:
    source = tmp_path / "in.json"
    source.write_text('{"a": 1, "b": {"c": [true, null]}}')
    imported = stateui("import", "--store", tmp_path / "s.db", source)
    assert imported.returncode == 0, imported.stderr
    stateui("set", "--store", tmp_path / "s.db", "extra", "1")
    assert stateui("export", "--store", tmp_path / "s.db", tmp_path / "out.json").returncode == 0
    assert json.loads((tmp_path / "out.json").read_text()) == {
        "a": 1,
        "b": {"c": [True, None]},
        "extra": 1,
    }
    stateui("import", "--store", tmp_path / "s.db", source, "--replace")
    assert json.loads(stateui("export", "--store", tmp_path / "s.db").stdout) == {
        "a": 1,
        "b": {"c": [True, None]},
    }
    source.write_text('{"a": 1, "a": 2}')
    refused = stateui("import", "--store", tmp_path / "s.db", source)
    assert refused.returncode == 2 and 'key "a" appears twice' in refused.stderr


def test_backup_and_restore(tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    stateui("set", "--store", store, "k", '"old"')
    backed = stateui("backup", "--store", store, tmp_path / "copy.db")
    assert backed.returncode == 0, backed.stderr
    assert stateui("get", "--store", tmp_path / "copy.db", "k").stdout == '"old"\n'
    stateui("set", "--store", store, "k", '"new"')
    stateui("set", "--store", store, "other", "1")
    restored = stateui("restore", "--store", store, tmp_path / "copy.db")
    assert restored.returncode == 0, restored.stderr
    saved = re.search(r"saved in (\S+)", restored.stdout)
    assert saved is not None
    assert json.loads(stateui("export", "--store", store).stdout) == {"k": "old"}
    assert stateui("get", "--store", saved.group(1), "k").stdout == '"new"\n'
    # A restore is a change like any other: the history goes on.
    lines = stateui("history", "--store", store, "k").stdout.splitlines()
    assert lines[0].split()[3:6] == ["restore", "-", "set"]


def test_data_commands_need_a_store_and_a_known_kind(tmp_path: Path) -> None:
    for args in (["get", "k"], ["keys"], ["set", "k", "1"], ["info"], ["log"]):
        result = stateui(*args)
        assert result.returncode == 2
        assert (
            "needs a store: --store PATH or redis://HOST:PORT/DB, or STATEUI_STORE" in result.stderr
        )
    unknown = stateui("get", "--store", "memcached://host/1", "k")
    assert unknown.returncode == 2
    assert "stores of kind 'memcached' are not supported; use a file path" in unknown.stderr


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p.write_bytes(b"not a database" * 100), "is not a stateui store"),
        (
            lambda p: sqlite3.connect(p).execute("CREATE TABLE t (x)").connection.commit(),
            "an SQLite database of something else",
        ),
    ],
    ids=["not SQLite", "foreign SQLite"],
)
def test_a_file_that_is_not_a_store_exits_two_untouched(tmp_path, make, message) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "other.db"
    make(path)
    before = path.read_bytes()
    for args in (["get", "k"], ["set", "k", "1"], ["info"]):
        result = stateui(*args, "--store", path)
        assert result.returncode == 2 and message in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
    script = write(tmp_path, "s.lua", "")
    assert stateui("run", "--store", path, script).returncode == 2
    assert path.read_bytes() == before


def test_a_store_in_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    result = stateui("set", "--store", tmp_path / "no" / "s.db", "k", "1")
    assert result.returncode == 2
    assert "No such file or directory" in result.stderr and "Traceback" not in result.stderr


# -- one owner at a time ------------------------------------------------------------


def start(*args: str | Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*stateui_command(), *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )


def test_a_second_writer_is_refused_naming_the_owner(tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    script = write(tmp_path, "long.lua", 'State.set("k", 1)\nprint("ready")\nsleep(30)\n')
    owner = start("run", "--store", store, script)
    try:
        assert owner.stdout is not None and owner.stdout.readline() == "ready\n"
        for args in (["set", "k", "2"], ["del", "k"], ["run", script]):
            refused = stateui(*args, "--store", store)
            assert refused.returncode == 2
            assert f"is in use by process {owner.pid} (stateui run --store" in refused.stderr
            assert "Open it read-only instead" in refused.stderr
            assert "use a Redis store to share writes" in refused.stderr
        # Readers work beside it.
        assert stateui("get", "--store", store, "k").stdout == "1\n"
        info = stateui("info", "--store", store).stdout
        assert f"process {owner.pid} (stateui run --store" in info
    finally:
        owner.terminate()
        owner.wait(10)
    assert owner.returncode == 143
    assert stateui("set", "--store", store, "k", "3").returncode == 0


def test_two_processes_racing_to_own_a_store_one_wins(tmp_path: Path) -> None:
    store = tmp_path / "race.db"
    script = write(tmp_path, "hold.lua", "sleep(1)\n")
    racers = [start("run", "--store", store, script) for _ in range(4)]
    codes = sorted(racer.wait(30) for racer in racers)
    assert codes == [0, 2, 2, 2]


# -- crashes and full disks ----------------------------------------------------------


FLOOD = """
local i = 0
while true do
  i = i + 1
  State.set("a", i)
  State.set("b", i)
  if i == 1000 then print("flooding") end
end
"""


def test_kill_9_in_a_flood_leaves_a_consistent_store(tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    flood = start("run", "--store", store, write(tmp_path, "flood.lua", FLOOD))
    assert flood.stdout is not None and flood.stdout.readline() == "flooding\n"
    time.sleep(0.5)
    killed_at = time.time()
    flood.send_signal(signal.SIGKILL)
    flood.wait(10)
    with sqlite3.connect(store) as check:
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = dict(check.execute("SELECT key, CAST(value AS TEXT) FROM entries").fetchall())
        last = check.execute("SELECT max(time) FROM entries").fetchone()[0]
        revision = check.execute("SELECT value FROM meta WHERE name = 'revision'").fetchone()[0]
    check.close()
    a, b = int(rows["a"]), int(rows["b"])
    # A consistent cut: b is written after a, so the file never has a new b with an old a.
    assert a - b in (0, 1), (a, b)
    assert revision == a + b
    # What was lost is the last batch window (50 ms), and a little scheduling slack.
    assert killed_at - last < 0.05 + 0.2
    # And the store opens and goes on.
    assert stateui("set", "--store", store, "after", "1").returncode == 0


def test_a_full_disk_is_reported_at_once_and_refuses_writes(tmp_path: Path) -> None:
    def small_disk() -> None:  # files may grow to 1 MB: then writes fail as on a full disk
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1_000_000, 1_000_000))

    script = write(
        tmp_path,
        "fill.lua",
        'for i = 1, 100000 do State.set("k:" .. i, string.rep("x", 1000)) end\nprint("never")\n',
    )
    result = subprocess.run(
        [*stateui_command(), "run", "--store", str(tmp_path / "s.db"), str(script)],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=small_disk,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("stateui: the store cannot be written: ")
    assert "the disk is full or failing" in result.stderr
    assert "fill.lua:1: State.set: the store cannot be written" in result.stderr
    assert "never" not in result.stdout and "Traceback" not in result.stderr
    with sqlite3.connect(tmp_path / "s.db") as check:
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    check.close()


def test_log_follow_prints_changes_as_they_come(tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    stateui("set", "--store", store, "first", "1")
    follow = start("log", "--store", store, "--follow")
    try:
        assert follow.stdout is not None
        assert follow.stdout.readline().split()[3:] == ["set", "first", "cli", "-", "1"]
        stateui("set", "--store", store, "second", '{"n": 2}')
        line = follow.stdout.readline()  # blocks until it comes (the test's timeout guards)
        assert line.split()[0] == "2"
        assert line.split()[3:] == ["set", "second", "cli", "-", '{"n":2}']
    finally:
        follow.send_signal(signal.SIGINT)
        follow.wait(10)
    assert follow.returncode == 130


def test_a_store_from_a_newer_stateui_exits_two(tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    stateui("set", "--store", store, "k", "1")
    with sqlite3.connect(store) as newer:
        newer.execute("PRAGMA user_version = 7")
    newer.close()
    before = store.read_bytes()
    for args in (["get", "k"], ["set", "k", "2"], ["info"]):
        result = stateui(*args, "--store", store)
        assert result.returncode == 2
        assert "was made by a newer stateui (store format 7;" in result.stderr
    assert store.read_bytes() == before


def test_a_store_that_is_a_folder_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "folder.db").mkdir()
    for args in (["get", "k"], ["set", "k", "1"]):
        result = stateui(*args, "--store", tmp_path / "folder.db")
        assert result.returncode == 2, result.stderr
        assert "folder.db" in result.stderr and "Traceback" not in result.stderr


def test_odd_numbers_and_two_restores_in_a_second(tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    assert stateui("set", "--store", store, "k", "-5").returncode == 0
    assert stateui("get", "--store", store, "k").stdout == "-5\n"
    for args in (["log", "--since", "9" * 30], ["history", "k", "--limit", "9" * 30]):
        result = stateui(*args, "--store", store)
        assert result.returncode == 2 and "is not in the range" in result.stderr
    empty = stateui("get", "--store", "", "k")
    assert empty.stderr == "stateui: --store needs a path (leave it out for a store in memory)\n"
    stateui("backup", "--store", store, tmp_path / "copy.db")
    first = stateui("restore", "--store", store, tmp_path / "copy.db")
    stateui("set", "--store", store, "between", "1")
    second = stateui("restore", "--store", store, tmp_path / "copy.db")
    saved = [re.search(r"saved in (\S+)", r.stdout) for r in (first, second)]
    assert saved[0] and saved[1] and saved[0].group(1) != saved[1].group(1)
    assert "restored 1 key from" in first.stdout
    kept = stateui("get", "--store", saved[1].group(1), "between")
    assert kept.stdout == "1\n", "the second restore's safety copy is its own"
