"""Tab completion in the console: `State.` functions, and key names a folder at a time."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable

from hypothesis import given
from hypothesis import strategies as st

from tui.app.model.completion import MAX_CHOICES, Completion, complete
from tui.app.model.key_index import natural_key
from tui.state import Store

FUNCTIONS = ["set", "get", "delete", "list", "exists", "incr", "clear", "update"]

KEYS = [
    "cache:api_response:user_123",
    "cache:api_response:user_2",
    "cache:api_response:user_10",
    "cache:session",
    "progress:import_job",
    "workflow:data_pipeline:status",
    "workflow:data_pipeline:step",
    "workflow:other",
]


def lookup(keys: Iterable[str]) -> Callable[[str], list[str]]:
    """A `keys` function over a fixed set of keys, in no particular order."""
    names = list(keys)
    random.Random(4).shuffle(names)
    return lambda prefix: [name for name in names if name.startswith(prefix)]


def always(keys: list[str]) -> Callable[[str], list[str]]:
    """A `keys` function for keys that all start with whatever prefix is asked for."""
    return lambda _prefix: keys


def tab(text: str, cursor: int | None = None, keys: Iterable[str] = KEYS) -> Completion | None:
    """Press tab with the cursor at `cursor` (the end when None)."""
    return complete(
        text,
        len(text) if cursor is None else cursor,
        functions=FUNCTIONS,
        keys=lookup(keys),
    )


# Functions


def test_a_unique_function_is_completed_with_its_opening_parenthesis() -> None:
    assert tab("State.se") == Completion("State.set(", 10, ())
    assert tab("x = State.up") == Completion("x = State.update(", 17, ())


def test_an_ambiguous_function_lists_the_choices_and_adds_what_they_share() -> None:
    assert tab("State.e") == Completion("State.exists(", 13, ())
    assert tab("State.de") == Completion("State.delete(", 13, ())
    assert tab("State.") == Completion(
        "State.",
        6,
        (
            "State.clear",
            "State.delete",
            "State.exists",
            "State.get",
            "State.incr",
            "State.list",
            "State.set",
            "State.update",
        ),
    )
    found = complete("State.in", 8, functions=["incr", "incrby", "insert"], keys=lookup(KEYS))
    assert found == Completion("State.in", 8, ("State.incr", "State.incrby", "State.insert"))
    found = complete("State.i", 7, functions=["incr", "incrby"], keys=lookup(KEYS))
    assert found == Completion("State.incr", 10, ("State.incr", "State.incrby"))


def test_no_function_fits_and_nothing_is_completed() -> None:
    assert tab("State.nope") is None
    assert tab("print(") is None
    assert tab("") is None


def test_state_as_part_of_a_longer_name_is_not_the_state_table() -> None:
    assert tab("MyState.se") is None
    assert tab("my_State.") is None
    assert tab("t.State.se") is None
    assert tab("(State.se") == Completion("(State.set(", 11, ())


def test_a_function_is_completed_where_the_cursor_is_and_the_rest_is_kept() -> None:
    assert tab('State.ge("k")', cursor=8) == Completion('State.get("k")', 9, ())
    assert tab("State.g x", cursor=7) == Completion("State.get( x", 10, ())


# Keys


def test_keys_are_completed_one_folder_at_a_time() -> None:
    assert tab('State.get("wor') == Completion('State.get("workflow:', 20, ())
    assert tab('State.get("workflow:') == Completion(
        'State.get("workflow:',
        20,
        ("workflow:data_pipeline:", "workflow:other"),
    )
    assert tab('State.get("workflow:d') == Completion('State.get("workflow:data_pipeline:', 34, ())
    assert tab('State.get("workflow:data_pipeline:') == Completion(
        'State.get("workflow:data_pipeline:st',
        36,
        ("workflow:data_pipeline:status", "workflow:data_pipeline:step"),
    )
    assert tab('State.get("workflow:data_pipeline:sta') == Completion(
        'State.get("workflow:data_pipeline:status")', 42, ()
    )


def test_the_top_level_lists_folders_and_keys_in_natural_order() -> None:
    found = tab('State.get("', keys=[*KEYS, "Zebra", "apple", "user_10", "user_9"])
    assert found is not None
    assert found.choices == (
        "apple",
        "cache:",
        "progress:",
        "user_9",
        "user_10",
        "workflow:",
        "Zebra",
    )
    assert found.text == 'State.get("'


def test_choices_are_full_names_in_natural_order() -> None:
    found = tab('State.get("cache:api_response:')
    assert found == Completion(
        'State.get("cache:api_response:user_',
        35,
        (
            "cache:api_response:user_2",
            "cache:api_response:user_10",
            "cache:api_response:user_123",
        ),
    )


def test_a_key_that_is_also_a_folder_is_offered_as_both() -> None:
    keys = ["job:1", "job:1:status", "job:1:log"]
    assert tab('"job:', keys=keys) == Completion('"job:1', 6, ("job:1", "job:1:"))
    assert tab('"job:1', keys=keys) == Completion('"job:1', 6, ("job:1", "job:1:"))
    assert tab('"job:1:', keys=keys) == Completion('"job:1:', 7, ("job:1:log", "job:1:status"))


def test_a_complete_unique_key_is_closed_and_nothing_else_is_added() -> None:
    assert tab('"progress:import_job') == Completion('"progress:import_job"', 21, ())
    assert tab('"progress:import_job"', cursor=20) == Completion('"progress:import_job"', 21, ())
    assert tab('"nothing:here') is None


def test_a_whole_key_closes_its_literal_and_a_call_that_takes_only_a_key() -> None:
    assert tab('"progress:imp') == Completion('"progress:import_job"', 21, ())
    assert tab('State.get("progress:imp') == Completion('State.get("progress:import_job")', 32, ())
    assert tab('State.delete( "progress:imp') == Completion(
        'State.delete( "progress:import_job")', 36, ()
    )
    # set takes a value after the key.
    assert tab('State.set("progress:imp') == Completion('State.set("progress:import_job"', 31, ())
    # A folder stays open for its keys.
    assert tab('State.get("progress') == Completion('State.get("progress:', 20, ())


def test_a_folder_whose_delimiter_began_in_the_prefix_is_not_closed() -> None:
    found = complete('"b', 2, functions=FUNCTIONS, keys=lookup({"b1"}), delimiter="b1")
    assert found == Completion('"b1', 3, ())


def test_single_quotes_open_a_key_too() -> None:
    assert tab("State.get('progress:") == Completion("State.get('progress:import_job')", 32, ())


def test_a_closed_string_is_not_completed() -> None:
    assert tab('State.get("progress:") ') is None
    assert tab("x = 'a' .. \"b\" .. 'wor\"kflow'") is None


def test_a_quote_of_the_other_kind_or_escaped_does_not_close_the_string() -> None:
    keys = ["it's:x", 'say "hi":y', "back\\slash:z"]
    assert tab("\"it's:", keys=keys) == Completion('"it\'s:x"', 8, ())
    assert tab("'it\\'s:", keys=keys) == Completion("'it\\'s:x'", 9, ())
    assert tab("'say \"h", keys=keys) == Completion('\'say "hi":', 10, ())
    assert tab('"say \\"h', keys=keys) == Completion('"say \\"hi\\":', 12, ())
    assert tab('"back\\\\', keys=keys) == Completion('"back\\\\slash:', 13, ())


def test_names_with_the_quote_are_escaped_when_inserted() -> None:
    keys = ['say "hi":y']
    assert tab('"say', keys=keys) == Completion('"say \\"hi\\":', 12, ())
    assert tab("'say", keys=keys) == Completion('\'say "hi":', 10, ())


def test_an_escape_a_key_cannot_hold_is_not_completed() -> None:
    assert tab('"cache\\n') is None
    assert tab('"cache\\') is None


def test_text_after_the_cursor_is_kept() -> None:
    text = 'State.set("progress:imp", 42)'
    assert tab(text, cursor=text.index('"', 11)) == Completion(
        'State.set("progress:import_job", 42)', 31, ()
    )
    text = 'State.get("cache:")'
    found = tab(text, cursor=17)
    assert found == Completion('State.get("cache:")', 17, ("cache:api_response:", "cache:session"))


def test_a_quote_in_a_comment_opens_nothing() -> None:
    assert tab("-- don't\nState.se") == Completion("-- don't\nState.set(", 19, ())
    assert tab('x = 1 -- "wor') is None
    assert tab('"a--b:', keys=["a--b:c"]) == Completion('"a--b:c"', 8, ())


def test_other_delimiters_are_honoured() -> None:
    keys = ["app::cache::x", "app::cache::y", "app::log", "app:solo"]
    found = complete('"app:', 5, functions=FUNCTIONS, keys=lookup(keys), delimiter="::")
    assert found == Completion('"app:', 5, ("app::", "app:solo"))
    found = complete('"app::', 6, functions=FUNCTIONS, keys=lookup(keys), delimiter="::")
    assert found == Completion('"app::', 6, ("app::cache::", "app::log"))
    found = complete('"app::c', 7, functions=FUNCTIONS, keys=lookup(keys), delimiter="/")
    assert found == Completion('"app::cache::', 13, ("app::cache::x", "app::cache::y"))


def test_keys_come_from_the_store() -> None:
    store = Store()
    for key in KEYS:
        store.set(key, 1, source="test")
    found = complete(
        'State.get("cache:',
        17,
        functions=FUNCTIONS,
        keys=lambda prefix: store.keys(prefix, sort=False),
    )
    assert found == Completion('State.get("cache:', 17, ("cache:api_response:", "cache:session"))


def next_level(key: str, prefix: str, delimiter: str) -> str:
    """The candidate `key` gives below `prefix`, the slow and obvious way."""
    start = 0
    while (at := key.find(delimiter, start)) >= 0:
        if at + len(delimiter) > len(prefix):
            return key[: at + len(delimiter)]
        start = at + len(delimiter)
    return key


@given(
    keys=st.sets(st.text("ab1:", min_size=1, max_size=8), max_size=40),
    prefix=st.text("ab1:", max_size=4),
    delimiter=st.sampled_from([":", "::", "b1"]),
)
def test_completion_agrees_with_the_obvious_way(
    keys: set[str], prefix: str, delimiter: str
) -> None:
    candidates = {next_level(key, prefix, delimiter) for key in keys if key.startswith(prefix)}
    found = complete(
        f'"{prefix}', len(prefix) + 1, functions=FUNCTIONS, keys=lookup(keys), delimiter=delimiter
    )
    if not candidates:
        assert found is None
        return
    (only,) = candidates if len(candidates) == 1 else ("",)
    if only and not only.endswith(delimiter):
        assert found == Completion(f'"{only}"', len(only) + 2, ())  # a whole key: closed
        return
    if candidates == {prefix}:
        assert found is None
        return
    assert found is not None
    shared = min(candidates)
    while not all(candidate.startswith(shared) for candidate in candidates):
        shared = shared[:-1]
    assert found == Completion(
        f'"{shared}',
        len(shared) + 1,
        tuple(sorted(candidates, key=natural_key)) if len(candidates) > 1 else (),
    )


def test_choices_are_capped_but_the_common_prefix_counts_every_key() -> None:
    keys = [f"user:{number}" for number in range(1234)] + ["user:zz"]
    found = tab('"user:', keys=keys)
    assert found is not None
    assert found.text == '"user:'
    assert len(found.choices) == MAX_CHOICES + 1
    assert found.choices[:3] == ("user:0", "user:1", "user:2")
    assert found.choices[MAX_CHOICES - 1] == "user:99"
    assert found.choices[-1] == "… 1,135 more"
    found = tab('"user:', keys=[f"user:item_{number}" for number in range(500)])
    assert found is not None
    assert found.text == '"user:item_'
    assert found.choices[-1] == "… 400 more"


def test_a_million_keys_complete_one_folder_at_a_time() -> None:
    flat = [f"cache:api_response:user_{number}" for number in range(1_000_000)]
    random.Random(1).shuffle(flat)  # the store gives its keys unsorted
    folders = [f"cache:user_{number % 1000}:field_{number // 1000}" for number in range(1_000_000)]
    cases = [
        (flat, '"cache:api_response:', '"cache:api_response:user_'),
        (flat, '"', '"cache:'),
        (folders, '"cache:', '"cache:user_'),
    ]
    for keys, text, expected in cases:
        found = complete(text, len(text), functions=FUNCTIONS, keys=always(keys))
        assert found is not None and found.text == expected
    found = complete('"cache:api_response:', 20, functions=FUNCTIONS, keys=always(flat))
    assert found is not None
    assert found.choices[:3] == (
        "cache:api_response:user_0",
        "cache:api_response:user_1",
        "cache:api_response:user_2",
    )
    assert found.choices[-2:] == ("cache:api_response:user_99", "… 999,900 more")


def test_nothing_is_completed_in_the_middle_of_a_name() -> None:
    keys = always(["cache:api:user_1"])
    assert complete('State.get("x")', len("State.ge"), functions=FUNCTIONS, keys=keys) is None
    text = 'State.get("cache:api:user_1")'
    assert complete(text, len('State.get("ca'), functions=FUNCTIONS, keys=keys) is None
    found = complete('State.get("ca")', len('State.get("ca'), functions=FUNCTIONS, keys=keys)
    assert found is not None and found.text == 'State.get("cache:")'


def test_the_one_key_calls_of_ttls_close_too_but_expire_leaves_room_for_seconds() -> None:
    status = "workflow:data_pipeline:status"
    assert tab('State.ttl("workflow:data_pipeline:sta') == Completion(
        f'State.ttl("{status}")', 42, ()
    )
    assert tab('State.persist("workflow:data_pipeline:sta') == Completion(
        f'State.persist("{status}")', 46, ()
    )
    assert tab('State.expire("workflow:data_pipeline:sta') == Completion(
        f'State.expire("{status}"', 44, ()
    )
