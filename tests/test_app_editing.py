"""Editing the store from the app: the JSON editor, new keys, deletes, the filter, copy."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static, TextArea

from tests.app_helpers import (
    make_app,
    move_to_key,
    open_folder,
    run_command,
    tree_lines,
    until,
    value_text,
)
from tui.app.app import StateApp
from tui.app.model.tree_items import FolderItem, KeyItem
from tui.app.screens.confirm import Confirm
from tui.app.screens.prompt import Prompt
from tui.app.screens.value_editor import ValueEditor
from tui.app.widgets.json_view import JsonView
from tui.app.widgets.key_tree import KeyTree
from tui.state import Store

USER = "cache:api_response:user_123"


def sample_store(**options: int) -> Store:
    store = Store(**options)  # type: ignore[arg-type]
    store.set(USER, {"name": "Ada", "tags": ["x"]}, source="pipeline.lua#1")
    for n in (1, 2, 12):
        store.set(f"user:user_{n}", n, source="cli")
    store.set("progress:import", {"current": 3, "total": 10}, source="cli")
    return store


async def on_key(app: StateApp, pilot: Pilot[None], key: str) -> None:
    """Open the folders down to `key` and put the cursor on it."""
    parts = key.split(":")[:-1]
    for depth in range(1, len(parts) + 1):
        open_folder(app, ":".join(parts[:depth]) + ":")
        await pilot.pause()
    move_to_key(app, key)
    await pilot.pause()


async def on_folder(app: StateApp, pilot: Pilot[None], prefix: str) -> None:
    tree = app.query_one(KeyTree)
    node = tree.node_for(FolderItem(prefix))
    assert node is not None
    tree.move_cursor(node)
    await pilot.pause()


def editor(app: StateApp) -> ValueEditor:
    screen = app.screen
    assert isinstance(screen, ValueEditor), f"the editor is not open: {screen!r}"
    return screen


def dialog_message(app: StateApp) -> str:
    """What the open Confirm asks."""
    assert isinstance(app.screen, Confirm), f"no question is open: {app.screen!r}"
    return str(app.screen.query_one(".message", Static).render())


async def save_after_a_script_wrote(app: StateApp, pilot: Pilot[None]) -> None:
    """Edit user:user_1 to 100 while job.lua#2 sets it to 50, and save: the question opens."""
    await on_key(app, pilot, "user:user_1")
    await pilot.press("e")
    await type_value(app, pilot, "100")
    app.session.store.set("user:user_1", 50, source="job.lua#2")
    await pilot.press("ctrl+s")
    await until(pilot, lambda: isinstance(app.screen, Confirm))


def problem(app: StateApp) -> str:
    return str(app.screen.query_one(".problem", Static).render())


async def type_value(app: StateApp, pilot: Pilot[None], text: str) -> None:
    editor(app).query_one("#value", TextArea).load_text(text)
    await pilot.pause()


# -- the editor ----------------------------------------------------------------------


async def test_e_opens_the_value_as_json_and_ctrl_s_saves_it(tmp_path: Path) -> None:
    store = sample_store()
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await on_key(app, pilot, USER)
        await pilot.press("e")
        area = editor(app).query_one("#value", TextArea)
        assert area.text == '{\n  "name": "Ada",\n  "tags": [\n    "x"\n  ]\n}'
        assert area.language == "json"
        await type_value(app, pilot, '{"name": "Grace"}')
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, ValueEditor), what="closed")
        entry = store.entry(USER)
        assert entry is not None
        assert (orjson.loads(entry.value), entry.source) == ({"name": "Grace"}, "editor")


async def test_enter_on_a_key_edits_it_and_escape_cancels() -> None:
    store = sample_store()
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await on_key(app, pilot, "user:user_2")
        await pilot.press("enter")
        assert editor(app).query_one("#value", TextArea).text == "2"
        await type_value(app, pilot, "3")
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, ValueEditor))
        assert store.get("user:user_2") == 2
        entry = store.entry("user:user_2")
        assert entry is not None and entry.source == "cli"


async def test_invalid_json_says_where_and_saves_nothing() -> None:
    store = sample_store()
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await on_key(app, pilot, "user:user_1")
        await pilot.press("e")
        await type_value(app, pilot, '{\n  "a": 1,\n  "b": tru\n}')
        await pilot.press("ctrl+s")
        assert problem(app) == "Invalid JSON at line 3, column 8: invalid literal, expected 'true'"
        assert editor(app).query_one("#value", TextArea).cursor_location == (2, 7)
        await type_value(app, pilot, "")
        await pilot.press("ctrl+s")
        assert problem(app) == (
            "Invalid JSON at line 1, column 1: Input is a zero-length, empty document"
        )
        assert store.get("user:user_1") == 1


