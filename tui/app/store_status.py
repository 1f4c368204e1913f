"""The store's status on screen: how full it is against its limits, where it lives, and
whether this app may write it."""

from __future__ import annotations

import shlex
import sys
import time
from typing import TYPE_CHECKING

from textual.content import Content

from tui.app.format import count_of
from tui.state import StateError, Store
from tui.state.file import take_ownership
from tui.state.limits import MB, Limits, megabytes

if TYPE_CHECKING:
    from tui.app.main_screen import MainScreen

USAGE_SECONDS = 1.0
"""How often, at most, the store's keys and bytes are counted again (while it changes)."""

COUNT_SHARE = 0.1
"""The share of the time, at most, spent counting the store's bytes: a store that takes
long to count (a big one followed, counted afresh after its owner's commits) is counted
less often."""

NEAR_LIMIT = 0.9
"""The share of a limit past which the store's usage is shown in the warning colour."""


def usage_text(keys: int, size: int, limits: Limits) -> Content:
    """How full a store of `keys` keys and `size` bytes is against its limits:
    `1,234 / 10,000 keys · 3.21 / 64 MB`; a part near its limit in the warning colour."""
    if limits.max_keys:
        key_part = _part(f"{keys:,} / {limits.max_keys:,} keys", keys, limits.max_keys)
    else:
        key_part = Content(count_of(keys, "key"))
    if limits.max_bytes:
        used = f"{_megabytes(size)} / {megabytes(limits.max_bytes)} MB"
        size_part = _part(used, size, limits.max_bytes)
    else:
        size_part = Content(f"{_megabytes(size)} MB")
    return Content(" · ").join([key_part, size_part])


def _part(text: str, used: int, limit: int) -> Content:
    return (
        Content.styled(text, "$text-warning bold") if used >= NEAR_LIMIT * limit else Content(text)
    )


def _megabytes(size: int) -> str:
    """A size in MB, as the limits are given; a store with something in it is never `0`."""
    return "<0.01" if 0 < size < MB / 100 else megabytes(size)


class StoreStatus:
    """Shows under the keys how full the store is against its limits (when it has
    some), where it lives (also in the app's sub-title) and whether it is read-only,
    and tells of a store that stopped taking writes, or a followed owner that came or
    went.

    The keys and bytes are counted in a thread (counting a store's bytes the first time
    takes a while), at most once a second, and only when the store changed.
    """

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        self._refusal: str | None = None  # the store's, as last shown
        self._owned = True  # a followed store's owner is there, as last shown
        self._follow_error: str | None = None  # why following stopped, once told
        self._where = ""  # where the store lives, and whether it is read-only here
        self._usage: Content | None = None  # how full it is, once counted
        self._next_count = 0.0  # when it may be counted again (monotonic)
        self._counted_revision = -1  # the store's revision when it was
        self._counting = False
        self._link: str | None = None  # why a shared store cannot be reached, as shown
        self._reloads = 0
        self.show()
        self._count()

    def show(self) -> None:
        """Under the keys: how full the store is, where it lives and whether it is
        read-only here."""
        store, follower = self.screen.session.store, self.screen.session.follower
        self._refusal = store.read_only
        self._owned = follower is None or follower.owned
        if store.location != "memory":
            self._where = self._place(store)
        self._draw()

    def _place(self, store: Store) -> str:
        """Where the store lives and whether it is read-only (also in the sub-title)."""
        follower = self.screen.session.follower
        if follower is not None:
            state = "read-only" if self._owned else "read-only · no owner"
            long = store.read_only if self._owned else f"{store.location}: read-only, no owner"
        elif store.read_only is not None:
            state = "not written"
            long = store.read_only
        else:
            state = long = ""
        self.screen.app.sub_title = long or store.location
        if self._link:  # first: a long URL is cut at the end of the line
            return f"disconnected, retrying · {store.location}"
        return f"{store.location} · {state}" if state else store.location

    def _draw(self) -> None:
        parts = [part for part in (self._usage, Content(self._where)) if part]
        self.screen.key_tree.border_subtitle = Content(" · ").join(parts) if parts else None

    def _count(self) -> None:
        """Count the store's keys and bytes again in a thread, if it has limits and
        changed since (at most once a second, and COUNT_SHARE of the time)."""
        store = self.screen.session.store
        if self._counting or not store.limits or store.revision == self._counted_revision:
            return
        if time.monotonic() < self._next_count:
            return
        self._counting = True
        # A group of its own: the file watcher's worker is exclusive in the default
        # group, and starting it would cancel a count under way (which then never ends).
        self.screen.run_worker(
            self._count_in_thread,
            name="store usage",
            group="store usage",
            thread=True,
            exit_on_error=False,
        )

    def _count_in_thread(self) -> None:
        store = self.screen.session.store
        started = time.monotonic()
        revision = store.revision  # first: a change made while counting is counted next time
        try:
            keys, size = len(store), store.size
        except StateError:  # a shared store out of reach: counted once it is back
            self.screen.app.call_from_thread(self._not_counted)
            return
        took = time.monotonic() - started
        self.screen.app.call_from_thread(self._counted, revision, keys, size, store.limits, took)

    def _not_counted(self) -> None:
        self._counting = False
        self._next_count = time.monotonic() + USAGE_SECONDS

    def _counted(self, revision: int, keys: int, size: int, limits: Limits, took: float) -> None:
        self._counting = False
        self._counted_revision = revision
        self._next_count = time.monotonic() + max(USAGE_SECONDS, took / COUNT_SHARE)
        self._usage = usage_text(keys, size, limits)
        self._draw()

    def check(self) -> None:
        """Count the store again when it changed; tell of a store that stopped taking
        writes, or an owner that came or went."""
        self._count()
        store, follower = self.screen.session.store, self.screen.session.follower
        self._check_link(store)
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

    def _check_link(self, store: Store) -> None:
        """A shared store (Redis) that cannot be reached says so in the title, until it
        can again; one whose changes were lost track of says it was read again."""
        link = store.link_error
        if link != self._link:
            self._link = link
            app = self.screen.app
            app.title = f"{app.TITLE} · disconnected, retrying" if link else str(app.TITLE)
            self._where = self._place(store)
            self._draw()
            if link:
                self.screen.say(
                    f"{link.rstrip('.')}. Retrying every second; the view stays as it was.",
                    title="Store disconnected",
                    severity="error",
                    timeout=30,
                )
            else:
                self.screen.say("The store is reachable again.", title="Store reconnected")
        if store.reloads != self._reloads:
            self._reloads = store.reloads
            self.screen.say(
                "Changes this view had not seen are no longer in the store's change "
                "stream (it was trimmed, or the server came back without its data): the "
                "store was read again.",
                title="Store reloaded",
                severity="warning",
            )

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
