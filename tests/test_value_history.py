"""Recent numbers of watched keys, for the value pane's sparkline."""

from __future__ import annotations

from typing import Any

import orjson

from tui.app.model.value_history import KEPT_VALUES, RECENT_KEYS, ValueHistory, numbers_in
from tui.state import Change, Op


def change(key: str, value: Any) -> Change:
    return Change(Op.SET, key, 1, "job.lua#1", 0.0, orjson.dumps(value))


def test_the_numbers_in_a_value() -> None:
    assert numbers_in(3) == {"": 3.0}
    assert numbers_in({"current": 3, "total": 10, "name": "x", "ok": True}) == {
        "current": 3.0,
        "total": 10.0,
    }
    assert numbers_in("3") is None
    assert numbers_in(True) is None
    assert numbers_in({"name": "x"}) is None


def test_only_watched_keys_are_kept_from_their_value_when_watched() -> None:
    history = ValueHistory()
    history.apply([change("a", 1)])
    history.watch("a", orjson.dumps(2))
    history.apply([change("a", 3), change("b", 4)])
    assert history.values("a") == [2.0, 3.0]
    assert history.values("b") == []


def test_each_numeric_field_has_its_own_series_kept_to_the_last_values() -> None:
    history = ValueHistory()
    history.watch("job", None)
    history.apply(change("job", {"current": n, "total": 500}) for n in range(KEPT_VALUES + 10))
    assert history.fields("job") == ["current", "total"]
    assert history.values("job", "current")[0] == 10.0
    assert len(history.values("job", "current")) == KEPT_VALUES
    assert set(history.values("job", "total")) == {500.0}


def test_only_the_recently_selected_keys_are_kept() -> None:
    history = ValueHistory()
    for n in range(RECENT_KEYS + 1):
        history.watch(f"k{n}", orjson.dumps(n))
    assert history.values("k0") == []
    assert history.values(f"k{RECENT_KEYS}") == [float(RECENT_KEYS)]
