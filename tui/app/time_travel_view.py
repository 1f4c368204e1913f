"""Time travel in the inspector: `[` `]` `{` `}` step the whole view through the store's
history, `escape` comes back to live; a banner says where the view stands, and a
rewind writes the past back."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

from tui.app.format import count_of, format_duration
from tui.app.screens.confirm import Confirm
from tui.state import Change

if TYPE_CHECKING:
    from tui.app.main_screen import MainScreen

REWIND_SOURCE = "rewind"
"""The source of the writes a rewind makes."""


class TimeTravelView:
    """The main screen's time travel: the steps, the banner and the rewind."""

    def __init__(self, screen: MainScreen, banner: Static) -> None:
        self.screen = screen
        self.banner = banner

    @property
    def active(self) -> bool:
        """Whether the view stands in the past."""
        return self.screen.feed.travel is not None

    # -- stepping ---------------------------------------------------------------------

    def back(self, seconds: float = 0) -> None:
        """Step back one change, or `seconds` of store time."""
        travel = self.screen.feed.travel
        if travel is None:
            if not self._can_start():
                return
            travel = self.screen.feed.travel_to_past()
            self.screen.key_tree.differs = travel.differs
            self.screen.add_class("travelling")
        stepped = travel.back_by(seconds) if seconds else _one(travel.back())
        if not stepped and travel.at_start:
            self.screen.say(
                "This is as far back as the kept history goes "
                f"(--history keeps {travel.store.history:,} versions of each key).",
                title="The start of the history",
            )
        self._show(stepped)

    def forward(self, seconds: float = 0) -> None:
        """Step forward one change, or `seconds` of store time; live again at the end."""
        travel = self.screen.feed.travel
        if travel is None:
            self.screen.say("The view is live: [ steps back through the changes.")
            return
        stepped = travel.forward_by(seconds) if seconds else _one(travel.forward())
        if travel.revision >= travel.live_revision:
            self.leave()
            return
        self._show(stepped)

    def leave(self) -> None:
        """Back to live: the view reads the store as it is now."""
        screen = self.screen
        travel = screen.feed.travel
        if travel is None:
            return
        marked = set(travel.then)
        screen.feed.back_to_live()
        screen.key_tree.differs = None
        screen.remove_class("travelling")
        screen.key_tree.rebuild(screen.feed.index)
        screen.key_tree.relabel(marked)
        screen.refresh_view()

    def _can_start(self) -> bool:
        store = self.screen.session.store
        if not store.history:
            self.screen.say(
                "This store keeps no history (it was opened with --history 0): "
                "there is nothing to step back through.",
                title="No history",
                severity="warning",
            )
            return False
        if store.revision == 0:
            self.screen.say("The store has no changes yet to step back through.")
            return False
        return True

    def _show(self, stepped: list[Change]) -> None:
        screen = self.screen
        touched = screen.feed.step(stepped)
        screen.key_tree.refresh_from(set())
        screen.key_tree.relabel(touched)
        screen.refresh_view()
        self.draw_banner()

    # -- the banner -------------------------------------------------------------------------

    def draw_banner(self) -> None:
        """Say where the view stands: change, time, how long ago, how far behind live."""
        travel = self.screen.feed.travel
        if travel is None:
            return
        when = travel.time()
        parts = [f"Change {travel.revision:,}"]
        if when is not None:
            stamp = time.strftime("%H:%M:%S", time.localtime(when)) + f".{int(when % 1 * 1000):03d}"
            ago = format_duration(max(0.0, self.screen.clock() - when))
            parts.append(f"{stamp}, {ago} ago")
        parts.append(f"{count_of(travel.behind, 'change')} behind live")
        if travel.at_start:
            parts.append("the start of the kept history")
        text = Text("◀ " + " · ".join(parts), style="bold")
        text.append(" · read-only · escape: back to live · [ ] step, { } by a second")
        self.banner.update(text)

    def follow_live(self, touched: set[str]) -> None:
        """Live changes came while the view stands in the past: it stays put; the marks
        of the keys they touched and the count behind live are drawn afresh."""
        self.screen.key_tree.relabel(touched)
        self.draw_banner()

    # -- rewind -------------------------------------------------------------------------------

    def rewind(self) -> None:
        """Write the values the view shows back into the store, once asked."""
        screen = self.screen
        travel = screen.feed.travel
        if travel is None:
            screen.say("Step back with [ first: a rewind writes back the store as it was.")
            return
        if not screen.key_actions.writable(travelling=False):
            return
        doomed = travel.differing()
        if not doomed:
            screen.say("The store is as it was at this change: nothing to rewind.")
            return
        amount = count_of(len(doomed), "key")
        screen.app.push_screen(
            Confirm(
                "Rewind",
                f"Write {amount} back as they were at change {travel.revision:,}? "
                "The rewind is a change like any other: it can be undone by rewinding again.",
                yes="Rewind",
            ),
            lambda yes: self._rewind(doomed) if yes else None,
        )

    def _rewind(self, values: dict[str, bytes | None]) -> None:
        store = self.screen.session.store
        written = 0
        for key, data in sorted(values.items()):
            if data is None:
                written += store.delete(key, source=REWIND_SOURCE)
            else:
                store.set_encoded(key, data, source=REWIND_SOURCE)
                written += 1
        self.leave()
        self.screen.say(f"Rewound {count_of(written, 'key')}.", title="Rewound")


def _one(change: Change | None) -> list[Change]:
    return [] if change is None else [change]
