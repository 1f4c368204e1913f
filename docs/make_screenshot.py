"""Draw docs/screenshot.svg: the inspector after one run of lua_examples/pipeline.lua.

Run from the repository's root after a change to how the app looks:

    .venv/bin/python docs/make_screenshot.py
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot

from tui.app.app import StateApp
from tui.app.main_screen import ViewOptions
from tui.app.model.tree_items import FolderItem, Item, KeyItem
from tui.app.session import Session
from tui.state import Store

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "lua_examples" / "pipeline.lua"
OUT = ROOT / "docs" / "screenshot.svg"
SUMMARY = "workflow:data_pipeline:summary"


def sample_store() -> Store:
    """A store as a few jobs leave it: workflow, cache, progress and config keys."""
    store = Store()
    store.set(
        "user_config", {"name": "John", "retries": 3, "settings": {"timeout": 30}}, source="cli"
    )
    store.set("workflow:nightly_report:status", "done", source="report.lua#4")
    store.set("workflow:nightly_report:step", 5, source="report.lua#4")
    store.set("cache:user_123", {"id": 123, "name": "Ada", "plan": "pro"}, source="cache.lua#2")
    store.set("cache:user_456", {"id": 456, "name": "Grace", "plan": "free"}, source="cache.lua#2")
    store.set("progress:import_orders", {"current": 200, "total": 200}, source="orders.lua#1")
    store.set("progress:import_invoices", {"current": 49, "total": 100}, source="invoices.lua#1")
    store.set("api_attempts", 2, source="retry.lua#1")
    return store


async def until(pilot: Pilot[None], condition: Callable[[], object], what: str) -> None:
    """Let the app run until `condition()` holds; give up after 10 seconds."""
    deadline = time.monotonic() + 10
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"make_screenshot: timed out waiting for {what}")
        await pilot.pause(0.02)


async def main() -> None:
    store = sample_store()
    app = StateApp(Session.open(store, [SCRIPT]), ViewOptions(watch=False))
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.main
        tree = screen.key_tree

        def cursor_on(item: Item) -> Callable[[], bool]:
            return lambda: tree.cursor_item == item

        def is_open(prefix: str) -> Callable[[], bool]:
            def check() -> bool:
                node = tree.node_for(FolderItem(prefix))
                return node is not None and node.is_expanded

            return check

        async def move_to(item: Item) -> None:
            """Press down until the cursor is on `item` (a line already in view)."""
            for _ in range(20):
                if tree.cursor_item == item:
                    return
                await pilot.press("down")
            raise SystemExit(f"make_screenshot: no line {item} in the key tree")

        # The run has ended, and the screen has caught up with the store and the output.
        await until(pilot, lambda: "run 1 ok" in screen.output_log.text(), "the run to end")
        await until(pilot, lambda: len(screen.feed.index) == len(store), "the key tree")
        # The key tree has the focus: open cache, then workflow ▸ data_pipeline, and
        # select its summary. Right opens a folder; in an open one, it goes to its first line.
        await move_to(FolderItem("cache:"))
        await pilot.press("right")
        await until(pilot, is_open("cache:"), "cache to open")
        await move_to(FolderItem("workflow:"))
        await pilot.press("right")
        await until(pilot, is_open("workflow:"), "workflow to open")
        await pilot.press("right")
        await until(pilot, cursor_on(FolderItem("workflow:data_pipeline:")), "data_pipeline")
        await pilot.press("right")
        await until(pilot, is_open("workflow:data_pipeline:"), "data_pipeline to open")
        await move_to(KeyItem(SUMMARY))
        await until(pilot, lambda: screen.value_view.key == SUMMARY, "the summary's value")
        await pilot.pause()  # one more frame, so that the screen shows all of it
        app.save_screenshot(filename=OUT.name, path=str(OUT.parent))
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    asyncio.run(main())
