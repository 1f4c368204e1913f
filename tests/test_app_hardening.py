"""The app holds the README's promises under abuse: it never dies, freezes or garbles."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import pytest
from textual import events
from textual.command import CommandList, CommandPalette
from textual.widgets import TextArea

from tests.app_helpers import (
    make_app,
    move_to_key,
    open_folder,
    output_text,
    panel_text,
    tree_lines,
    until,
    value_text,
)
from tui.app import key_actions
from tui.app.format import (
    escape_controls,
    format_count,
    format_percent,
    pretty_json,
    pretty_json_bytes,
)
from tui.app.model import key_index
from tui.app.model.tree_items import MoreItem
from tui.app.screens import value_editor
from tui.app.screens.confirm import Confirm
from tui.app.screens.value_editor import ValueEditor
from tui.app.widgets import key_tree
from tui.app.widgets.key_tree import PAGE, KeyTree
from tui.state import Store
from tui.state.backends import MemoryBackend


@pytest.mark.parametrize("page_key", ["pageup", "pagedown"])
async def test_a_page_key_typed_ahead_of_the_palette_does_not_kill_the_app(
    page_key: str,
) -> None:
    app = make_app(Store())
    async with app.run_test(size=(100, 30)) as pilot:
        # One burst: the page key arrives before the palette's list has a size.
        for key in ("ctrl+p", page_key, page_key):
            app.post_message(events.Key(key, None))
        await until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.pause(0.2)
        assert app.is_running
        assert app.return_code is None
        # Once the list is on screen, the page keys move through it as before.
        await pilot.press("down")
        commands = app.screen.query_one(CommandList)
        await until(pilot, lambda: commands.option_count > 0 and commands.size.height > 0)
        before = commands.highlighted or 0
        await pilot.press("pagedown")
        paged = commands.highlighted
        assert paged is not None and paged > before
        await pilot.press("pageup")
        assert commands.highlighted is not None and commands.highlighted < paged


async def test_every_page_of_a_wide_folder_costs_what_the_first_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = Store()
    store.load({f"wide:{n}": n for n in range(11 * PAGE + 500)}, source="test")
    names_read: list[str] = []
    lines_made: list[object] = []
    real_name_of, real_label = key_index.name_of, KeyTree._label

    def counting_name_of(key: str) -> str:
        names_read.append(key)
        return real_name_of(key)

    def counting_label(tree: KeyTree, item: key_tree.Item) -> object:
        lines_made.append(item)
        return real_label(tree, item)

    monkeypatch.setattr(key_index, "name_of", counting_name_of)
    monkeypatch.setattr(KeyTree, "_label", counting_label)
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        tree = app.query_one(KeyTree)
        await until(pilot, lambda: tree_lines(app) == ["wide  11,500"])
        open_folder(app, "wide:")
        await pilot.pause()
        folder = tree.node_for(key_tree.FolderItem("wide:"))
        assert folder is not None
        work: list[tuple[int, int]] = []
        for _ in range(10):  # pages 2 to 11
            more = folder.children[-1]
            assert isinstance(more.data, MoreItem)
            names_read.clear()
            lines_made.clear()
            tree.show_more(more)
            await pilot.pause()
            work.append((len(names_read), len(lines_made)))
        # Page 11 reads and draws no more than page 2: the names and lines it adds.
        assert work[-1][0] <= work[0][0] <= PAGE + 10
        assert work[-1][1] <= work[0][1] + 10 <= PAGE + 20
        lines = tree_lines(app)
        assert lines[1:3] == ["  0", "  1"]
        assert lines[-2:] == [f"  {11 * PAGE - 1}", "  … 500 more"]
        tree.show_more(folder.children[-1])  # the last page: the "… more" line goes
        await pilot.pause()
        assert tree_lines(app)[-1] == f"  {11 * PAGE + 499}"
        assert len(tree_lines(app)) == 1 + 11 * PAGE + 500


async def test_a_page_shown_after_the_folder_changed_keeps_the_natural_order() -> None:
    store = Store()
    store.load({f"wide:{n}": n for n in range(2 * PAGE + 10)}, source="test")
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        tree = app.query_one(KeyTree)
        await until(pilot, lambda: tree_lines(app) == ["wide  2,010"])
        open_folder(app, "wide:")
        await pilot.pause()
        folder = tree.node_for(key_tree.FolderItem("wide:"))
        assert folder is not None
        # Keys come and go in the shown page and the next one, the tree not yet told.
        tree.index.remove("wide:5")
        tree.index.add("wide:1500a")
        tree.show_more(folder.children[-1])
        await pilot.pause()
        lines = [line.strip() for line in tree_lines(app)[1:]]
        assert "5" not in lines
        assert lines.index("1500a") == lines.index("1500") + 1
        assert lines[-1] == "… 10 more"


# What would reach the terminal raw: C0 controls but the line end, DEL, C1 (CSI is \x9b).
RAW_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")
EVIL = "a\x9b2Jb\x7fc\x1b[31md\x85e"


def test_pretty_json_writes_del_and_c1_controls_as_escapes_of_the_same_value() -> None:
    value = {f"k{EVIL}": [EVIL, "plain é ✓"]}
    text = pretty_json(value)
    assert RAW_CONTROL.search(text) is None
    assert "\\u009b" in text and "\\u007f" in text and "\\u0085" in text
    assert orjson.loads(text) == value
    assert orjson.loads(pretty_json_bytes(value)) == value
    assert pretty_json({"a": "é✓"}) == '{\n  "a": "é✓"\n}'  # other text stays as it is


def test_escape_controls_keeps_line_ends_unless_asked_for_one_line() -> None:
    assert escape_controls("a\x9bb\nc") == "a\\x9bb\nc"
    assert escape_controls("a\x9bb\nc", one_line=True) == "a\\x9bb\\nc"


def c1_store() -> Store:
    # Keys with controls are refused by the store's rules; a backend written by other
    # means (an older file, another program) may still hold them.
    backend = MemoryBackend()
    backend.put(f"bad:k{EVIL}", orjson.dumps(1), 1, 1_700_000_000.0, "cli")
    store = Store(backend=backend)
    store.set("bad:value", {f"key{EVIL}": EVIL}, source=f"job{EVIL}.lua#1")
    store.set("progress:text", EVIL, source="cli")
    return store


async def test_control_characters_from_the_store_reach_no_pane_raw() -> None:
    app = make_app(c1_store())
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: "bad  2" in tree_lines(app))
        open_folder(app, "bad:")
        await pilot.pause()
        lines = tree_lines(app)
        assert "  k" + escape_controls(EVIL, one_line=True) in lines
        assert not any(RAW_CONTROL.search(line) for line in lines)
        # The value pane: the header (key and source) and the JSON.
        move_to_key(app, "bad:value")
        await until(pilot, lambda: "job" in value_text(app))
        shown = value_text(app)
        assert "\\u009b" in shown and "\\x9b" in shown
        assert RAW_CONTROL.search(shown) is None, shown
        # The progress panel: a value that is no progress is shown as its JSON.
        await until(pilot, lambda: any("text" in line for line in panel_text(app)))
        assert not any(RAW_CONTROL.search(line) for line in panel_text(app))
        # The editor: the same value, its controls as JSON escapes.
        move_to_key(app, "bad:value")
        await pilot.pause()
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, ValueEditor))
        text = app.screen.query_one("#value", TextArea).text
        assert RAW_CONTROL.search(text) is None
        assert orjson.loads(text) == {f"key{EVIL}": EVIL}


async def test_copying_a_big_folder_leaves_the_screen_answering() -> None:
    store = Store()
    big = "x" * (2 * 1024 * 1024)
    for n in range(10):
        store.set(f"big:{n}", {"n": n, "blob": big}, source="test")
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: tree_lines(app) == ["big  10"])
        tree = app.query_one(KeyTree)
        tree.focus()
        tree.cursor_line = 0
        await pilot.pause()
        ticks: list[int] = [0]
        ticks_at_copy: list[int] = []
        app.set_interval(0.01, lambda: ticks.__setitem__(0, ticks[0] + 1))
        real_copy = app.copy_to_clipboard

        def copy(text: str) -> None:
            ticks_at_copy.append(ticks[0])
            real_copy(text)

        app.copy_to_clipboard = copy  # type: ignore[method-assign]
        await pilot.pause()
        ticks_at_y = ticks[0]
        app.post_message(events.Key("y", None))
        await until(pilot, lambda: ticks_at_copy, timeout=30)
        # The timer went on firing while the 20 MB were read and formatted.
        assert ticks_at_copy[0] > ticks_at_y
        copied = orjson.loads(app.clipboard)
        assert sorted(copied) == [f"big:{n}" for n in range(10)]
        assert copied["big:3"] == {"n": 3, "blob": big}
        await until(pilot, lambda: any(n.title == "Copied" for n in app._notifications))


@pytest.mark.parametrize("on_folder", [True, False])
async def test_a_copy_past_the_limit_is_refused_with_a_message(
    monkeypatch: pytest.MonkeyPatch, on_folder: bool
) -> None:
    monkeypatch.setattr(key_actions, "COPY_LIMIT", 1000)
    store = Store()
    store.set("big:a", "x" * 600, source="test")
    store.set("big:b", "y" * 600, source="test")
    store.set("small", 1, source="test")
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: "big  2" in tree_lines(app))
        tree = app.query_one(KeyTree)
        tree.focus()
        if on_folder:
            tree.cursor_line = 0
        else:
            open_folder(app, "big:")
            await pilot.pause()
            store.set("big:a", "x" * 2000, source="test")
            move_to_key(app, "big:a")
        await pilot.pause()
        await pilot.press("y")
        await until(pilot, lambda: any(n.title == "Too big to copy" for n in app._notifications))
        (said,) = [n.message for n in app._notifications if n.title == "Too big to copy"]
        assert "more than 1000 B of JSON" in said
        assert app.clipboard == ""
        move_to_key(app, "small")  # under the limit, the copy goes through
        await pilot.pause()
        await pilot.press("y")
        await until(pilot, lambda: app.clipboard == "1")


def test_a_value_too_big_to_edit_is_refused_before_it_is_formatted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    formatted: list[object] = []
    monkeypatch.setattr(value_editor, "pretty_json", formatted.append)
    data = orjson.dumps(["x" * 100] * 30_000)  # 3 MB, past the editor's 256 KiB
    with pytest.raises(ValueError, match=r"It is 2\.9 MiB of JSON: the editor takes up to"):
        value_editor.editable_text(data)
    assert formatted == []


def test_huge_counts_and_percents_are_written_short() -> None:
    assert format_count(1e300) == "1e+300"
    assert format_count(-(10**300)) == "-1e+300"
    assert format_percent(1e300) == "1e+300%"
    assert format_percent(42.25) == " 42.2%"
    assert format_percent(99_999.0) == "99999.0%"
    assert format_percent(float("inf")) == "∞%"


async def test_a_huge_progress_value_keeps_its_line_short() -> None:
    store = Store()
    store.set("progress:percent", {"percent": 1e300}, source="test")
    store.set("progress:count", {"current": 1e300, "total": 3}, source="test")
    store.set("progress:int", {"current": 2**62, "total": 2**63 - 1}, source="test")
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: len(panel_text(app)) == 3)
        lines = {line.split()[0]: line for line in panel_text(app)}
        assert all(len(line) < 120 for line in lines.values()), lines
        assert lines["percent"].endswith("█ 1e+300%  done")
        assert "3.33e+301%  1e+300/3  done" in lines["count"]
        assert " 50.0%  4.61e+18/9.22e+18" in lines["int"]


@pytest.mark.parametrize("width", [60, 100])
async def test_a_long_key_leaves_the_metadata_line_in_view(width: int) -> None:
    key = "long:" + "k" * 507  # the longest key, 512 bytes
    store = Store()
    store.set(key, {"a": 1}, source="job.lua#1")
    app = make_app(store)
    async with app.run_test(size=(width, 30)) as pilot:
        await until(pilot, lambda: tree_lines(app) == ["long  1"])
        open_folder(app, "long:")
        await pilot.pause()
        move_to_key(app, key)
        await until(pilot, lambda: "job.lua#1" in value_text(app))
        await pilot.pause()
        header = app.query_one("#value-header")

        def rows() -> list[str]:
            return [header.render_line(y).text.strip() for y in range(header.size.height)]

        def key_in_two_lines_then_metadata() -> bool:
            shown = rows()
            return (
                shown[0].startswith("long:kkk")
                and shown[1].endswith("k…")
                and shown[2].startswith("object · ")
                and " ".join(shown[2:]).endswith("by job.lua#1")
            )

        assert key_in_two_lines_then_metadata(), rows()
        await pilot.resize_terminal(width + 40, 30)  # cut again for the new width
        await until(pilot, key_in_two_lines_then_metadata, what=f"header {rows()}")


async def test_enters_typed_ahead_of_the_palette_run_one_command_once() -> None:
    store = Store()
    store.set("a", 1, source="test")
    app = make_app(store)
    ran: list[str] = []
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: tree_lines(app) == ["a"])
        app.main.key_actions.edit = lambda: ran.append("edit")  # type: ignore[method-assign]
        await pilot.press("ctrl+p", *"edit key")

        def listed() -> bool:
            commands = app.screen.query_one(CommandList)
            return commands.option_count > 0 and commands.highlighted is not None

        await until(pilot, listed)
        # The first enter runs the command; the two queued behind it come too late.
        for key in ("enter", "enter", "enter"):
            app.post_message(events.Key(key, None))
        await until(pilot, lambda: ran)
        await pilot.pause(0.2)
        assert app.is_running and app.return_code is None
        assert app.screen is app.main
        assert ran == ["edit"]


async def test_a_charted_field_name_with_controls_is_shown_escaped() -> None:
    store = Store()
    store.set("job", {f"n{EVIL}": 0}, source="cli")
    app = make_app(store)
    async with app.run_test(size=(110, 32)) as pilot:
        move_to_key(app, "job")
        await pilot.pause()
        for n in range(1, 4):
            store.set("job", {f"n{EVIL}": n}, source="cli")
            await pilot.pause(0.06)
        trend = app.query_one("#value-trend")
        await until(pilot, lambda: "last 4 values" in str(trend.render()))
        shown = str(trend.render())
        assert shown.startswith("n" + escape_controls(EVIL, one_line=True) + ": last 4")
        assert RAW_CONTROL.search(shown) is None


async def test_deleting_a_big_folder_leaves_the_screen_answering() -> None:
    store = Store()
    store.load({f"big:{n}": n for n in range(200_000)}, source="test")
    store.set("other", 1, source="test")
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: tree_lines(app) == ["big  200,000", "other"])
        tree = app.query_one(KeyTree)
        tree.focus()
        tree.cursor_line = 0
        ticks = [0]
        app.set_interval(0.01, lambda: ticks.__setitem__(0, ticks[0] + 1))
        during: list[int] = []
        real_delete_many = store.delete_many

        def delete_many(keys: list[str], *, source: str) -> int:
            before = ticks[0]
            deleted = real_delete_many(keys, source=source)
            during.append(ticks[0] - before)
            return deleted

        store.delete_many = delete_many  # type: ignore[method-assign]
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("y")
        await until(pilot, lambda: tree_lines(app) == ["other"], timeout=30)
        # The timer went on firing while the keys were deleted.
        assert during and during[0] > 0
        assert store.keys() == ["other"]
        said = "Deleted 200,000 keys under big:."
        await until(pilot, lambda: any(n.message == said for n in app._notifications))


async def test_script_names_in_the_palette_are_shown_as_they_are(tmp_path: Path) -> None:
    script = tmp_path / "[b]x\x1b[2J.lua"
    script.write_text('print("ran")\n')
    app = make_app(Store(), [script], watch=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: "ok in" in output_text(app))
        await pilot.press("ctrl+p", *"rerun [b]")

        def prompts() -> list[str]:
            commands = app.screen.query_one(CommandList)
            found = (commands.get_option_at_index(i) for i in range(commands.option_count))
            return [str(option.prompt).split("\n")[0] for option in found]

        await until(pilot, lambda: "Rerun [b]x\\x1b[2J.lua" in prompts())
        assert not any("\x1b" in prompt for prompt in prompts())
        await pilot.press("enter")
        await until(pilot, lambda: "run 2 ok" in output_text(app))
