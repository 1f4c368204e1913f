"""The Lua console's engine: one runtime for the session, one line at a time."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator

import pytest

from tests.conftest import STUCK_IN_C
from tui.lua.console import MAX_RESULT_LINES, Console, Evaluation
from tui.lua.runner import RunStatus
from tui.state import Store


class Session:
    """A console with what it printed and how each line ended."""

    def __init__(self, store: Store) -> None:
        self.lines: list[tuple[str, bool]] = []
        self.done: list[Evaluation] = []
        self._ended = threading.Condition()
        self.console = Console(
            store,
            on_line=lambda text: self.lines.append((text, False)),
            on_error_line=lambda text: self.lines.append((text, True)),
            on_done=self._on_done,
        )

    def _on_done(self, evaluation: Evaluation) -> None:
        with self._ended:
            self.done.append(evaluation)
            self._ended.notify_all()

    def wait(self, number: int) -> Evaluation:
        with self._ended:
            assert self._ended.wait_for(
                lambda: any(e.number == number for e in self.done), timeout=10
            ), f"line {number} never ended"
        return next(e for e in self.done if e.number == number)

    def run(self, text: str) -> Evaluation:
        number = self.console.submit(text)
        assert number is not None
        return self.wait(number)


@pytest.fixture
def session(store: Store) -> Iterator[Session]:
    session = Session(store)
    yield session
    session.console.cancel()


def test_an_expression_shows_its_values_as_json(session: Session) -> None:
    assert session.run("1 + 1").results == ("2",)
    assert session.run("1 + 1 -- a comment").results == ("2",)
    assert session.run('"a", nil, true, 1.0, 0.1').results == ('"a"', "nil", "true", "1.0", "0.1")
    table = session.run("{b = {1, 2}, a = 'x'}").results
    assert table == ('{\n  "a": "x",\n  "b": [\n    1,\n    2\n  ]\n}',)


def test_a_statement_shows_nothing_and_writes_as_console(session: Session, store: Store) -> None:
    evaluation = session.run('State.set("job:1", {done = false})')
    assert (evaluation.status, evaluation.results) == (RunStatus.OK, ())
    entry = store.entry("job:1")
    assert entry is not None and entry.source == "console"
    assert session.run('State.get("job:1")').results == ('{\n  "done": false\n}',)
    assert session.run('#State.list("job:")').results == ("1",)


def test_globals_last_from_line_to_line(session: Session) -> None:
    session.run("count = 41")
    session.run("function bump() count = count + 1 return count end")
    assert session.run("bump()").results == ("42",)


def test_printed_lines_go_to_their_stream(session: Session) -> None:
    session.run('print("out", 1) io.stderr:write("warn\\n") io.write("no newline")')
    assert session.lines == [("out\t1", False), ("warn", True), ("no newline", False)]


def test_values_that_are_not_json_are_named(session: Session) -> None:
    function, table = session.run("print, {f = print}").results
    assert function.startswith("function: 0x")
    assert table.startswith("table: 0x")
    assert table.endswith(
        "(not JSON: value at f is a function; only nil, booleans, "
        "numbers, strings and tables can be stored)"
    )
    # A __tostring of the script's own is not run: it could loop.
    shown = session.run("setmetatable({}, {__tostring = function() while true do end end})")
    assert shown.results == ("{}",)
    assert session.run('"bad \\xff byte"').results == ('"bad \\\\xFF byte"',)


def test_errors_end_the_line_and_leave_the_console_usable(session: Session) -> None:
    failed = session.run('error("boom")')
    assert failed.status is RunStatus.ERROR
    assert failed.error is not None and failed.error.message == "console:1: boom"
    nil_field = session.run('State.get("nope").field')
    assert nil_field.error is not None
    assert nil_field.error.message.startswith("console:1: attempt to index a nil value")
    syntax = session.run("for i = 1")
    assert syntax.error is not None and "console:1:" in syntax.error.message
    refused = session.run('State.set("", 1)')
    assert refused.error is not None
    assert refused.error.message == "console:1: State.set: key must not be empty"
    assert session.run("2 * 21").results == ("42",)


def test_an_endless_loop_is_cancelled_and_the_globals_stay(session: Session) -> None:
    session.run("kept = 'yes'")
    number = session.console.submit("while true do end")
    assert number is not None
    assert session.console.busy
    assert session.console.submit("1") is None, "one line at a time"
    assert session.console.cancel()
    evaluation = session.wait(number)
    assert (evaluation.status, evaluation.reason) == (RunStatus.CANCELLED, "cancelled")
    assert not session.console.busy
    assert session.run("kept").results == ('"yes"',)
    assert not session.console.cancel(), "nothing left to cancel"


def test_a_line_stuck_in_c_is_given_up_with_a_fresh_runtime(session: Session) -> None:
    session.run("kept = 1")
    number = session.console.submit(STUCK_IN_C)
    assert number is not None
    (thread,) = [t for t in threading.enumerate() if t.name == f"stateui console #{number}"]
    assert session.console.restart("it did not stop")
    evaluation = session.wait(number)
    assert (evaluation.status, evaluation.reason) == (RunStatus.CANCELLED, "it did not stop")
    # The given-up line no longer competes for the CPU while its call lasts.
    assert thread.native_id is not None and thread.is_alive()
    assert os.sched_getscheduler(thread.native_id) == os.SCHED_IDLE
    assert session.run("kept").results == ("nil",), "a fresh runtime"
    assert not session.console.restart("again")


def test_os_exit_ends_only_the_line(session: Session) -> None:
    assert session.run("os.exit(0)").status is RunStatus.OK
    failed = session.run("os.exit(3)")
    assert failed.error is not None and "os.exit(3)" in failed.error.message
    assert session.run("1").results == ("1",)


def test_a_huge_result_is_cut(session: Session) -> None:
    (shown,) = session.run("local t = {} for i = 1, 5000 do t[i] = i end return t").results
    lines = shown.splitlines()
    assert len(lines) == MAX_RESULT_LINES + 1
    assert lines[-1] == "… 4,002 more lines"


def test_many_values_are_cut_like_one_long_one(session: Session) -> None:
    shown = session.run('string.byte(string.rep("a", 5000), 1, -1)').results
    assert len(shown) == MAX_RESULT_LINES + 1
    assert shown[-1] == "… 4,000 more values"


def test_numbers_show_exactly_as_in_json(session: Session) -> None:
    shown = session.run("0.1 + 0.2, 1e15 + 0.5, 2^63, math.maxinteger, 1/0, -1/0").results
    assert shown == (
        "0.30000000000000004",
        "1000000000000000.5",
        "9.223372036854776e+18",
        "9223372036854775807",
        "inf",
        "-inf",
    )


def test_a_trailing_comment_keeps_the_errors_line(session: Session) -> None:
    failed = session.run('State.get("nope").field -- a comment')
    assert failed.error is not None
    assert failed.error.message.startswith("console:1: attempt to index a nil value")
    assert session.run("1 + 1 -- two").results == ("2",)


def test_lines_that_are_not_lua_are_syntax_errors(session: Session) -> None:
    for text in (") --", "1) + (2"):
        failed = session.run(text)
        assert failed.error is not None, text
        assert failed.error.message.startswith("console:1: unexpected symbol near"), text


def test_a_given_up_line_still_shows_what_it_wrote(session: Session) -> None:
    # The line on stderr comes once the unfinished one is written.
    text = f'io.write("half a line") io.stderr:write("in C now\\n") {STUCK_IN_C}'
    number = session.console.submit(text)
    assert number is not None
    deadline = time.monotonic() + 10
    while ("in C now", True) not in session.lines:
        assert time.monotonic() < deadline, "the line never got going"
        time.sleep(0.01)
    assert session.console.restart("it did not stop")
    session.wait(number)
    assert ("half a line", False) in session.lines


def test_a_line_is_busy_until_its_end_is_reported(store: Store) -> None:
    seen: list[bool] = []
    ended = threading.Event()
    console: Console

    def on_done(evaluation: Evaluation) -> None:
        seen.append(console.busy)
        ended.set()

    console = Console(store, on_line=print, on_error_line=print, on_done=on_done)
    console.submit("1")
    assert ended.wait(10)
    assert seen == [True]
    assert not console.busy


def test_a_trailing_semicolon_keeps_the_errors_line(session: Session) -> None:
    failed = session.run('State.set("", 1);')
    assert failed.error is not None
    assert failed.error.message == "console:1: State.set: key must not be empty"


def test_the_standard_files_are_named_as_files(session: Session) -> None:
    assert session.run('io.write("hi")').results == ("file (stdout)",)
    assert session.run("io.stderr").results == ("file (stderr)",)
