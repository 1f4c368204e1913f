"""Structural diffs of two JSON values, line by line, and one-line summaries of values."""

from __future__ import annotations

import time

import orjson
import pytest

from tui.app.model.json_diff import MISSING, MORE_PATH, DiffKind, DiffLine, diff, summarise

ADDED, REMOVED, CHANGED, TYPE = DiffKind.ADDED, DiffKind.REMOVED, DiffKind.CHANGED, DiffKind.TYPE


def decoded(value: object) -> object:
    """A value as the store hands it back: a fresh copy, decoded from its JSON."""
    return orjson.loads(orjson.dumps(value))


# Objects


def test_a_change_deep_in_an_object_is_one_line_at_its_path() -> None:
    old = {"settings": {"timeout": 30, "retries": 3}, "name": "job"}
    new = {"settings": {"timeout": 60, "retries": 3}, "name": "job"}
    assert diff(old, new) == [DiffLine(CHANGED, "$.settings.timeout", "30", "60")]


def test_added_and_removed_keys_show_their_values() -> None:
    old = {"a": 1, "gone": {"x": [1, 2]}, "nested": {"keep": True}}
    new = {"a": 1, "nested": {"keep": True, "fresh": None}, "new": "hi"}
    assert diff(old, new) == [
        DiffLine(REMOVED, "$.gone", '{"x": [1, 2]}', ""),
        DiffLine(ADDED, "$.nested.fresh", "", "null"),
        DiffLine(ADDED, "$.new", "", '"hi"'),
    ]


def test_lines_follow_the_paths_keys_by_name_and_indices_by_number() -> None:
    old = {"b": [0] * 12, "a": 1}
    new = {"b": [0, 0, 7] + [0] * 7 + [8, 0], "a": 2}
    assert diff(old, new) == [
        DiffLine(CHANGED, "$.a", "1", "2"),
        DiffLine(CHANGED, "$.b[2]", "0", "7"),
        DiffLine(CHANGED, "$.b[10]", "0", "8"),
    ]


def test_keys_that_are_not_identifiers_are_quoted_in_paths() -> None:
    old = {"x y": 1, 'say "hi"': 1, "": 1, "1st": 1, "été": 1, "__private": 1, "_ok9": 1}
    new = {key: 2 for key in old}
    assert diff(old, new) == [
        DiffLine(CHANGED, '$[""]', "1", "2"),
        DiffLine(CHANGED, '$["1st"]', "1", "2"),
        DiffLine(CHANGED, "$.__private", "1", "2"),
        DiffLine(CHANGED, "$._ok9", "1", "2"),
        DiffLine(CHANGED, '$["say \\"hi\\""]', "1", "2"),
        DiffLine(CHANGED, '$["x y"]', "1", "2"),
        DiffLine(CHANGED, '$["été"]', "1", "2"),
    ]


def test_an_object_with_most_of_its_keys_changed_is_still_diffed_key_by_key() -> None:
    # deepdiff would report the whole object as one change past a third of its keys.
    assert diff({"a": 1, "b": 2}, {"c": 3, "b": 2}) == [
        DiffLine(REMOVED, "$.a", "1", ""),
        DiffLine(ADDED, "$.c", "", "3"),
    ]


# Arrays


def test_a_changed_item_in_a_long_array_is_one_line() -> None:
    old = list(range(10_000))
    new = list(range(10_000))
    new[5_000] = -1
    assert diff(old, new) == [DiffLine(CHANGED, "$[5000]", "5000", "-1")]


def test_items_appended_to_an_array_are_one_line_with_a_slice() -> None:
    old = {"items": list(range(100))}
    new = {"items": list(range(5_100))}
    assert diff(old, new) == [
        DiffLine(
            ADDED,
            "$.items[100:5100]",
            "",
            "[100, 101, 102, 103, 104, 105, … 4,994 more] (5,000 items)",
        )
    ]


def test_items_removed_from_an_array_are_one_line_at_their_old_indices() -> None:
    old = {"items": list(range(10))}
    new = {"items": [0, 1, 2, 6, 7, 8, 9]}
    assert diff(old, new) == [DiffLine(REMOVED, "$.items[3:6]", "[3, 4, 5]", "")]
    assert diff([1, 2, 3], [1, 3]) == [DiffLine(REMOVED, "$[1]", "2", "")]


def test_an_array_emptied_or_filled_is_one_line() -> None:
    assert diff([], ["a", "b"]) == [DiffLine(ADDED, "$[0:2]", "", '["a", "b"]')]
    assert diff({"l": [{"a": 1}]}, {"l": []}) == [DiffLine(REMOVED, "$.l[0]", '{"a": 1}', "")]


