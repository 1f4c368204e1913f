"""The console's input history: kept across sessions, trimmed, walked like a shell's."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tui.app.model import console_history as history_module
from tui.app.model.console_history import History, history_path


def test_history_lives_under_xdg_state_home_when_it_is_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert history_path() == tmp_path / "state" / "stateui" / "console_history"


def test_history_falls_back_to_local_state_without_an_absolute_xdg_state_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    expected = tmp_path / ".local" / "state" / "stateui" / "console_history"
    monkeypatch.setenv("XDG_STATE_HOME", "relative/state")
    assert history_path() == expected
    monkeypatch.delenv("XDG_STATE_HOME")
    assert history_path() == expected


def test_entries_survive_into_the_next_session(tmp_path: Path) -> None:
    path = tmp_path / "stateui" / "console_history"
    first = History(path)
    first.add('State.set("a", 1)')
    first.add('print(State.get("a"))')
    assert History(path).entries == ['State.set("a", 1)', 'print(State.get("a"))']
    assert first.problem is None


def test_an_entry_with_line_breaks_comes_back_whole(tmp_path: Path) -> None:
    path = tmp_path / "console_history"
    entry = 'for i = 1, 3 do\n  print("line\\n", i)\nend\r\n'
    History(path).add(entry)
    assert History(path).entries == [entry]
    assert path.read_bytes().count(b"\n") == 1


def test_two_sessions_on_one_file_keep_each_others_lines(tmp_path: Path) -> None:
    path = tmp_path / "console_history"
    one, two = History(path), History(path)
    one.add("from one")
    two.add("from two")
    one.add("again one")
    assert History(path).entries == ["from one", "from two", "again one"]


def test_lines_that_are_not_json_strings_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "console_history"
    path.write_bytes(b'"first"\nnot json\n{"a": 1}\n\n"\xff\xfe"\n"sec\n"second"\n')
    history = History(path)
    assert history.entries == ["first", "second"]
    assert history.problem is None


def test_a_file_cut_in_the_middle_of_a_line_takes_the_next_entry_on_a_new_line(
    tmp_path: Path,
) -> None:
    path = tmp_path / "console_history"
    path.write_bytes(b'"first"\n"cut sho')
    History(path).add("next")
    assert History(path).entries == ["first", "next"]


def test_a_missing_file_is_an_empty_history_not_a_problem(tmp_path: Path) -> None:
    history = History(tmp_path / "nowhere" / "console_history")
    assert history.entries == []
    assert len(history) == 0
    assert history.problem is None


def test_the_file_and_its_folder_are_created_private(tmp_path: Path) -> None:
    path = tmp_path / "state" / "stateui" / "console_history"
    History(path).add("x = 1")
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert path.stat().st_mode & 0o777 == 0o600


def test_only_the_newest_entries_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "console_history"
    path.write_bytes(b"".join(b'"%d"\n' % number for number in range(10)))
    history = History(path, limit=3)
    assert history.entries == ["7", "8", "9"]
    history.add("10")
    assert history.entries == ["8", "9", "10"]
    assert len(history) == 3


def test_the_file_is_rewritten_with_the_newest_entries_once_it_doubles(tmp_path: Path) -> None:
    path = tmp_path / "console_history"
    history = History(path, limit=3)
    for number in range(6):
        history.add(f"line {number}")
    assert len(path.read_bytes().splitlines()) == 6  # not past twice the limit yet
    history.add("line 6")
    assert path.read_bytes().splitlines() == [b'"line 4"', b'"line 5"', b'"line 6"']
    # No temporary file left: only the history and its lock.
    assert sorted(file.name for file in tmp_path.iterdir()) == [
        ".console_history.lock",
        "console_history",
    ]
    assert History(path, limit=3).entries == ["line 4", "line 5", "line 6"]


def test_trimming_keeps_lines_another_session_added(tmp_path: Path) -> None:
    path = tmp_path / "console_history"
    mine, theirs = History(path, limit=2), History(path, limit=2)
    for entry in ["a", "b", "c", "d"]:
        mine.add(entry)
    theirs.add("theirs")
    mine.add("e")  # this session's fifth line: past twice the limit, the file is rewritten
    assert History(path, limit=10).entries == ["theirs", "e"]


def test_blank_entries_and_repeats_of_the_newest_are_not_kept(tmp_path: Path) -> None:
    path = tmp_path / "console_history"
    history = History(path)
    for entry in ["print(1)", "", "   \n", "print(1)", "print(2)", "print(1)"]:
        history.add(entry)
    assert history.entries == ["print(1)", "print(2)", "print(1)"]
    assert History(path).entries == history.entries


def test_up_walks_back_and_down_comes_back_to_the_line_being_typed() -> None:
    history = History(None)
    for entry in ["one", "two", "three"]:
        history.add(entry)
    assert history.next() is None  # not walking yet
    assert history.previous("half typ") == "three"
    assert history.previous("three") == "two"
    assert history.previous("two") == "one"
    assert history.previous("one") is None  # the oldest: stays there
    assert history.next() == "two"
    assert history.next() == "three"
    assert history.next() == "half typ"
    assert history.next() is None
    assert history.previous("new draft") == "three"


def test_reset_and_add_start_the_walk_from_the_newest_again() -> None:
    history = History(None)
    history.add("one")
    history.add("two")
    assert history.previous("") == "two"
    assert history.previous("") == "one"
    history.reset()
    assert history.next() is None
    assert history.previous("draft") == "two"
    history.add("three")
    assert history.next() is None
    assert history.previous("") == "three"


def test_an_empty_history_has_nothing_to_walk() -> None:
    history = History(None)
    assert history.previous("draft") is None
    assert history.next() is None


def test_an_unreadable_file_is_a_problem_and_an_empty_history(tmp_path: Path) -> None:
    path = tmp_path / "console_history"
    path.mkdir()
    history = History(path)
    assert history.entries == []
    assert history.problem is not None
    assert history.problem.startswith(f"cannot read the console history {path}: ")
    assert "Traceback" not in history.problem
    history.add("still kept")  # writing fails too, the first message stays
    assert history.entries == ["still kept"]
    assert history.problem.startswith("cannot read")


def test_an_unwritable_file_keeps_entries_in_memory_and_reports_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "console_history"
    history = History(path)

    def disk_full(descriptor: int, data: bytes) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", disk_full)
    history.add("first")
    history.add("second")
    monkeypatch.undo()
    disk_is_full = os.strerror(errno.ENOSPC)
    assert history.problem == f"cannot save the console history {path}: {disk_is_full}"
    assert history.entries == ["first", "second"]
    history.add("third")
    assert history.problem.endswith(disk_is_full)  # the first message stays
    assert History(path).entries == ["third"]


def test_an_entry_that_is_not_valid_text_stays_in_memory(tmp_path: Path) -> None:
    path = tmp_path / "console_history"
    history = History(path)
    history.add("bad \udcff")
    assert history.entries == ["bad \udcff"]
    assert history.problem is not None
    history.add("good")
    assert History(path).entries == ["good"]


def test_a_line_another_session_adds_during_a_trim_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "console_history"
    mine, theirs = History(path, limit=2), History(path, limit=2)
    for entry in ["a", "b", "c", "d"]:
        mine.add(entry)
    real_entries = history_module._entries
    appending: list[threading.Thread] = []

    def entries_then_their_append(lines: list[bytes]) -> list[str]:
        # In the middle of the trim (after its read), the other session appends.
        if not appending:
            appending.append(threading.Thread(target=theirs.add, args=("theirs",)))
            appending[0].start()
            appending[0].join(0.5)  # it waits for the trim to finish
        return real_entries(lines)

    monkeypatch.setattr(history_module, "_entries", entries_then_their_append)
    mine.add("e")  # past twice the limit: the file is rewritten
    appending[0].join(10)
    monkeypatch.undo()
    assert History(path, limit=10).entries[-1] == "theirs"


def test_the_history_works_where_there_is_no_fcntl(tmp_path: Path) -> None:
    # As on Windows: the module imports, and sessions still append and trim under a lock.
    code = """if True:
        import sys
        sys.modules["fcntl"] = None  # import fcntl now fails, as it does on Windows
        from pathlib import Path
        from tui.app.model.console_history import History

        path = Path(sys.argv[1])
        one, two = History(path, limit=2), History(path, limit=2)
        for entry in ["a", "b", "c", "d"]:
            one.add(entry)
        two.add("theirs")
        one.add("e")  # past twice the limit: the file is rewritten
        assert one.problem is None and two.problem is None, (one.problem, two.problem)
        print(History(path).entries)
    """
    path = tmp_path / "console_history"
    result = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=60
    )
    assert (result.returncode, result.stdout) == (0, "['theirs', 'e']\n"), result.stderr
