"""The key filter: globs match whole keys, text matches anywhere, case is smart."""

from __future__ import annotations

import pytest

from tui.state.key_filter import KeyFilter

KEYS = [
    "cache:api:user_1",
    "cache:api:user_12",
    "cache:db:user_1:profile",
    "cache:api:USER_2",
    "progress:import",
    "user_1",
    "a[1]",
]


def shown(text: str) -> list[str]:
    keys = KeyFilter.parse(text)
    assert keys is not None
    assert keys.select(KEYS) == [key for key in KEYS if keys(key)]
    return keys.select(KEYS)


def test_nothing_typed_is_no_filter() -> None:
    assert KeyFilter.parse("") is None


def test_a_glob_matches_whole_keys_across_delimiters() -> None:
    assert shown("cache:*:user_1*") == [
        "cache:api:user_1",
        "cache:api:user_12",
        "cache:db:user_1:profile",
    ]
    assert shown("cache:*:user_1") == ["cache:api:user_1"]
    assert shown("user_?") == ["user_1"]
    assert shown("progress:[ij]*") == ["progress:import"]


def test_plain_text_matches_anywhere() -> None:
    assert shown("user_1") == [
        "cache:api:user_1",
        "cache:api:user_12",
        "cache:db:user_1:profile",
        "user_1",
    ]
    assert shown(":db:") == ["cache:db:user_1:profile"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("user_2", ["cache:api:USER_2"]),  # all lower case: any case matches
        ("USER", ["cache:api:USER_2"]),  # a capital: exact case
        ("*user_2", ["cache:api:USER_2"]),
        ("*User*", []),
    ],
)
def test_case_is_ignored_until_a_capital_is_typed(text: str, expected: list[str]) -> None:
    assert shown(text) == expected


def test_brackets_that_do_not_close_are_plain_characters() -> None:
    assert shown("a[1") == []
    assert shown("a[[]1]") == ["a[1]"]
    assert shown("*[") == []