def test_items_inserted_in_the_middle_are_aligned_not_shifted() -> None:
    old = ["a", "b", "c", "d", "e"]
    new = ["a", "x", "b", "c", "y", "z", "d", "e"]
    assert diff(old, new) == [
        DiffLine(ADDED, "$[1]", "", '"x"'),
        DiffLine(ADDED, "$[4:6]", "", '["y", "z"]'),
    ]


def test_an_item_added_and_one_changed_name_their_places_in_the_new_array() -> None:
    assert diff(["a", "b", "c"], ["x", "a", "b", "C"]) == [
        DiffLine(ADDED, "$[0]", "", '"x"'),
        DiffLine(CHANGED, "$[3]", '"c"', '"C"'),
    ]


def test_a_change_inside_an_object_in_an_array() -> None:
    old = {"users": [{"name": "ann", "age": 30}, {"name": "bob", "age": 40}]}
    new = {"users": [{"name": "ann", "age": 30}, {"name": "bob", "age": 41}]}
    assert diff(old, new) == [DiffLine(CHANGED, "$.users[1].age", "40", "41")]


def test_a_long_array_of_objects_with_one_inserted() -> None:
    old = [{"i": i} for i in range(10_000)]
    new = [*old[:5_000], {"i": -1}, *old[5_000:]]
    assert diff(old, new) == [DiffLine(ADDED, "$[5000]", "", '{"i": -1}')]


def test_changes_in_the_middle_of_an_array_of_objects() -> None:
    old = [{"i": 0}, {"i": 1}, {"i": 2}, {"i": 3}]
    new = [{"i": 0}, {"i": 10}, {"i": 20}, {"i": 3}]
    assert diff(old, new) == [
        DiffLine(CHANGED, "$[1].i", "1", "10"),
        DiffLine(CHANGED, "$[2].i", "2", "20"),
    ]


# Types


def test_type_changes() -> None:
    assert diff({"n": 1}, {"n": "1"}) == [DiffLine(TYPE, "$.n", "1", '"1"')]
    assert diff({"n": 1}, {"n": True}) == [DiffLine(TYPE, "$.n", "1", "true")]
    assert diff({"n": 0}, {"n": False}) == [DiffLine(TYPE, "$.n", "0", "false")]
    assert diff({"o": {"a": 1}}, {"o": [1]}) == [DiffLine(TYPE, "$.o", '{"a": 1}', "[1]")]
    assert diff({"v": None}, {"v": {"a": 1}}) == [DiffLine(TYPE, "$.v", "null", '{"a": 1}')]
    assert diff({"v": []}, {"v": None}) == [DiffLine(TYPE, "$.v", "[]", "null")]


def test_a_boolean_is_not_a_number_inside_arrays_either() -> None:
    # Python's == takes True for 1, and deepdiff aligns arrays of scalars with it.
    assert diff([1], [True]) == [DiffLine(TYPE, "$[0]", "1", "true")]
    assert diff([1, 2, 3], [True, 2, 3, 4]) == [
        DiffLine(TYPE, "$[0]", "1", "true"),
        DiffLine(ADDED, "$[3]", "", "4"),
    ]
    assert diff({"m": [[1, 0], [3, 4]]}, {"m": [[1, 0], [3, True]]}) == [
        DiffLine(TYPE, "$.m[1][1]", "4", "true")
    ]
    many = {f"k{i}": 1 for i in range(100)}
    assert diff(many, {**many, "k42": True}) == [DiffLine(TYPE, "$.k42", "1", "true")]


def test_a_boolean_that_flips_is_a_change_not_a_type() -> None:
    assert diff({"on": True}, {"on": False}) == [DiffLine(CHANGED, "$.on", "true", "false")]


def test_1_and_1_point_0_are_the_same_number() -> None:
    assert diff(1, 1.0) == []
    assert diff({"a": [1, 2], "b": {"c": 3}}, {"a": [1.0, 2], "b": {"c": 3.0}}) == []
    assert diff({"x": 1}, {"x": 1.5}) == [DiffLine(CHANGED, "$.x", "1", "1.5")]


def test_a_value_at_the_root_changed_is_one_line_at_the_root() -> None:
    assert diff(1, 2) == [DiffLine(CHANGED, "$", "1", "2")]
    assert diff("a", 5) == [DiffLine(TYPE, "$", '"a"', "5")]
    assert diff(None, [1]) == [DiffLine(TYPE, "$", "null", "[1]")]


# MISSING, and no change at all


def test_missing_is_not_null() -> None:
    assert diff(MISSING, {"a": 1}) == [DiffLine(ADDED, "$", "", '{"a": 1}')]
    assert diff([1, 2], MISSING) == [DiffLine(REMOVED, "$", "[1, 2]", "")]
    assert diff(MISSING, None) == [DiffLine(ADDED, "$", "", "null")]
    assert diff(None, MISSING) == [DiffLine(REMOVED, "$", "null", "")]
    assert diff(MISSING, MISSING) == []


