"""SVG snapshots of the main screen on a fixed store, reviewed by eye when they change.

Update with `pytest tests/test_snapshots.py --snapshot-update`, then look at every
changed SVG before committing it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot

from tests.app_helpers import move_to_key, open_folder, output_text, until
from tests.test_app import fixed_store
from tui.app import app as app_module
from tui.app import script_list
from tui.app.app import StateApp


@pytest.fixture(autouse=True)
def steady_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Times in UTC and run durations fixed, so that the screen is the same on every run."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    monkeypatch.setattr(app_module, "format_duration", lambda seconds: "12 ms")
    monkeypatch.setattr(script_list, "format_duration", lambda seconds: "12 ms")
    yield
    monkeypatch.undo()
    time.tzset()


SCRIPT = """\
print("importing 3 records")
for i = 1, 3 do
  State.set("progress:import_job", { current = i, total = 3 })
  print(string.format("[%d/3] imported", i))
end
local function check(n)
  if n > 2 then error("record " .. n .. " has no id") end
end
check(3)
"""


async def browse(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, StateApp)
    await until(pilot, lambda: "failed after" in output_text(app))
    open_folder(app, "workflow:")
    await pilot.pause()
    open_folder(app, "workflow:data_pipeline:")
    open_folder(app, "cache:")
    await pilot.pause()
    open_folder(app, "cache:api_response:")
    await pilot.pause()
    move_to_key(app, "cache:api_response:user_123")
    await pilot.pause()


def test_main_screen(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    script = tmp_path / "import.lua"
    script.write_text(SCRIPT)
    app = StateApp(fixed_store(), [script], watch=False)
    assert snap_compare(app, terminal_size=(110, 32), run_before=browse)


def test_main_screen_in_a_small_terminal(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    script = tmp_path / "import.lua"
    script.write_text(SCRIPT)
    app = StateApp(fixed_store(), [script], watch=False)
    assert snap_compare(app, terminal_size=(60, 15), run_before=browse)


def test_empty_store_without_scripts(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(StateApp(fixed_store().__class__()), terminal_size=(80, 20))
