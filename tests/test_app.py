"""The inspector app, driven through Pilot: panes, live updates, reruns, bad input."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from rich.cells import cell_len
from rich.text import Text
from textual import events

from tests.app_helpers import (
    make_app,
    move_to_key,
    open_folder,
    output_text,
    run_command,
    script_line,
    tree_lines,
    until,
    value_text,
    write_script,
)
from tui.app.format import format_duration
from tui.app.model.tree_items import FolderItem, KeyItem
from tui.app.widgets.json_view import JsonView
from tui.app.widgets.key_tree import KeyTree
from tui.app.widgets.output_log import Look, OutputLog
from tui.app.widgets.progress_panel import ProgressPanel
from tui.app.widgets.script_list import ScriptList
from tui.lua.supervisor import Event, Printed, RunStarted
from tui.state import Store


def fixed_store() -> Store:
    store = Store(clock=lambda: 1_700_000_000.0)
    store.set("workflow:data_pipeline:status", "running", source="pipeline.lua#1")
    store.set("workflow:data_pipeline:step", 3, source="pipeline.lua#1")
    store.set("cache:api_response:user_123", {"name": "Ada", "tags": ["x", "y"]}, source="cli")
    store.set("progress:import_job", {"current": 3, "total": 10}, source="cli")
    for n in (10, 2, 1):
        store.set(f"user:user_{n}", n, source="cli")
    store.set("job", "itself", source="cli")
    store.set("job:1", "first", source="cli")
    store.set("user[1]", "bracket", source="cli")
    store.set("[b]x[/b]", "markup", source="cli")
    return store


async def test_keys_are_grouped_by_prefix_with_counts_in_natural_order() -> None:
    app = make_app(fixed_store())
    async with app.run_test(size=(100, 30)) as pilot:
        assert tree_lines(app) == [
            "cache  1",
            "job  1",
            "progress  1",
            "user  3",
            "workflow  2",
            "[b]x[/b]",
            "job",
            "user[1]",
        ]
        open_folder(app, "user:")
        open_folder(app, "workflow:")
        await pilot.pause()
        open_folder(app, "workflow:data_pipeline:")
        await pilot.pause()
        assert tree_lines(app)[3:12] == [
            "user  3",
            "  user_1",
            "  user_2",
            "  user_10",
            "workflow  2",
            "  data_pipeline  2",
            "    status",
            "    step",
            "[b]x[/b]",
        ]
        assert app.query_one(KeyTree).border_title == "Keys · 11"


async def test_the_value_pane_shows_pretty_json_and_where_it_came_from() -> None:
    app = make_app(fixed_store())
    async with app.run_test(size=(100, 30)) as pilot:
        open_folder(app, "cache:")
        await pilot.pause()
        open_folder(app, "cache:api_response:")
        await pilot.pause()
        move_to_key(app, "cache:api_response:user_123")
        await until(pilot, lambda: "user_123" in value_text(app))
        text = value_text(app)
        assert "object · 31 B · v3 · " in text and " by cli" in text
        assert '"name": "Ada"' in text and '"tags": [' in text


async def test_the_tree_and_the_value_follow_a_running_script(tmp_path: Path) -> None:
    script = write_script(
        tmp_path / "writer.lua",
        'State.set("live:watched", 0)\n'
        'for i = 1, 400 do State.set("live:k" .. i, i); State.set("live:watched", i)\n'
        "  sleep(0.002) end\n",
    )
    store = Store()
    store.set("live:watched", -1, source="test")
    app = make_app(store, [script], watch=False)
    async with app.run_test(size=(100, 30)) as pilot:
        open_folder(app, "live:")
        await pilot.pause()
        move_to_key(app, "live:watched")
        await until(
            pilot, lambda: "live  " in tree_lines(app)[0] and app.main.feed.index.folder("live:")
        )
        await until(pilot, lambda: "live  401" in tree_lines(app)[0], what="all 400 keys counted")
        assert "\n400" in value_text(app)
        assert "writer.lua#1" in value_text(app)
        await until(pilot, lambda: "ok" in script_line(app))


async def test_the_selection_and_open_folders_survive_updates(tmp_path: Path) -> None:
    store = Store()
    store.set("b:item_50", "picked", source="test")
    script = write_script(
        tmp_path / "fill.lua",
        'for i = 1, 40 do State.set("b:item_" .. i, i) end\nState.set("a:new", 1)\n',
    )
    app = make_app(store, [script], watch=False)
    async with app.run_test(size=(100, 30)) as pilot:
        # Hold the run until the selection is made.
        app.session.supervisor.stop(None)
        open_folder(app, "b:")
        await pilot.pause()
        move_to_key(app, "b:item_50")
        await pilot.pause()
        app.session.supervisor.rerun(None)
        await until(pilot, lambda: "a  1" in tree_lines(app))
        tree = app.query_one(KeyTree)
        assert tree.cursor_item == KeyItem("b:item_50")
        assert tree_lines(app)[1] == "b  41"
        assert tree_lines(app)[2:4] == ["  item_1", "  item_2"]
        assert '"picked"' in value_text(app)


async def test_a_key_deleted_under_the_cursor_says_so() -> None:
    store = Store()
    store.set("gone", 1, source="test")
    store.set("stays", 2, source="test")
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        move_to_key(app, "gone")
        await until(pilot, lambda: "v1" in value_text(app))
        store.delete("gone", source="editor")
        await until(pilot, lambda: "deleted by editor" in value_text(app))
        assert tree_lines(app) == ["gone  deleted", "stays"]
        move_to_key(app, "stays")
        await until(pilot, lambda: tree_lines(app) == ["stays"])


async def test_a_wide_folder_shows_a_page_at_a_time() -> None:
    store = Store()
    store.load({f"wide:{n}": n for n in range(2500)}, source="test")
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        open_folder(app, "wide:")
        await pilot.pause()
        lines = tree_lines(app)
        assert len(lines) == 1 + 1000 + 1
        assert lines[1:3] == ["  0", "  1"] and lines[-1] == "  … 1,500 more"
        tree = app.query_one(KeyTree)
        tree.move_cursor(tree.get_node_at_line(tree.last_line))
        tree.focus()
        await pilot.press("enter")
        await until(pilot, lambda: tree_lines(app)[-1] == "  … 500 more")
        assert tree_lines(app)[1001] == "  1000"


async def test_a_huge_value_is_shown_cut_short_with_a_note() -> None:
    store = Store()
    store.set("huge", [f"item {n:08d}" for n in range(200_000)], source="test")
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        move_to_key(app, "huge")
        await until(pilot, lambda: "Showing the first" in value_text(app))
        assert '"item 00000000"' in value_text(app)
        assert '"item 00199999"' not in value_text(app)


async def test_output_is_tagged_and_runs_are_marked(tmp_path: Path) -> None:
    good = write_script(tmp_path / "good.lua", 'print("hello")\n')
    bad = write_script(tmp_path / "bad.lua", 'print("before")\nerror("boom")\n')
    app = make_app(Store(), [good, bad], watch=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(
            pilot, lambda: "failed after" in output_text(app) and "ok in" in output_text(app)
        )
        text = output_text(app)
        assert "good.lua │ ── run 1 started" in text
        assert "good.lua │ hello" in text
        assert "bad.lua  │ bad.lua:2: boom" in text
        assert "bad.lua  │ stack traceback:" in text
        await until(pilot, lambda: "✗ bad.lua  error  1 run" in script_line(app, 1))
        await until(pilot, lambda: "✓ good.lua  ok  1 run" in script_line(app, 0))


async def test_a_syntax_error_shows_and_waits_for_the_next_save(tmp_path: Path) -> None:
    script = write_script(tmp_path / "broken.lua", "print(\n")
    app = make_app(Store(), [script], watch=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: "failed after" in output_text(app))
        assert "broken.lua:2:" in output_text(app)
        assert "error" in script_line(app)
        write_script(script, 'print("fixed")\n')
        app.session.supervisor.files_changed([script])
        await until(pilot, lambda: "broken.lua │ fixed" in output_text(app))


async def test_a_missing_script_shows_as_missing_then_runs(tmp_path: Path) -> None:
    script = tmp_path / "later.lua"
    app = make_app(Store(), [script])
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: "missing" in script_line(app))
        await until(pilot, lambda: "is not there: it runs when it appears" in output_text(app))
        write_script(script, 'print("arrived")\n')
        await until(pilot, lambda: "later.lua │ arrived" in output_text(app), what="rerun")
        await until(pilot, lambda: "ok" in script_line(app), what="the run to end")


async def test_saving_the_script_reruns_it_and_the_store_is_kept(tmp_path: Path) -> None:
    script = write_script(tmp_path / "job.lua", 'State.incr("runs")\nprint("version 1")\n')
    store = Store()
    app = make_app(store, [script])
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: "version 1" in output_text(app))
        for attempt in range(2, 60):  # saves until the watcher is up: it has no ready signal
            write_script(script, f'State.incr("runs")\nprint("version {attempt}")\n')
            try:
                await until(pilot, lambda n=attempt: f"version {n}" in output_text(app), 0.3)
                break
            except AssertionError:
                continue
        # An editor's save: a new file renamed over the script.
        temporary = tmp_path / "job.lua.new"
        write_script(temporary, 'State.incr("runs")\nprint("renamed over")\n')
        temporary.replace(script)
        await until(pilot, lambda: "renamed over" in output_text(app))
        await until(pilot, lambda: "ok" in script_line(app))
        assert store.get("runs") >= 3


async def test_r_reruns_and_s_stops_an_endless_loop(tmp_path: Path) -> None:
    script = write_script(tmp_path / "spin.lua", 'print("spinning")\nwhile true do end\n')
    app = make_app(Store(), [script], watch=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: "running" in script_line(app))
        await pilot.press("r")
        await until(pilot, lambda: "run 2 started" in output_text(app))
        assert "run 1 cancelled (restarted)" in output_text(app)
        await pilot.press("s")
        await until(pilot, lambda: "cancelled" in script_line(app))
        assert "run 2 cancelled (stopped)" in output_text(app)
        assert "2 runs" in script_line(app)


@pytest.mark.latency
async def test_quitting_during_an_endless_loop_is_prompt(tmp_path: Path) -> None:
    script = write_script(tmp_path / "spin.lua", "while true do end\n")
    app = make_app(Store(), [script], watch=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: "running" in script_line(app))
        started = time.monotonic()
        await pilot.press("q")
        await until(pilot, lambda: app.return_code is not None or not app.is_running)
        assert time.monotonic() - started < 1.0
    assert app.session.supervisor.script("spin.lua").run is None


async def test_the_command_palette_runs_the_same_actions(tmp_path: Path) -> None:
    # A script that waits rather than spins: Pilot waits for an idle CPU after each key.
    script = write_script(
        tmp_path / "spin.lua", 'print("waiting")\nwhile true do sleep(0.05) end\n'
    )
    app = make_app(Store(), [script], watch=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: "running" in script_line(app))
        await run_command(pilot, "stop spin")
        await until(pilot, lambda: "cancelled" in script_line(app))


async def test_output_history_is_bounded_when_a_script_floods_it(tmp_path: Path) -> None:
    script = write_script(tmp_path / "flood.lua", "for i = 1, 30000 do print(i) end\n")
    app = make_app(Store(), [script], watch=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: "ok in" in output_text(app))
        log = app.query_one(OutputLog)
        assert len(log.lines()) == log.max_lines
        assert output_text(app).splitlines()[-2].endswith("│ 30000")


async def test_screen_updates_are_coalesced_whatever_the_write_rate(tmp_path: Path) -> None:
    script = write_script(
        tmp_path / "busy.lua",
        'local t = os.clock()\nwhile os.clock() - t < 1 do State.incr("n") end\n',
    )
    app = make_app(Store(), [script], watch=False)
    async with app.run_test(size=(100, 30)) as pilot:
        tree = app.query_one(KeyTree)
        calls = []
        original = tree.refresh_from

        def counted(touched: object) -> None:
            calls.append(time.monotonic())
            original(touched)  # type: ignore[arg-type]

        tree.refresh_from = counted  # type: ignore[method-assign]
        await until(pilot, lambda: "ok in" in output_text(app))
        assert app.session.store.get("n") > 1000
        span = calls[-1] - calls[0]
        assert len(calls) <= 21 * span + 2


async def test_a_tiny_terminal_stays_usable() -> None:
    app = make_app(fixed_store())
    async with app.run_test(size=(60, 15)) as pilot:
        open_folder(app, "workflow:")
        await pilot.pause()
        move_to_key(app, "job")
        await until(pilot, lambda: '"itself"' in value_text(app))
        await pilot.resize_terminal(30, 8)
        await pilot.pause()
        assert app.is_running


async def test_stderr_and_control_characters_show_safely(tmp_path: Path) -> None:
    script = write_script(
        tmp_path / "noisy.lua",
        'io.stderr:write("a warning\\n")\nprint("\\27[2J cleared?")\n',
    )
    app = make_app(Store(), [script], watch=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: "ok in" in output_text(app))
        text = output_text(app)
        assert "noisy.lua │ a warning" in text
        assert "noisy.lua │ \\x1b[2J cleared?" in text
        log = app.query_one(OutputLog)
        warning = next(line for line in log.lines() if "a warning" in line[1])
        assert warning[2] is Look.STDERR


async def test_huge_lines_are_cut_with_a_note(tmp_path: Path) -> None:
    script = write_script(
        tmp_path / "wide.lua",
        'local s = string.rep("x", 100000)\nprint(s)\nState.set("wide", s)\n',
    )
    app = make_app(Store(), [script], watch=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: "ok in" in output_text(app))
        # The run cuts the line at 64 KiB (its note follows); the log cuts it again.
        assert "x … 61,463 more characters" in output_text(app)
        move_to_key(app, "wide")
        await until(pilot, lambda: "string · 97.7 KiB" in value_text(app))
        view = app.query_one(JsonView)
        assert view.line_segments(0)[-1].text == " … 95,906 more bytes on this line"


async def test_a_deleted_key_under_the_cursor_keeps_its_place_as_others_change() -> None:
    store = Store()
    for key in ("m", "n", "o"):
        store.set(key, 1, source="test")
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        move_to_key(app, "n")
        await pilot.pause()
        store.delete("n", source="test")
        await until(pilot, lambda: tree_lines(app) == ["m", "n  deleted", "o"])
        store.set("a", 1, source="test")
        store.delete("m", source="test")
        await until(pilot, lambda: tree_lines(app) == ["a", "n  deleted", "o"])
        assert "deleted by test" in value_text(app)
        move_to_key(app, "o")
        await until(pilot, lambda: tree_lines(app) == ["a", "o"])


async def test_the_value_pane_follows_when_the_line_under_the_cursor_goes() -> None:
    store = Store()
    store.set("a:x", 1, source="test")
    store.set("b", 2, source="test")
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        tree = app.query_one(KeyTree)
        tree.move_cursor(tree.node_for(FolderItem("a:")))
        await until(pilot, lambda: "A folder of 1 key" in value_text(app))
        store.delete("a:x", source="test")
        await until(pilot, lambda: tree_lines(app) == ["b"])
        await until(pilot, lambda: "v2" in value_text(app), what="the pane shows b")


async def test_keys_that_just_changed_are_highlighted_for_a_second() -> None:
    store = Store()
    store.set("k", 1, source="test")
    now = [100.0]
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        tree = app.query_one(KeyTree)
        tree.clock = lambda: now[0]
        store.set("k", 2, source="test")
        node = tree.node_for(KeyItem("k"))
        assert node is not None
        await until(pilot, lambda: "reverse" in str(node.label.style))
        now[0] += 2
        await until(pilot, lambda: "reverse" not in str(node.label.style))


async def test_a_key_named_like_its_folder_and_the_last_page() -> None:
    store = Store()
    store.load({f"big:{n}": n for n in range(1001)}, source="test")
    store.set("big:", "the key named big:", source="test")
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        open_folder(app, "big:")
        await pilot.pause()
        assert tree_lines(app)[-1] == "  … 2 more"
        tree = app.query_one(KeyTree)
        tree.focus()
        tree.move_cursor(tree.get_node_at_line(tree.last_line))
        await pilot.press("enter")
        await until(pilot, lambda: "more" not in tree_lines(app)[-1])
        assert tree_lines(app)[1] == '  ""' and len(tree_lines(app)) == 1 + 1002


async def test_a_longer_delimiter_names_lines_by_what_follows_the_folder() -> None:
    store = Store()
    store.set("a:::b", 1, source="test")
    store.set("a:::c::d", 2, source="test")
    app = make_app(store, delimiter="::")
    async with app.run_test(size=(100, 30)) as pilot:
        open_folder(app, "a::")
        await pilot.pause()
        open_folder(app, "a:::c::")
        await pilot.pause()
        assert tree_lines(app) == ["a  2", "  :c  1", "    d", "  :b"]


async def test_a_flood_of_output_says_how_much_was_skipped() -> None:
    app = make_app(Store())
    async with app.run_test(size=(100, 30)) as pilot:
        log = app.query_one(OutputLog)
        log.clear()
        flood: list[Event] = [RunStarted("x.lua", 1)]
        flood += [Printed("x.lua", 1, str(n)) for n in range(1, 12001)]
        app.main.run_log.write(flood)  # one tick's worth, as a script faster than the screen gives
        await pilot.pause()
        lines = output_text(app).splitlines()
        assert lines[0] == "… 7,000 lines skipped: they came faster than they can be shown"
        assert lines[1].endswith("run 1 started") and lines[2].endswith("│ 7001")
        assert lines[-1].endswith("│ 12000") and len(lines) == 5002


async def test_the_output_follows_unless_scrolled_up() -> None:
    app = make_app(Store())
    async with app.run_test(size=(100, 30)) as pilot:
        log = app.query_one(OutputLog)
        for n in range(5):
            log.write("x.lua", [f"batch {n} line {i}" for i in range(40)])
        await until(pilot, lambda: log.scroll_y == log.max_scroll_y > 0)
        log.scroll_to(y=3, animate=False, immediate=True)  # the reader looks back
        log.write("x.lua", ["one more"])
        await pilot.pause()
        assert log.scroll_y == 3
        log.scroll_end(animate=False, immediate=True)
        log.write("x.lua", ["and another"])
        await until(pilot, lambda: log.scroll_y == log.max_scroll_y)


def test_durations_read_naturally() -> None:
    assert [format_duration(s) for s in (None, 0.0004, 0.012, 3.44, 59.96, 125)] == [
        "",
        "400 µs",
        "12 ms",
        "3.4 s",
        "1 min 0 s",
        "2 min 5 s",
    ]


def config_store() -> Store:
    store = Store()
    for key in ("config:name", "config:retries", "users"):
        store.set(key, 1, source="cli")
    return store


async def test_keys_typed_ahead_move_over_the_tree_as_it_is_after_enter() -> None:
    app = make_app(config_store())
    async with app.run_test(size=(100, 30)) as pilot:
        tree = app.query_one(KeyTree)
        await until(pilot, lambda: tree_lines(app) == ["config  2", "users"])
        # One burst, as a fast typist sends it: no key waits for the one before.
        for key in ("down", "enter", "down"):
            app.post_message(events.Key(key, None))
        await until(pilot, lambda: tree.cursor_item == KeyItem("config:name"))
        await pilot.pause()
        assert tree.cursor_item == KeyItem("config:name")


async def test_right_typed_ahead_goes_into_a_folder_it_just_opened() -> None:
    store = Store()
    for key in ("a:x", "b:y", "b:z"):
        store.set(key, 1, source="cli")
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        tree = app.query_one(KeyTree)
        tree.cursor_line = 0
        await pilot.pause()
        # Down to b, right opens it, right goes onto its first line, down to the next.
        for key in ("down", "right", "right", "down"):
            app.post_message(events.Key(key, None))
        await until(pilot, lambda: tree.cursor_item == KeyItem("b:z"))
        for key in ("left", "left"):  # to the folder, then closed
            app.post_message(events.Key(key, None))
        await until(pilot, lambda: tree_lines(app) == ["a  1", "b  2"])
        assert tree.cursor_item == FolderItem("b:")


async def test_right_and_left_open_and_close_folders() -> None:
    app = make_app(config_store())
    async with app.run_test(size=(100, 30)) as pilot:
        tree = app.query_one(KeyTree)
        tree.cursor_line = 0
        await pilot.press("right")
        assert tree_lines(app) == ["config  2", "  name", "  retries", "users"]
        assert tree.cursor_item == FolderItem("config:")
        await pilot.press("right")  # in an open folder: to its first line
        assert tree.cursor_item == KeyItem("config:name")
        await pilot.press("down", "left")  # on a key: to its folder
        assert tree.cursor_item == FolderItem("config:")
        await pilot.press("left")  # on an open folder: closed
        assert tree_lines(app) == ["config  2", "users"]
        await pilot.press("left")  # a top-level folder has nowhere to go
        assert tree.cursor_item == FolderItem("config:")


async def test_escape_after_a_filter_opens_the_folders_that_were_open() -> None:
    store = Store()
    for key in ("a:x", "a:y", "b:x", "b:y", "c:z"):
        store.set(key, 1, source="cli")
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        open_folder(app, "a:")
        await pilot.pause()
        assert tree_lines(app) == ["a  2", "  x", "  y", "b  2", "c  1"]
        await pilot.press("slash", *"z", "enter")
        await until(pilot, lambda: tree_lines(app) == ["c  1", "  z"])
        assert app.query_one(KeyTree).cursor_item == KeyItem("c:z")
        await pilot.press("escape")
        await until(pilot, lambda: tree_lines(app) == ["a  2", "  x", "  y", "b  2", "c  1"])


async def test_a_filter_with_many_matches_leaves_their_folders_closed() -> None:
    store = Store()
    for n in range(100):
        store.set(f"f{n % 5}:key_{n}", n, source="cli")
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("slash", *"key", "enter")
        await until(pilot, lambda: app.main.feed.key_filter is not None)
        assert tree_lines(app) == ["f0  20", "f1  20", "f2  20", "f3  20", "f4  20"]


async def test_a_long_error_line_wraps_and_names_its_file_from_the_start_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "jobs" / "lib").mkdir(parents=True)
    write_script(
        tmp_path / "jobs" / "lib" / "helper.lua",
        "local M = {}\nfunction M.check(n) error(string.format("
        '"record %d of 100 has no id, and the importer cannot go on without one", n)) end\n'
        "return M\n",
    )
    script = write_script(
        tmp_path / "jobs" / "main.lua",
        'package.path = "jobs/lib/?.lua;" .. package.path\nrequire("helper").check(50)\n',
    )
    app = make_app(Store(), [script], watch=False)
    async with app.run_test(size=(80, 30)) as pilot:
        await until(pilot, lambda: "failed after" in output_text(app))
        assert str(tmp_path) not in output_text(app)
        log = app.query_one(OutputLog)
        rows = ["".join(s.text for s in log.line_segments(i)) for i in range(log.line_count)]
        width = log.size.width - 1
        assert all(cell_len(row) <= width for row in rows), rows
        start = next(i for i, row in enumerate(rows) if "jobs/lib/helper.lua:2:" in row)
        tag = len("main.lua │ ")
        joined = rows[start][tag:] + "".join(row[tag:] for row in rows[start + 1 : start + 3])
        assert "jobs/lib/helper.lua:2: record 50 of 100 has no id, and the importer cannot go" in (
            joined
        )
        assert "on without one" in joined


async def test_switching_theme_recolours_output_json_progress_and_scripts(tmp_path: Path) -> None:
    script = write_script(
        tmp_path / "bad.lua", 'State.set("progress:x", {current = 1, total = 2})\nerror("boom")\n'
    )
    store = Store()
    store.set("value", {"a": 1}, source="cli")
    app = make_app(store, [script], watch=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: "failed after" in output_text(app))
        await until(pilot, lambda: tree_lines(app) == ["progress  1", "value"])
        move_to_key(app, "value")
        await until(pilot, lambda: app.query_one(JsonView).line_count > 1)

        def colours() -> list[object]:
            log = app.query_one(OutputLog)
            error_row = next(
                i for i in range(log.line_count) if "boom" in log.line_segments(i)[-1].text
            )
            json_key = app.query_one(JsonView).line_segments(1)[1]
            panel = app.query_one(ProgressPanel)
            script = app.query_one(ScriptList).get_option_at_index(0).prompt
            assert isinstance(script, Text)
            return [
                log.line_segments(error_row)[-1].style,
                json_key.style,
                panel.line_segments(0)[1].style,
                script.spans[0].style,
            ]

        await until(pilot, lambda: app.query_one(ProgressPanel).rows)
        dark = colours()
        app.theme = "textual-light"
        await until(
            pilot,
            lambda: all(b != a for b, a in zip(dark, colours(), strict=True)),
            what="every pane recoloured",
        )
        light = colours()
        error = light[0].color
        assert error is not None and error.triplet is not None
        assert error.triplet.hex == app.theme_variables["text-error"].lower()