def test_identical_values_have_no_diff() -> None:
    value = {"a": [1, {"b": None, "c": "x"}], "d": 1.5, "e": True}
    assert diff(value, value) == []
    assert diff(value, decoded(value)) == []
    assert diff({"a": 1, "b": 2}, {"b": 2, "a": 1}) == []
    assert diff(None, None) == []
    assert diff([], []) == []


# The limit


def test_more_lines_than_the_limit_end_with_a_count_of_the_rest() -> None:
    old = {f"k{i:02}": i for i in range(10)}
    new = {key: value + 1 for key, value in old.items()}
    assert diff(old, new, limit=3) == [
        DiffLine(CHANGED, "$.k00", "0", "1"),
        DiffLine(CHANGED, "$.k01", "1", "2"),
        DiffLine(CHANGED, MORE_PATH, "", "8 more changes"),
    ]
    assert len(diff(old, new, limit=10)) == 10
    assert diff(old, new, limit=10)[-1] == DiffLine(CHANGED, "$.k09", "9", "10")
    assert diff(old, new, limit=1) == [DiffLine(CHANGED, "…", "", "10 more changes")]


def test_the_limit_counts_with_thousands_separators() -> None:
    old = {f"k{i:05}": 0 for i in range(1_500)}
    new = dict.fromkeys(old, 1)
    lines = diff(old, new)
    assert len(lines) == 200
    assert lines[-1] == DiffLine(CHANGED, "…", "", "1,301 more changes")


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        diff(1, 2, limit=0)


# Summaries


def test_summaries_of_scalars_are_json() -> None:
    assert summarise(None) == "null"
    assert summarise(True) == "true"
    assert summarise(42) == "42"
    assert summarise(1.5) == "1.5"
    assert summarise("hi") == '"hi"'
    assert summarise('say "hi"\n') == '"say \\"hi\\"\\n"'


def test_a_long_string_is_cut_with_its_length() -> None:
    assert summarise("a" * 10_000) == '"' + "a" * 42 + '…" (10,000 chars)'
    assert summarise("a" * 58) == '"' + "a" * 58 + '"'  # 60 with its quotes: it fits
    assert summarise("a" * 59) == '"' + "a" * 46 + '…" (59 chars)'  # 60 in all
    # Escapes count: the cut falls between them.
    assert summarise('"' * 100) == '"' + '\\"' * 22 + '…" (100 chars)'


def test_short_arrays_and_objects_are_compact_json() -> None:
    assert summarise([]) == "[]"
    assert summarise({}) == "{}"
    assert summarise([1, "two", None, [3]]) == '[1, "two", null, [3]]'
    assert summarise({"a": 1, "b": {"c": [True]}}) == '{"a": 1, "b": {"c": [true]}}'


def test_a_long_array_shows_its_first_items_and_its_length() -> None:
    assert (
        summarise(list(range(10_000)))
        == "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, … 9,990 more] (10,000 items)"
    )
    assert summarise([{"big": "x" * 100}] * 3) == "[{…}, {…}, {…}] (3 items)"
    assert summarise(["y" * 100, 1]) == '["yyyyyyyy…", 1] (2 items)'


def test_a_long_object_shows_its_first_keys() -> None:
    fields = {f"k{i}": i for i in range(43)}
    assert summarise(fields) == "{k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, … 33 more keys}"
    assert summarise({"odd key": "x" * 100, "b": 1}) == '{"odd key", b}'


def test_summaries_keep_to_their_width() -> None:
    assert summarise(list(range(100)), width=30) == "[0, 1, … 98 more] (100 items)"
    assert summarise("abcdefghij" * 3, width=20) == '"abcdef…" (30 chars)'


# Speed


@pytest.mark.latency
def test_a_diff_of_ten_thousand_keys_with_one_change_is_quick() -> None:
    old = decoded({f"k{i}": {"n": i, "tags": ["a", "b"], "ok": True} for i in range(10_000)})
    changed = {f"k{i}": {"n": i, "tags": ["a", "b"], "ok": True} for i in range(10_000)}
    changed["k5000"]["tags"] = ["a", "c"]
    new = decoded(changed)
    fastest = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        lines = diff(old, new)
        fastest = min(fastest, time.perf_counter() - started)
    assert lines == [DiffLine(CHANGED, "$.k5000.tags[1]", '"b"', '"c"')]
    assert fastest < 0.1  # about 15 ms


@pytest.mark.latency
def test_a_diff_of_a_long_array_grown_by_thousands_is_quick() -> None:
    old = decoded({"items": list(range(5_000))})
    new = decoded({"items": list(range(10_000))})
    started = time.perf_counter()
    lines = diff(old, new)
    assert time.perf_counter() - started < 0.1  # about 2 ms
    assert [(line.kind, line.path) for line in lines] == [(ADDED, "$.items[5000:10000]")]
