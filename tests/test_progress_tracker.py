"""The progress panel's model: shapes, rates and ETAs from known times, done and stalled."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from tui.app.model.progress_tracker import ProgressState, ProgressTracker, progress_of
from tui.state import Change, Op, Store


def set_at(key: str, value: Any, time: float) -> Change:
    return Change(Op.SET, key, 1, "job.lua#1", time, orjson.dumps(value))


def progress(tracker: ProgressTracker, now: float) -> dict[str, tuple[Any, ...]]:
    return {row.name: (row.state, row.percent, row.rate, row.eta) for row in tracker.rows(now)}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"current": 3, "total": 10}, (3.0, 10.0, 30.0)),
        ({"current": 3, "total": 10, "percent": 31}, (3.0, 10.0, 31.0)),  # as written
        ({"percent": 42.5}, (None, None, 42.5)),
        ({"current": 0, "total": 0}, (0.0, 0.0, 100.0)),
        ({"current": "3", "total": 10}, None),
        ({"current": True, "total": 10}, None),
        ([1, 2], None),
        ("half", None),
    ],
)
def test_the_shapes_of_progress(value: Any, expected: Any) -> None:
    assert progress_of(value) == expected


def test_rate_and_eta_come_from_the_changes_own_times() -> None:
    tracker = ProgressTracker()
    tracker.apply(
        set_at("progress:import", {"current": n * 10, "total": 100}, 1000.0 + n) for n in range(5)
    )
    # 40 items in 4 seconds: 10 a second, 60 left: 6 seconds.
    assert progress(tracker, now=1004.0) == {
        "import": (ProgressState.RUNNING, 40.0, 10.0, 6.0),
    }


def test_only_the_last_few_seconds_count_for_the_rate() -> None:
    tracker = ProgressTracker(window=5.0)
    tracker.apply([set_at("progress:a", {"current": 0, "total": 1000}, 0.0)])
    tracker.apply([set_at("progress:a", {"current": 500, "total": 1000}, 1.0)])  # a burst
    tracker.apply(
        set_at("progress:a", {"current": 500 + n, "total": 1000}, 10.0 + n) for n in range(5)
    )
    (row,) = tracker.rows(now=14.0)
    assert row.rate == 1.0
    assert row.eta == 496.0


def test_done_ones_go_below_the_running_ones() -> None:
    tracker = ProgressTracker()
    tracker.apply(
        [
            set_at("progress:b_done", {"current": 10, "total": 10}, 0.0),
            set_at("progress:c", {"current": 1, "total": 10}, 0.0),
            set_at("progress:a_pct", {"percent": 100}, 0.0),
            set_at("progress:d", {"percent": 5}, 0.0),
        ]
    )
    rows = tracker.rows(now=1.0)
    assert [(row.name, row.state) for row in rows] == [
        ("c", ProgressState.RUNNING),
        ("d", ProgressState.RUNNING),
        ("a_pct", ProgressState.DONE),
        ("b_done", ProgressState.DONE),
    ]
    assert all(row.eta is None for row in rows if row.state is ProgressState.DONE)


def test_a_key_that_has_not_moved_for_a_while_is_stalled() -> None:
    tracker = ProgressTracker(stall_after=10.0)
    tracker.apply([set_at("progress:slow", {"current": 1, "total": 10}, 0.0)])
    tracker.apply([set_at("progress:slow", {"current": 1, "total": 10}, 9.0)])  # no move
    assert tracker.rows(now=9.5)[0].state is ProgressState.RUNNING
    (row,) = tracker.rows(now=10.0)
    assert (row.state, row.rate, row.eta) == (ProgressState.STALLED, 0.0, None)
    tracker.apply([set_at("progress:slow", {"current": 2, "total": 10}, 11.0)])
    assert tracker.rows(now=11.0)[0].state is ProgressState.RUNNING


def test_other_shapes_show_as_text_and_deletes_go() -> None:
    tracker = ProgressTracker()
    tracker.apply(
        [
            set_at("progress:note", {"phase": "warming up"}, 0.0),
            set_at("progress:long", "x" * 500, 0.0),
            set_at("elsewhere", {"current": 1, "total": 2}, 0.0),
        ]
    )
    rows = {row.name: row for row in tracker.rows(now=0.0)}
    assert set(rows) == {"note", "long"}
    assert rows["note"].state is ProgressState.OTHER
    assert rows["note"].text == '{"phase":"warming up"}'
    assert rows["long"].text.endswith("…") and len(rows["long"].text) == 201
    tracker.apply([Change(Op.DELETE, "progress:note", 2, "job.lua#1", 1.0, None)])
    assert [row.name for row in tracker.rows(now=1.0)] == ["long"]


def test_pinning_shows_a_key_from_elsewhere_and_unpinning_hides_it() -> None:
    tracker = ProgressTracker()
    assert not tracker.pin("cache:x", orjson.dumps({"name": "not progress"}), 0.0)
    assert tracker.pin("jobs:import", orjson.dumps({"current": 1, "total": 4}), 0.0)
    tracker.apply([set_at("jobs:import", {"current": 2, "total": 4}, 1.0)])
    assert [(row.name, row.percent) for row in tracker.rows(now=1.0)] == [("jobs:import", 50.0)]
    tracker.unpin("jobs:import")
    assert tracker.rows(now=1.0) == []
    assert not tracker.apply([set_at("jobs:import", {"current": 3, "total": 4}, 2.0)])


def test_the_prefix_is_configurable_and_the_store_fills_it_at_start() -> None:
    store = Store(clock=lambda: 50.0)
    store.set("jobs:a", {"current": 1, "total": 2}, source="cli")
    store.set("progress:b", {"current": 1, "total": 2}, source="cli")
    tracker = ProgressTracker("jobs:")
    found = [(key, store.entry(key)) for key in store.keys("")]
    tracker.load((key, e.value, e.time, e.source) for key, e in found if e is not None)
    assert [row.name for row in tracker.rows(now=50.0)] == ["a"]


def test_a_stalled_key_written_again_unchanged_stays_stalled() -> None:
    tracker = ProgressTracker(window=5.0, stall_after=10.0)
    tracker.apply([set_at("progress:slow", {"current": 1, "total": 10}, 0.0)])
    assert tracker.rows(now=20.0)[0].state is ProgressState.STALLED  # its samples age out
    tracker.apply([set_at("progress:slow", {"current": 1, "total": 10}, 21.0)])
    assert tracker.rows(now=21.0)[0].state is ProgressState.STALLED


def test_a_busy_key_keeps_few_samples() -> None:
    tracker = ProgressTracker(window=5.0)
    tracker.apply(
        set_at("progress:busy", {"current": n, "total": 10_000}, n / 1000) for n in range(5000)
    )
    (row,) = tracker.rows(now=5.0)
    assert row.rate == pytest.approx(1000, rel=0.01)
    assert len(tracker._tracked["progress:busy"].samples) <= 52


def test_a_slow_job_still_gets_a_rate_from_its_last_two_updates() -> None:
    tracker = ProgressTracker(window=5.0)
    tracker.apply(set_at("progress:slow", {"current": n, "total": 10}, 6.0 * n) for n in range(3))
    (row,) = tracker.rows(now=12.5)
    assert row.rate == pytest.approx(1 / 6)
    assert row.eta == pytest.approx(48.0)


def test_huge_numbers_give_no_infinite_percent_rate_or_eta() -> None:
    tracker = ProgressTracker()
    tracker.apply([set_at("progress:big", {"current": 1e307, "total": 1e308}, 0.0)])
    (row,) = tracker.rows(now=0.0)
    assert (row.state, row.percent) == (ProgressState.RUNNING, pytest.approx(10.0))
    tracker.apply([set_at("progress:fast", {"current": 0, "total": 1e307}, 0.0)])
    tracker.apply([set_at("progress:fast", {"current": 1e306, "total": 1e307}, 1e-300)])
    tracker.apply([set_at("progress:neg", {"current": -1e308, "total": 1e308}, 0.0)])
    tracker.apply([set_at("progress:neg", {"current": -9.9e307, "total": 1e308}, 1.0)])
    for row in tracker.rows(now=1.0):
        assert row.rate is None or abs(row.rate) < float("inf"), row
        assert row.eta is None or row.eta < float("inf"), row
