"""The file watcher in the app: it survives what the file system does, and says so."""

from __future__ import annotations

import os
from pathlib import Path

from textual.pilot import Pilot

from tests.app_helpers import make_app, output_text, write_script
from tests.app_helpers import until as wait_until
from tui.app.app import StateApp
from tui.state import Store


async def save_until_rerun(pilot: Pilot[None], app: StateApp, script: Path, word: str) -> None:
    """Save the script until a run prints `word N`: the watcher has no ready signal."""
    for attempt in range(60):
        write_script(script, f'print("{word} {attempt}")\n')
        try:
            await wait_until(pilot, lambda n=attempt: f"{word} {n}" in output_text(app), 0.3)
        except AssertionError:
            continue
        return
    raise AssertionError(f"saving {script.name} never reran it")


def titles(app: StateApp) -> list[str]:
    return [notification.title for notification in app._notifications]


async def test_a_file_named_in_bytes_that_are_not_utf8_pauses_watching_once(
    tmp_path: Path,
) -> None:
    script = write_script(tmp_path / "job.lua", 'print("first")\n')
    app = make_app(Store(), [script])
    async with app.run_test(size=(100, 30)) as pilot:
        await save_until_rerun(pilot, app, script, "ready")
        # The name on disk is the bytes b"caf\xe9.lua" (Latin-1), not UTF-8.
        (tmp_path / os.fsdecode(b"caf\xe9.lua")).write_bytes(b"-- not UTF-8\n")
        write_script(script, 'print("second")\n')
        await wait_until(pilot, lambda: "job.lua │ second" in output_text(app), what="rerun")
        await wait_until(pilot, lambda: "File watching resumed" in titles(app), what="resumed")
        await save_until_rerun(pilot, app, script, "later")
        assert titles(app) == ["File watching stopped", "File watching resumed"]
        (stopped, _) = [notification.message for notification in app._notifications]
        assert "caf" in stopped and "Trying again" in stopped
