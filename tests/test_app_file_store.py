"""The inspector on a file store: owning it, and following one another process owns."""

from __future__ import annotations

import os
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from tests.app_helpers import make_app, output_text, run_command, until
from tui.app.app import StateApp
from tui.app.screens.value_editor import ValueEditor
from tui.app.widgets.console_pane import ConsolePane
from tui.app.widgets.key_tree import KeyTree
from tui.state.file import StoreFile, open_following, open_owned


def titles(pilot: Pilot[None]) -> list[str]:
    return [n.title for n in pilot.app._notifications]


def shown(app: StateApp, key: str) -> bool:
    """Whether the app's key tree knows `key`."""
    return key in app.main.feed.index


async def test_following_a_store_another_process_owns(tmp_path: Path) -> None:
    path = tmp_path / "jobs.db"
    owner = open_owned(path, command="stateui run jobs.lua")
    owner.set("job:1", {"state": "running"}, source="jobs.lua#1")
    owner.flush()
    store, follower = open_following(path)
    app = make_app(store, follower=follower)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            keys = app.screen.query_one(KeyTree)
            assert str(keys.border_subtitle) == f"{path} · read-only"
            assert app.sub_title == (
                f"the store is read-only here: {path} is owned by process {os.getpid()} "
                "(stateui run jobs.lua)"
            )
            await until(pilot, lambda: shown(app, "job:1"))
            # The owner's writes show up live.
            owner.set("progress:job", {"current": 1, "total": 4}, source="jobs.lua#1")
            owner.set("job:2", 2, source="jobs.lua#1")
            await until(pilot, lambda: shown(app, "job:2"), timeout=2)
            # Editing, new keys and deleting say why they cannot be.
            for key in ("e", "n", "d"):
                await pilot.press(key)
                await until(pilot, lambda: "Read-only" in titles(pilot))
                assert not isinstance(app.screen, ValueEditor)
                app.clear_notifications()
            # The console reads, and its writes fail with the reason.
            await pilot.press(":", *'State.set("x", 1)', "enter")
            pane = app.screen.query_one(ConsolePane)
            await until(pilot, lambda: not pane.running)
            output = output_text(app)
            assert "the store is read-only here" in output, output
            assert store.get("x") is None and owner.get("x") is None
            # The owner ends: the app says so.
            owner.close()
            await until(pilot, lambda: "Store owner ended" in titles(pilot), timeout=3)
            assert str(keys.border_subtitle).endswith("read-only · no owner")
            # It can take the store over, and write it.
            await run_command(pilot, "Take ownership")
            await until(pilot, lambda: "Store owned" in titles(pilot))
            assert str(keys.border_subtitle) == str(path)
            store.set("mine", 1, source="editor")
            store.flush()
            reader = StoreFile(path)
            try:
                assert reader.entry("mine") is not None
                assert reader.entry("job:2") is not None
            finally:
                reader.close()
    finally:
        owner.close()


async def test_an_owned_store_keeps_the_apps_writes(tmp_path: Path) -> None:
    path = tmp_path / "mine.db"
    store = open_owned(path, command="stateui watch")
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        keys = app.screen.query_one(KeyTree)
        assert str(keys.border_subtitle) == str(path)
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, ValueEditor))
        editor = app.screen
        assert isinstance(editor, ValueEditor)
        editor.query_one("#key", Input).value = "made:here"
        editor.query_one("#value", TextArea).text = '{"ok": true}'
        await pilot.press("ctrl+s")
        await until(pilot, lambda: shown(app, "made:here"))
        await pilot.press("q")
    # Quitting closed the store: the write is in the file.
    reader = StoreFile(path)
    try:
        entry = reader.entry("made:here")
        assert entry is not None and (entry.value, entry.source) == (b'{"ok":true}', "editor")
    finally:
        reader.close()
