"""The app holds the README's promises under abuse: it never dies, freezes or garbles."""

from __future__ import annotations

import pytest
from textual import events
from textual.command import CommandList, CommandPalette

from tests.app_helpers import make_app, until
from tui.state import Store


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
