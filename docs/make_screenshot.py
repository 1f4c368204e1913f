"""Draw docs/screenshot.svg: the inspector after one run of lua_examples/pipeline.lua.

Run from the repository's root after a change to how the app looks:

    .venv/bin/python docs/make_screenshot.py
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from tui.app.app import StateApp
from tui.state import Store

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "lua_examples" / "pipeline.lua"
OUT = ROOT / "docs" / "screenshot.svg"


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


async def main() -> None:
    store = sample_store()
    app = StateApp(store, [SCRIPT], watch=False)
    async with app.run_test(size=(120, 36)) as pilot:
        while store.get("workflow:data_pipeline:status") != "done":
            await pilot.pause(0.05)
        await pilot.pause(0.3)
        # The key tree has the focus and no cursor yet: open cache, then workflow ▸
        # data_pipeline, and select its summary. A folder fills in when it opens, so
        # each key gets a pause.
        for key in ["down", "enter", *["down"] * 5, "enter", "down", "enter", *["down"] * 4]:
            await pilot.press(key)
            await pilot.pause(0.1)
        await pilot.pause(0.3)
        app.save_screenshot(filename=OUT.name, path=str(OUT.parent))
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    asyncio.run(main())