async def test_values_the_store_refuses_show_its_own_message() -> None:
    store = sample_store(max_value_bytes=64)
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await on_key(app, pilot, "user:user_1")
        await pilot.press("e")
        cases = {
            "NaN": "The store refuses this value: value is NaN; numbers must be finite",
            "[1e400]": "The store refuses this value: value at [0] is infinite; "
            "numbers must be finite",
            '"' + "x" * 100 + '"': "The store refuses this value: value is 102 B as JSON, "
            "over the limit of 64 B",
            "[" * 101 + "]" * 101: "The store refuses this value: value at "
            + "[0]" * 100
            + " is nested deeper than 100 levels",
            "null": "A key cannot hold null: to delete the key, use d in the key tree.",
        }
        for text, message in cases.items():
            await type_value(app, pilot, text)
            await pilot.press("ctrl+s")
            assert problem(app) == message, text
        assert isinstance(app.screen, ValueEditor)
        assert store.get("user:user_1") == 1


async def test_a_change_made_meanwhile_is_never_overwritten_silently() -> None:
    store = sample_store()
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await save_after_a_script_wrote(app, pilot)
        message = dialog_message(app)
        assert "user:user_1 was changed by job.lua#2 after you opened it" in message
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, ValueEditor))
        assert problem(app) == "Not saved: the key changed meanwhile (ctrl+s asks again)."
        assert store.get("user:user_1") == 50
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("y")
        await until(pilot, lambda: not isinstance(app.screen, ValueEditor | Confirm))
        assert store.get("user:user_1") == 100


async def test_a_key_deleted_meanwhile_is_saved_again_only_when_asked() -> None:
    store = sample_store()
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await on_key(app, pilot, "user:user_1")
        await pilot.press("e")
        store.delete("user:user_1", source="job.lua#2")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        assert "was deleted after you opened it" in str(
            app.screen.query_one(".message", Static).render()
        )
        await pilot.press("y")
        await until(pilot, lambda: store.get("user:user_1") == 1)


# -- new keys --------------------------------------------------------------------------


async def test_n_makes_a_key_in_the_selected_folder_with_the_apis_key_rules() -> None:
    store = sample_store()
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await on_key(app, pilot, "user:user_2")
        await pilot.press("n")
        key = editor(app).query_one("#key", Input)
        assert key.value == "user:"
        assert key.has_focus
        key.value = ""
        await type_value(app, pilot, "1")
        await pilot.press("ctrl+s")
        assert problem(app) == "key must not be empty"
        key.value = "user:\x01"
        await pilot.press("ctrl+s")
        assert problem(app) == "key contains a control character (\\x01)"
        key.value = "user:" + "x" * 600
        await pilot.press("ctrl+s")
        assert problem(app) == "key is longer than 512 bytes"
        key.value = "user:user_3"
        await type_value(app, pilot, '{"new": true}')
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, ValueEditor))
        entry = store.entry("user:user_3")
        assert entry is not None
        assert (orjson.loads(entry.value), entry.source) == ({"new": True}, "editor")
        await until(pilot, lambda: "  user_3" in tree_lines(app), what=f"{tree_lines(app)}")


async def test_a_new_key_that_exists_asks_before_overwriting() -> None:
    store = sample_store()
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await on_folder(app, pilot, "user:")
        await pilot.press("n")
        editor(app).query_one("#key", Input).value = "user:user_1"
        await type_value(app, pilot, "7")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        assert "user:user_1 already exists (set by cli)" in str(
            app.screen.query_one(".message", Static).render()
        )
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, ValueEditor))
        assert problem(app) == "Not saved: the key exists (ctrl+s asks again)."
        assert store.get("user:user_1") == 1


# -- delete ---------------------------------------------------------------------------


async def test_d_deletes_a_key_once_confirmed() -> None:
    store = sample_store()
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await on_key(app, pilot, "user:user_1")
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("n")
        await until(pilot, lambda: not isinstance(app.screen, Confirm))
        assert store.exists("user:user_1")
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("y")
        await until(pilot, lambda: not store.exists("user:user_1"))
        await until(pilot, lambda: "user  2" in tree_lines(app))


