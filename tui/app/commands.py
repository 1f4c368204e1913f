"""The command palette's stateui commands: every action of the main screen, and more."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import ClassVar, NamedTuple

from textual import on
from textual.await_complete import AwaitComplete
from textual.binding import Binding, BindingType
from textual.command import CommandList, CommandPalette, DiscoveryHit, Hit, Hits, Provider
from textual.markup import escape as escape_markup
from textual.widgets import Button, Input, OptionList

from tui.app.format import escape_controls


class Command(NamedTuple):
    """One line of the palette."""

    name: str
    help: str
    run: Callable[[], object]


def plain(text: str) -> str:
    """Text from a file name for the palette: its controls escaped, its brackets literal."""
    return escape_markup(escape_controls(text, one_line=True))


class StateCommands(Provider):
    """The main screen's commands: keys, the filter, the console, progress and scripts."""

    def commands(self) -> Iterator[Command]:
        """The commands that make sense now (scripts' only with scripts, and so on)."""
        from tui.app.main_screen import MainScreen  # the screen imports this module

        screen = self.screen
        if not isinstance(screen, MainScreen):
            return
        keys = screen.key_actions
        yield Command("Edit key", "Edit the selected key's value as JSON", keys.edit)
        yield Command("New key", "Make a key with a JSON value", keys.new_key)
        yield Command(
            "Delete key or folder", "Delete the selected key, or a folder's keys", keys.delete
        )
        yield Command("Filter keys", "Show only keys matching a glob or text", screen.action_filter)
        yield Command("Copy value", "Copy the selected value to the clipboard as JSON", keys.copy)
        yield Command(
            "Clear keys under folder…", "Delete every key that starts with a prefix", keys.ask_clear
        )
        yield Command(
            "Export store to JSON file…",
            "Write every key to a file, as `stateui run --dump` does",
            keys.ask_export,
        )
        yield Command(
            "Focus console", "Type Lua that runs against the store", screen.action_console
        )
        yield Command(
            "Show or hide the progress panel", "Bars for the progress keys", screen.action_progress
        )
        yield Command(
            "Progress panel full screen",
            "Fill the screen with the progress bars, or go back",
            screen.action_progress_full,
        )
        yield Command(
            "Pin or unpin key to the progress panel",
            "Show a key with numeric current and total as a bar",
            screen.action_pin,
        )
        yield Command(
            "Key history",
            "The selected key's versions, each with its diff; restore one",
            screen.action_history,
        )
        yield Command(
            "Change log", "Every change in the store, live; filter it", screen.action_change_log
        )
        travel = screen.time_travel
        if travel.active:
            yield Command(
                "Rewind the store to this point",
                "Write back every key as it was at the change the view stands at",
                travel.rewind,
            )
            yield Command(
                "Back to live", "Leave the past: show the store as it is now", travel.leave
            )
        else:
            yield Command(
                "Step back in time",
                "Show the store as it was before its last change ([ and ] step)",
                travel.back,
            )
        session = screen.session
        if screen.store_status.can_take_ownership():
            yield Command(
                "Take ownership of the store",
                "Its owner has ended: write it from this app",
                screen.store_status.take_ownership,
            )
        if session.console.busy:
            yield Command(
                "Cancel console line",
                "Stop the line the console is running",
                screen.console_pane.interrupt,
            )
        supervisor = session.supervisor
        if not supervisor.scripts:
            return
        yield Command(
            "Rerun all scripts", "Run every script again", partial(supervisor.rerun, None)
        )
        yield Command(
            "Stop all scripts", "Cancel every running script", partial(supervisor.stop, None)
        )
        for script in supervisor.scripts:
            label = script.label
            # The palette reads its lines as markup: a file name is shown as it is.
            name, path = (plain(text) for text in (label, str(script.path)))
            yield Command(f"Rerun {name}", f"Run {path} again", partial(supervisor.rerun, label))
            yield Command(
                f"Stop {name}", f"Cancel the run of {path}", partial(supervisor.stop, label)
            )

    async def discover(self) -> Hits:
        for command in self.commands():
            yield DiscoveryHit(command.name, command.run, help=command.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self.commands():
            score = matcher.match(command.name)
            if score > 0:
                yield Hit(score, matcher.highlight(command.name), command.run, help=command.help)


class StatePalette(CommandPalette):
    """Textual's command palette, safe from keys typed ahead of it (Textual 8.2.8).

    - Its option list pages from the lines it has laid out: PageUp or PageDown pressed
      before the list has a size (ctrl+p then PageUp in one burst) raised `KeyError` and
      the app died. A page move waits for a list on screen.
    - A second enter queued behind the one that ran a command dismissed the palette
      again, once it was gone: `ScreenStackError`, or another screen closed, and the
      command ran twice. Once dismissed, the palette takes no more selections.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("pagedown", "page(1)", "Next page", show=False),
        Binding("pageup", "page(-1)", "Previous page", show=False),
    ]

    def action_page(self, direction: int) -> None:
        """Move the highlight a page down (1) or up (-1), once the list is laid out."""
        commands = self.query_one(CommandList)
        if not commands.option_count or not commands.scrollable_content_region:
            return
        move = commands.action_page_down if direction > 0 else commands.action_page_up
        move()  # type: ignore[no-untyped-call]  # Textual leaves these two untyped

    _dismissed = False

    def dismiss(self, result: None = None) -> AwaitComplete:
        self._dismissed = True
        return super().dismiss(result)

    @on(Input.Submitted)
    @on(Button.Pressed)
    @on(OptionList.OptionSelected)
    def _ignore_once_dismissed(
        self, event: Input.Submitted | Button.Pressed | OptionList.OptionSelected
    ) -> None:
        # Runs before CommandPalette's own handlers, which prevent_default() skips.
        if self._dismissed:
            event.prevent_default()
            event.stop()
