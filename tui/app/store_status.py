"""The store's status on screen: where it lives, and whether this app may write it."""

from __future__ import annotations

import shlex
import sys
from typing import TYPE_CHECKING

from rich.text import Text

from tui.state import StateError
from tui.state.file import take_ownership

if TYPE_CHECKING:
    from tui.app.main_screen import MainScreen


class StoreStatus:
    """Shows where the store lives under the keys (and in the app's sub-title), and
    tells of a store that stopped taking writes, or a followed owner that came or went.
    """

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        self._refusal: str | None = None  # the store's, as last shown
        self._owned = True  # a followed store's owner is there, as last shown
        self._follow_error: str | None = None  # why following stopped, once told
        self.show()

    def show(self) -> None:
        """Where the store lives, under the keys, and whether it is read-only here."""
        store, follower = self.screen.session.store, self.screen.session.follower
        self._refusal = store.read_only
        self._owned = follower is None or follower.owned
        if store.location == "memory":
            return
        if follower is not None:
            state = "read-only" if self._owned else "read-only · no owner"
            long = store.read_only if self._owned else f"{store.location}: read-only, no owner"
        elif store.read_only is not None:
            state = "not written"
            long = store.read_only
        else:
            state = long = ""
        self.screen.key_tree.border_subtitle = Text(
            f"{store.location} · {state}" if state else store.location
        )
        self.screen.app.sub_title = long or store.location

    def check(self) -> None:
        """Tell of a store that stopped taking writes, or an owner that came or went."""
        store, follower = self.screen.session.store, self.screen.session.follower
        owned = follower is None or follower.owned
        if follower is not None and follower.error != self._follow_error:
            self._follow_error = follower.error
            self.screen.say(
                f"The store is no longer followed: {follower.error}",
                title="Store not followed",
                severity="error",
                timeout=60,
            )
        if store.read_only == self._refusal and owned == self._owned:
            return
        if follower is not None and owned != self._owned:
            if owned:
                self.screen.say(
                    "Another process owns the store again.", title="Store owner is back"
                )
            else:
                self.screen.say(
                    f"The process that owned {store.location} has ended, and this view "
                    "stays read-only. To write the store here: ctrl+p, Take ownership "
                    "of the store.",
                    title="Store owner ended",
                    severity="warning",
                    timeout=30,
                )
        elif follower is None and store.read_only is not None:
            self.screen.say(
                store.read_only, title="Store not written", severity="error", timeout=60
            )
        self.show()

    def can_take_ownership(self) -> bool:
        """Whether the app follows a store that nobody owns any more."""
        follower = self.screen.session.follower
        return follower is not None and not follower.owned

    def take_ownership(self) -> None:
        """Become the owner of the followed store, whose owner has ended."""
        session = self.screen.session
        follower = session.follower
        if follower is None:
            return
        try:
            take_ownership(session.store, follower, command=shlex.join(["stateui", *sys.argv[1:]]))
        except StateError as error:
            self.screen.say(str(error), title="Not owned", severity="error")
            return
        session.follower = None
        self.screen.say(
            f"This app now owns {session.store.location}: editing and the console write it.",
            title="Store owned",
        )
        self.show()