async def test_d_on_a_folder_says_how_many_keys_go_then_deletes_them_all() -> None:
    store = sample_store()
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await on_folder(app, pilot, "user:")
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        message = dialog_message(app)
        assert message == "Delete the 3 keys under user:?"
        await pilot.press("y")
        await until(pilot, lambda: store.keys("user:") == [])
        assert len(store) == 2
        entry_sources = {change for change in ()}  # nothing left to look at: all gone
        assert not entry_sources
        await until(pilot, lambda: tree_lines(app) == ["cache  1", "progress  1"])


# -- the filter ----------------------------------------------------------------------------


async def test_the_filter_shows_matching_keys_with_counts_over_the_matches() -> None:
    store = sample_store()
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("slash")
        field = app.query_one("#filter", Input)
        assert field.has_focus
        await pilot.press(*"user_1")
        # A few matches: their folders open, and the first match has the cursor.
        revealed = [
            "cache  1",
            "  api_response  1",
            "    user_123",
            "user  2",
            "  user_1",
            "  user_12",
        ]
        await until(pilot, lambda: tree_lines(app) == revealed)
        assert app.query_one(KeyTree).border_title == "Keys · 3 of 5 · /user_1"
        assert app.query_one(KeyTree).cursor_item == KeyItem(USER)
        # Live: a matching key appears, another does not.
        store.set("user:user_100", 1, source="test")
        store.set("other", 1, source="test")
        await until(
            pilot,
            lambda: tree_lines(app) == [*revealed[:3], "user  3", *revealed[4:], "  user_100"],
        )
        field.value = "cache:*:user_1*"
        await until(pilot, lambda: tree_lines(app) == revealed[:3])
        await pilot.press("enter")
        assert app.query_one(KeyTree).has_focus
        await pilot.press("escape")
        await until(pilot, lambda: len(tree_lines(app)) == 4)
        assert app.query_one(KeyTree).border_title == "Keys · 7"
        assert not field.display


async def test_deleting_a_folder_under_a_filter_deletes_only_what_it_shows() -> None:
    store = sample_store()
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("slash", *"user_1")
        await until(pilot, lambda: "  user_12" in tree_lines(app))
        await pilot.press("enter")
        await on_folder(app, pilot, "user:")
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        message = dialog_message(app)
        assert message == "Delete the 2 keys under user: that match 'user_1'?"
        await pilot.press("y")
        await until(pilot, lambda: store.keys("user:") == ["user:user_2"])


# -- copy -------------------------------------------------------------------------------


async def test_y_copies_a_value_or_a_folder_as_json() -> None:
    store = sample_store()
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await on_key(app, pilot, USER)
        await pilot.press("y")
        await until(pilot, lambda: app.clipboard)  # copied from a thread
        assert orjson.loads(app.clipboard) == {"name": "Ada", "tags": ["x"]}
        await on_folder(app, pilot, "user:")
        await pilot.press("y")
        await until(pilot, lambda: "user:user_1" in app.clipboard)
        assert orjson.loads(app.clipboard) == {
            "user:user_1": 1,
            "user:user_12": 12,
            "user:user_2": 2,
        }


# -- the command palette ---------------------------------------------------------------


async def test_clear_keys_under_folder_asks_for_the_prefix_then_for_sure() -> None:
    store = sample_store()
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await run_command(pilot, "clear keys")
        await until(pilot, lambda: isinstance(app.screen, Prompt))
        field = app.screen.query_one(Input)
        field.value = "nothing:"
        await pilot.press("enter")
        assert problem(app) == "No key starts with 'nothing:'."
        field.value = "user:user_1"
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        message = dialog_message(app)
        assert message == "Delete the 2 keys under user:user_1?"
        await pilot.press("y")
        await until(pilot, lambda: store.keys("user:") == ["user:user_2"])


async def test_export_writes_the_dump_format(tmp_path: Path) -> None:
    store = sample_store()
    target = tmp_path / "out.json"
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await run_command(pilot, "export store")
        await until(pilot, lambda: isinstance(app.screen, Prompt))
        field = app.screen.query_one(Input)
        field.value = str(tmp_path / "missing" / "out.json")
        await pilot.press("enter")
        assert problem(app) == f"There is no folder {tmp_path / 'missing'}."
        field.value = str(tmp_path)
        await pilot.press("enter")
        assert problem(app) == f"{tmp_path} is a folder: name a file."
        field.value = str(target)
        await pilot.press("enter")
        await until(pilot, target.exists)
        assert target.read_bytes() == store.dump_json() + b"\n"
        # Again: the file exists, so it asks first.
        store.set("more", 1, source="test")
        await run_command(pilot, "export store")
        await until(pilot, lambda: isinstance(app.screen, Prompt))
        app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("y")
        await until(pilot, lambda: b'"more"' in target.read_bytes())


