"""Where each write came from (file:line), and the store as it was at a past revision:
in the engine, and through the real `stateui` (run, log, history, export --at)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import run_script
from tests.test_cli import stateui, write
from tests.test_console import Session
from tui.state import Store
from tui.state.change_log import MemoryChangeLog
from tui.state.file import open_owned
from tui.state.file.reader import StoreFile
from tui.state.past import HistoryGone, Past

# -- file:line ------------------------------------------------------------------------


def origins(store: Store, key: str) -> list[str]:
    return [change.origin for change in store.versions(key)]


def test_each_state_call_records_its_file_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, any_store: Store
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "jobs").mkdir()
    script = write(
        tmp_path / "jobs",
        "import.lua",
        'State.set("a", 1)\n'
        "local function helper() State.set('a', {n = 2}) end\n"
        "helper()\n"
        'State.incr("n")\n'
        'pcall(State.set, "a", 3)\n'
        'State.update("a", function(v) return v + 1 end)\n'
        'State.delete("a")\n'
        'State.set("p:1", 1) State.clear("p:")\n'
        'State.set("gone", nil)\n',
    )
    result, _ = run_script(any_store, Path("jobs/import.lua"))
    assert result.status == "ok", result
    assert script.exists()
    assert origins(any_store, "a") == [f"jobs/import.lua:{line}" for line in (7, 6, 5, 2, 1)]
    assert origins(any_store, "n") == ["jobs/import.lua:4"]
    assert origins(any_store, "p:1") == ["jobs/import.lua:8", "jobs/import.lua:8"]
    entry = any_store.entry("n")
    assert entry is not None and (entry.source, entry.origin) == (
        "import.lua#1",
        "jobs/import.lua:4",
    )


def test_a_module_s_writes_name_the_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(
        tmp_path,
        "lib.lua",
        "local M = {}\nfunction M.mark()\n  State.set('m', true)\nend\nreturn M\n",
    )
    write(tmp_path, "main.lua", 'local lib = require("lib")\nlib.mark()\n')
    store = Store()
    result, _ = run_script(store, Path("main.lua"))
    assert result.status == "ok", result
    assert origins(store, "m") == ["lib.lua:3"]


def test_a_script_outside_the_working_folder_is_named_by_its_full_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    script = write(tmp_path, "far.lua", 'State.set("k", 1)\n')
    store = Store()
    run_script(store, script)
    assert origins(store, "k") == [f"{script}:1"]


def test_console_writes_have_no_file_and_line() -> None:
    store = Store()
    Session(store).run('local function f() State.set("c", 1) end f()')
    change = store.versions("c")[0]
    assert (change.source, change.origin) == ("console", "")


def test_the_file_store_keeps_origins_across_a_reopen(tmp_path: Path) -> None:
    store = open_owned(tmp_path / "s.db", command="test")
    store.set("k", 1, source="job.lua#1", origin="jobs/job.lua:3")
    store.close()
    again = open_owned(tmp_path / "s.db", command="test")
    entry = again.entry("k")
    assert entry is not None and entry.origin == "jobs/job.lua:3"
    assert again.versions("k")[0].origin == "jobs/job.lua:3"
    assert again.versions("k")[0].created
    again.close()


def make_format_1(path: Path) -> None:
    """A store file as the first file format left it: no origin, no created."""
    with sqlite3.connect(path) as db:
        db.executescript(
            """PRAGMA journal_mode = WAL;
            CREATE TABLE meta (name TEXT PRIMARY KEY, value) WITHOUT ROWID;
            CREATE TABLE entries (key TEXT PRIMARY KEY, value BLOB NOT NULL,
                version INTEGER NOT NULL, time REAL NOT NULL, source TEXT NOT NULL) WITHOUT ROWID;
            CREATE TABLE changes (revision INTEGER PRIMARY KEY, key TEXT NOT NULL,
                op TEXT NOT NULL, value BLOB, time REAL NOT NULL, source TEXT NOT NULL);
            CREATE INDEX changes_by_key ON changes (key, revision);
            PRAGMA application_id = 1398035785;
            PRAGMA user_version = 1;
            INSERT INTO meta VALUES ('revision', 1);
            INSERT INTO entries VALUES ('k', CAST('1' AS BLOB), 1, 1.0, 'cli');
            INSERT INTO changes VALUES (1, 'k', 'set', CAST('1' AS BLOB), 1.0, 'cli');"""
        )
    db.close()


def test_a_format_1_file_is_read_as_it_is_and_upgraded_by_a_writer(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    make_format_1(path)
    reader = StoreFile(path)  # read-only: not upgraded, read with empty origins
    assert reader.versions("k")[0].origin == ""
    reader.close()
    assert stateui("get", "--store", path, "k").stdout == "1\n"
    assert stateui("set", "--store", path, "k", "2").returncode == 0
    info = stateui("info", "--store", path).stdout
    assert "format:   3" in info
    history = stateui("history", "--store", path, "k").stdout.splitlines()
    assert [line.split()[0] for line in history] == ["2", "1"]


# -- the store as it was ------------------------------------------------------------------


def test_values_at_every_revision_across_deletes_clears_and_re_creations(
    any_store: Store,
) -> None:
    seen = {0: {}}
    steps = [
        ("set", "a", 1),
        ("set", "j:1", "x"),
        ("set", "j:2", "y"),
        ("del", "a", None),
        ("clear", "j:", None),
        ("set", "a", {"again": True}),
    ]
    for op, key, value in steps:
        if op == "set":
            any_store.set(key, value, source="t")
        elif op == "del":
            any_store.delete(key, source="t")
        else:
            any_store.clear(key, source="t")
        seen[any_store.revision] = any_store.snapshot()
    past = Past(any_store.versions, any_store.changes_since)
    live = {key: any_store.get_encoded(key) or b"" for key in any_store.keys(sort=False)}
    for revision, expected in seen.items():
        values = past.values_at(live, any_store.revision, revision)
        assert {k: json.loads(v) for k, v in values.items()} == expected, revision
    assert past.earliest(any_store.revision) == 0


def test_past_the_kept_history_is_a_clear_error() -> None:
    store = Store(log=MemoryChangeLog(history=2))
    for n in range(5):
        store.set("k", n, source="t")
    past = Past(store.versions, store.changes_since)
    live = {"k": b"4"}
    assert past.values_at(live, 5, 4) == {"k": b"3"}
    with pytest.raises(
        HistoryGone, match="does not reach back to revision 2: it starts at revision 4"
    ):
        past.values_at(live, 5, 2)
    assert past.earliest(5) == 4


def test_export_at_a_revision(tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    for value in ("1", "2", "3"):
        assert stateui("set", "--store", store, "k", value).returncode == 0
    assert stateui("del", "--store", store, "k").returncode == 0
    assert stateui("set", "--store", store, "other", '"x"').returncode == 0
    assert json.loads(stateui("export", "--store", store, "--at", "2").stdout) == {"k": 2}
    assert json.loads(stateui("export", "--store", store, "--at", "4").stdout) == {}
    assert json.loads(stateui("export", "--store", store, "--at", "0").stdout) == {}
    target = tmp_path / "then.json"
    assert stateui("export", "--store", store, "--at", "1", target).returncode == 0
    assert json.loads(target.read_text()) == {"k": 1}
    ahead = stateui("export", "--store", store, "--at", "99")
    assert ahead.returncode == 2
    assert (
        "revision 99 is not in the store's history (its revisions go from 0 to 5)" in ahead.stderr
    )


def test_export_at_a_revision_the_history_no_longer_reaches(tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    script = write(tmp_path, "job.lua", 'for i = 1, 10 do State.set("k", i) end\n')
    assert stateui("run", "--store", store, "--history", "3", script).returncode == 0
    assert json.loads(stateui("export", "--store", store, "--at", "8").stdout) == {"k": 8}
    gone = stateui("export", "--store", store, "--at", "2")
    assert gone.returncode == 2
    assert gone.stderr.startswith("stateui: export --at 2: the kept history does not reach back")
    assert "it starts at revision 8" in gone.stderr


def test_log_shows_the_file_and_line_of_each_change(
    tmp_path: Path,
) -> None:
    (tmp_path / "jobs").mkdir()
    write(tmp_path / "jobs", "import.lua", 'State.set("a", 1)\n\nState.delete("a")\n')
    store = tmp_path / "s.db"
    assert stateui("run", "--store", store, "jobs/import.lua", cwd=tmp_path).returncode == 0
    lines = stateui("log", "--store", store).stdout.splitlines()
    assert [line.split()[3:7] for line in lines] == [
        ["set", "a", "import.lua#1", "jobs/import.lua:1"],
        ["delete", "a", "import.lua#1", "jobs/import.lua:3"],
    ]
    as_json = stateui("history", "--store", store, "a", "--json").stdout.splitlines()
    assert [json.loads(line)["origin"] for line in as_json] == [
        "jobs/import.lua:3",
        "jobs/import.lua:1",
    ]
