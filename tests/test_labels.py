"""Script labels: one name per script, the same for `stateui run` and the inspector."""

from __future__ import annotations

from pathlib import Path

from tui.lua import script_labels


def test_scripts_that_share_a_name_get_their_path_as_label() -> None:
    assert script_labels([Path("a/x.lua"), Path("b/x.lua"), Path("y.lua")]) == [
        "a/x.lua",
        "b/x.lua",
        "y.lua",
    ]


def test_a_path_given_again_is_numbered_from_its_second_time() -> None:
    assert script_labels([Path("x.lua"), Path("x.lua"), Path("x.lua")]) == [
        "x.lua",
        "x.lua (2)",
        "x.lua (3)",
    ]
    assert script_labels([Path("a/x.lua"), Path("b/x.lua"), Path("a/x.lua")]) == [
        "a/x.lua",
        "b/x.lua",
        "a/x.lua (2)",
    ]
    assert script_labels([Path("/a/x.lua"), Path("/a/x.lua")]) == ["x.lua", "x.lua (2)"]


def test_labels_stay_unique_whatever_the_names() -> None:
    labels = script_labels([Path("x.lua"), Path("x.lua"), Path("x.lua#1")])
    assert len(set(labels)) == 3
    # A number never takes the label of a script whose file is called so.
    assert script_labels([Path("x.lua"), Path("x.lua"), Path("x.lua (2)")]) == [
        "x.lua",
        "x.lua (3)",
        "x.lua (2)",
    ]


def test_labels_hold_no_run_number() -> None:
    assert all("#" not in label for label in script_labels([Path("x.lua")] * 3))