async def test_a_value_too_big_for_the_editor_says_so_and_opens_nothing() -> None:
    store = Store()
    # Under the editor's 256 KiB as stored, over it once indented.
    store.set("big", ["x" * 100] * 2500, source="test")
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        move_to_key(app, "big")
        await pilot.press("e")
        await pilot.pause()
        assert not isinstance(app.screen, ValueEditor)
        (shown,) = [n.message for n in app._notifications]
        assert shown == (
            "It is 258.8 KiB as indented JSON: the editor takes up to 256 KiB. "
            "Change it from the console, or copy it with y."
        )


async def test_a_key_the_filter_hides_is_not_shown_as_deleted() -> None:
    store = sample_store()
    store.set("job", 1, source="test")
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        move_to_key(app, "job")
        await pilot.press("slash", *"user")
        await until(
            pilot, lambda: tree_lines(app)[:1] == ["cache  1"] and "user  3" in tree_lines(app)
        )
        assert "deleted" not in value_text(app)
        assert store.get("job") == 1


async def test_overwriting_a_key_a_script_keeps_writing_succeeds_once_asked() -> None:
    store = sample_store()
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await save_after_a_script_wrote(app, pilot)
        store.set("user:user_1", 51, source="job.lua#2")  # again, while the question is open
        await pilot.press("y")
        await until(pilot, lambda: store.get("user:user_1") == 100)
        entry = store.entry("user:user_1")
        assert entry is not None and entry.source == "editor"


async def test_a_folder_delete_deletes_what_it_counted_not_what_came_since() -> None:
    store = sample_store()
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await on_folder(app, pilot, "user:")
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        store.set("user:late", 1, source="job.lua#2")
        await pilot.press("y")
        await until(pilot, lambda: store.keys("user:") == ["user:late"])


async def test_keys_with_brackets_are_shown_as_they_are() -> None:
    store = Store()
    for key in ("files:[/etc/hosts]", "user[admin]", "user", "x[/]"):
        store.set(key, 1, source="test")
    app = make_app(store)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        for key in ("files:[/etc/hosts]", "user[admin]"):
            await on_key(app, pilot, key)
            await pilot.press("d")
            await until(pilot, lambda: isinstance(app.screen, Confirm))
            message = dialog_message(app)
            assert message == f"Delete {key}?"
            await pilot.press("y")
            await until(pilot, lambda key=key: not store.exists(key))  # type: ignore[misc]
        await on_key(app, pilot, "x[/]")
        await pilot.press("y", "e")
        await until(pilot, lambda: isinstance(app.screen, ValueEditor))
        await pilot.press("escape")
        await pilot.press("slash", *"*[/:]*")
        await until(
            pilot, lambda: app.main.feed.key_filter is not None and len(app.main.feed.index) == 1
        )
        assert app.main.feed.key_filter is not None and app.main.feed.key_filter.text == "*[/:]*"
        assert app.is_running


async def test_new_key_with_a_long_delimiter_starts_in_the_right_folder() -> None:
    store = Store()
    store.set("a:::b", 1, source="test")
    app = make_app(store, delimiter="::")
    async with app.run_test(size=(100, 30)) as pilot:
        open_folder(app, "a::")
        await pilot.pause()
        move_to_key(app, "a:::b")
        await pilot.press("n")
        assert editor(app).query_one("#key", Input).value == "a::"


async def test_export_names_that_cannot_be_written_are_said_in_the_prompt() -> None:
    app = make_app(sample_store())
    async with app.run_test(size=(100, 30)) as pilot:
        await run_command(pilot, "export store")
        await until(pilot, lambda: isinstance(app.screen, Prompt))
        field = app.screen.query_one(Input)
        for name in ("~no_such_user_here/dump.json", "x" * 300 + ".json"):
            field.value = name
            await pilot.press("enter")
            assert problem(app).startswith("Cannot write there: "), name
        assert isinstance(app.screen, Prompt)


async def test_typing_a_new_keys_name_keeps_the_folder_prefilled() -> None:
    store = sample_store()
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await on_folder(app, pilot, "user:")
        await pilot.press("n", *"user_9")
        assert editor(app).query_one("#key", Input).value == "user:user_9"


