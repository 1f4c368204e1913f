"""A run that cannot be stopped, as the inspector shows it: stuck, then rerun once."""

from __future__ import annotations

from pathlib import Path

from tests.app_helpers import make_app, output_text, script_line, until, write_script
from tests.conftest import STUCK_IN_C
from tui.state import Store


async def test_a_stuck_run_shows_as_stuck_and_its_rerun_waits_for_it(tmp_path: Path) -> None:
    script = write_script(tmp_path / "stuck.lua", f'print("in")\n{STUCK_IN_C}\n')
    app = make_app(Store(), [script], watch=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: "stuck.lua │ in" in output_text(app))
        write_script(script, 'print("quick")\n')
        app.session.supervisor.rerun("stuck.lua")
        await until(pilot, lambda: "⧖ stuck.lua  stuck" in script_line(app), 5, "stuck")
        assert "run 1 is stuck in one long call into Lua's C library" in output_text(app)
        assert "run 2 started" not in output_text(app)
        await until(pilot, lambda: "stuck.lua │ quick" in output_text(app), 20, "the rerun")
        assert "run 1 cancelled (restarted)" in output_text(app)
        await until(pilot, lambda: "✓ stuck.lua  ok  2 runs" in script_line(app))
