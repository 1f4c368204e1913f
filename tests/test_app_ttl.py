"""Keys that expire, stores with limits and scripts that wait, as the inspector shows them."""

from __future__ import annotations

from textual.widgets import Static

from tests.app_helpers import Clock, make_app, until
from tests.test_app_change_log import lines, open_log
from tests.test_app_key_history import open_history, rows
from tui.state import Store
from tui.state.limits import Limits

NOW = 1_700_000_000.0


def ttl_store(clock: Clock, limits: Limits | None = None) -> Store:
    """A store on `clock` whose keys expire only when the test sweeps it."""
    return Store(clock=clock, sweep=False, limits=limits)


# -- expiries and evictions in the change log and the history --------------------------------


async def test_the_change_log_and_the_history_show_expiries_and_evictions() -> None:
    clock = Clock(NOW)
    store = ttl_store(clock, limits=Limits(max_keys=2, when_full="evict-oldest"))
    store.set("token", "abc", source="login.lua#1", ttl=30)
    store.set("a", 1, source="test")
    clock.now += 31
    store.sweep()
    store.set("b", 2, source="test")
    store.set("c", 3, source="test")  # evicts a, the least recently written
    app = make_app(store, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_log(app, pilot)
        shown = [line.split() for line in lines(screen)]
        assert [(words[1], words[2], words[3]) for words in shown] == [
            ("set", "token", "login.lua#1"),
            ("set", "a", "test"),
            ("expire", "token", "ttl"),
            ("set", "b", "test"),
            ("evict", "a", "limit"),
            ("set", "c", "test"),
        ]
        assert shown[2][-1] == "-" and shown[4][-1] == "-"  # a removal has no size
        screen.dismiss()
        await until(pilot, lambda: app.screen is app.main)

        history = await open_history(app, pilot, "token")
        assert rows(history)[0].split()[-3:] == ["expire", "-", "ttl"]
        note = history.query_one("#history-value-note", Static)
        await until(pilot, lambda: "the key expired (its TTL ran out)" in str(note.render()))
        assert "the key expired (version 1 before)" in str(history.diff_note)
        history.dismiss()
        await until(pilot, lambda: app.screen is app.main)

        history = await open_history(app, pilot, "a")
        assert rows(history)[0].split()[-3:] == ["evict", "-", "limit"]
        note = history.query_one("#history-value-note", Static)
        await until(pilot, lambda: "evicted to make room" in str(note.render()))