async def test_integers_past_64_bits_are_refused_not_rounded() -> None:
    store = sample_store()
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await on_key(app, pilot, "user:user_1")
        await pilot.press("e")
        await type_value(app, pilot, "18446744073709551616")
        await pilot.press("ctrl+s")
        assert problem(app) == (
            "The store refuses this value: value does not fit in a 64-bit integer"
        )
        assert store.get("user:user_1") == 1


async def test_a_very_long_key_leaves_the_buttons_in_view_in_a_tiny_terminal() -> None:
    key = "k:" + "x" * 500
    store = Store()
    store.set(key, 1, source="test")
    app = make_app(store)
    async with app.run_test(size=(60, 15)) as pilot:
        await on_key(app, pilot, key)
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.pause()
        for button in app.screen.query("Button"):
            region = button.region
            assert region.height > 0 and region.bottom <= 15, button


async def test_export_offers_stateui_dump_json_in_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = sample_store()
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await run_command(pilot, "export store")
        await until(pilot, lambda: isinstance(app.screen, Prompt))
        assert app.screen.query_one(Input).value == str(tmp_path / "stateui-dump.json")
        assert not (tmp_path / "stateui-dump.json").exists(), "nothing is written before enter"
        await pilot.press("enter")
        await until(pilot, (tmp_path / "stateui-dump.json").exists)


async def test_copy_and_the_editor_give_keys_in_the_order_the_pane_shows() -> None:
    store = Store()
    store.set("job", {"zeta": 1, "alpha": {"y": 2, "b": 3}}, source="cli")
    store.set("jobs:b", {"z": 1, "a": 2}, source="cli")
    store.set("jobs:a", 1, source="cli")
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        move_to_key(app, "job")
        await pilot.pause()
        shown = app.query_one(JsonView).text()
        await pilot.press("y")
        await until(pilot, lambda: app.clipboard)  # copied from a thread
        assert app.clipboard == shown
        assert shown.index('"alpha"') < shown.index('"zeta"')
        assert shown.index('"b"') < shown.index('"y"')
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, ValueEditor))
        assert editor(app).query_one(TextArea).text == shown
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, ValueEditor))
        await on_folder(app, pilot, "jobs:")
        await pilot.press("y")
        await until(pilot, lambda: app.clipboard != shown)
        assert app.clipboard == '{\n  "jobs:a": 1,\n  "jobs:b": {\n    "a": 2,\n    "z": 1\n  }\n}'


async def test_escape_in_the_editor_asks_before_throwing_changes_away() -> None:
    store = sample_store()
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await on_key(app, pilot, "user:user_1")
        # Without changes, escape closes at once.
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, ValueEditor))
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, ValueEditor | Confirm))
        # With changes, it asks; "Keep editing" keeps them.
        await pilot.press("e")
        await type_value(app, pilot, "100")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        assert dialog_message(app) == "Discard your changes?"
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, ValueEditor))
        assert editor(app).query_one(TextArea).text == "100"
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("y")
        await until(pilot, lambda: not isinstance(app.screen, ValueEditor | Confirm))
        assert store.get("user:user_1") == 1


async def test_escape_in_a_new_key_with_only_its_name_typed_asks_too() -> None:
    app = make_app(sample_store())
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, ValueEditor))
        await pilot.press(*"fresh")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        assert dialog_message(app) == "Discard your changes?"


async def test_a_filter_closing_a_folder_of_thousands_of_lines_leaves_the_tree_whole() -> None:
    store = Store()
    store.load({f"big:item_{n}": n for n in range(3_500)}, source="test")
    store.load({"small:alpha": 1, "small:beta": 2}, source="test")
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        tree = app.query_one(KeyTree)
        await until(pilot, lambda: tree.node_for(FolderItem("big:")) is not None)
        node = tree.node_for(FolderItem("big:"))
        assert node is not None
        node.expand()
        await until(pilot, lambda: len(node.children) > 1_000)
        for _ in range(2):  # 3,000 lines shown
            tree.show_more(node.children[-1])
            await pilot.pause()
        assert len(node.children) == 3_001
        await pilot.press("slash", *"alpha")
        await until(pilot, lambda: tree_lines(app) == ["small  1", "  alpha"])
        reachable, stack = 0, [tree.root]
        while stack:
            current = stack.pop()
            reachable += 1
            stack.extend(current.children)
        assert len(tree._tree_nodes) == reachable  # no line of the closed folder is left
        await pilot.press("escape")
        await until(pilot, lambda: tree_lines(app)[:2] == ["big  3,500", "  item_0"])
