"""Lua ⇄ JSON conversion: one test per rule, and property-based round trips."""

from __future__ import annotations

import math
import threading
import time
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import Lua
from tui.lua import ScriptError
from tui.lua.cancel import CancelToken, ScriptCancelled
from tui.lua.convert import LuaConverter
from tui.state import Store


def stored(lua: Lua, expression: str) -> Any:
    lua.run(f'State.set("k", {expression})')
    return lua.store.get("k")


def test_scalars_convert_as_themselves(lua: Lua) -> None:
    assert stored(lua, "true") is True
    assert stored(lua, "false") is False
    assert stored(lua, '"text"') == "text"
    assert stored(lua, '"a\\0b"') == "a\x00b"
    assert stored(lua, '"ключ 🔑"') == "ключ 🔑"


def test_integers_stay_integers_with_all_64_bits(lua: Lua) -> None:
    assert stored(lua, "math.maxinteger") == 2**63 - 1
    assert stored(lua, "math.mininteger") == -(2**63)
    assert lua.run('print(State.get("k") == math.mininteger, math.type(State.get("k")))') == [
        "true\tinteger"
    ]


def test_floats_stay_floats(lua: Lua) -> None:
    value = stored(lua, "3.0")
    assert value == 3.0 and isinstance(value, float)
    assert lua.store.get_encoded("k") == b"3.0"
    assert lua.run('print(math.type(State.get("k")), State.get("k"))') == ["float\t3.0"]
    assert stored(lua, "0.1 + 0.2") == 0.1 + 0.2


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("0/0", "State.set: value is NaN; numbers must be finite"),
        ("math.huge", "State.set: value is infinite; numbers must be finite"),
        ("{x = -math.huge}", "State.set: value at x is infinite; numbers must be finite"),
        ("{1, {2, 0/0}}", "State.set: value at [2][2] is NaN; numbers must be finite"),
    ],
)
def test_nan_and_infinities_are_refused(lua: Lua, expression: str, message: str) -> None:
    assert lua.run(f'print(select(2, pcall(State.set, "k", {expression})))') == [message]
    assert not lua.store.exists("k")


def test_sequences_become_arrays(lua: Lua) -> None:
    assert stored(lua, "{1, 2, 3}") == [1, 2, 3]
    assert stored(lua, '{"a", {"b"}, {x = 1}}') == ["a", ["b"], {"x": 1}]


def test_empty_table_becomes_an_empty_object(lua: Lua) -> None:
    assert stored(lua, "{}") == {}
    assert lua.store.get_encoded("k") == b"{}"


def test_other_tables_become_objects_and_nothing_is_dropped(lua: Lua) -> None:
    assert stored(lua, '{[1] = "a", [3] = "c"}') == {"1": "a", "3": "c"}
    assert stored(lua, "{1, 2, x = 3}") == {"1": 1, "2": 2, "x": 3}
    assert stored(lua, '{[2] = "b"}') == {"2": "b"}
    assert stored(lua, '{[-1] = "m", [0] = "z"}') == {"-1": "m", "0": "z"}
    assert stored(lua, '{[2.5] = "half"}') == {"2.5": "half"}


def test_big_tables_take_the_careful_path_with_the_same_rules(lua: Lua) -> None:
    value = stored(lua, "{a=1, b=2, c=3, d=4, e=5, f=6, g=7, h=8, i=9, j={k=true}}")
    assert value == {**{c: i for i, c in enumerate("abcdefghi", 1)}, "j": {"k": True}}
    assert stored(lua, "{1,2,3,4,5,6,7,8,9,10}") == list(range(1, 11))


def test_a_table_read_back_is_a_fresh_copy(lua: Lua) -> None:
    lines = lua.run(
        """
        local t = {n = 1}
        State.set("k", t)
        t.n = 2
        local a = State.get("k")
        a.n = 3
        print(State.get("k").n)
        """
    )
    assert lines == ["1"]


def test_null_in_json_becomes_nil(lua: Lua, store: Store) -> None:
    store.set("k", {"a": None, "b": 1, "list": [1, None, 3]}, source="cli")
    assert lua.run('local v = State.get("k") print(v.a, v.b, v.list[1], v.list[2], v.list[3])') == [
        "nil\t1\t1\tnil\t3"
    ]


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        (
            "{config = {callback = print}}",
            "value at config.callback is a function; only nil, booleans, numbers, strings "
            "and tables can be stored",
        ),
        ("print", "value is a function"),
        ("coroutine.create(print)", "value is a coroutine"),
        ("{[true] = 1}", "value has a boolean key (true)"),
        ("{[{}] = 1}", "value has a table as a key"),
        ('{[1] = "a", ["1"] = "b"}', "value has both the key 1 and the key '1'"),
        ('{list = {1, "\\xff"}}', "value at list[2] is not valid UTF-8"),
        ('{cfg = {name = "\\xff"}}', "value at cfg.name is not valid UTF-8"),
        ('{cfg = {["\\xff"] = 1}}', "value at cfg has a key that is not valid UTF-8"),
        ('{a = 1, ["b\\xff"] = 2}', "value has a key that is not valid UTF-8"),
        ('"\\xff\\xfe"', "value is not valid UTF-8"),
        ("io.tmpfile()", "value is a file, which cannot be stored as JSON"),
    ],
)
def test_unstorable_values_raise_a_lua_error_naming_the_place(
    lua: Lua, expression: str, message: str
) -> None:
    lua.store.set("k", "before", source="cli")
    lines = lua.run(f'local ok, err = pcall(State.set, "k", {expression}) print(ok, err)')
    assert lines[0].startswith("false\tState.set: " + message)
    assert lua.store.get("k") == "before"


def test_cycles_are_refused(lua: Lua) -> None:
    lines = lua.run(
        """
        local t = {name = "loop"}
        t.self = t
        print(select(2, pcall(State.set, "k", {a = t})))
        """
    )
    assert lines == ["State.set: value at a.self refers back to value at a (a cycle)"]


def test_nesting_deeper_than_100_levels_is_refused(lua: Lua) -> None:
    lines = lua.run(
        """
        local function nest(n) local t = {} for _ = 1, n do t = {t} end return t end
        State.set("ok", nest(99))
        print(select(2, pcall(State.set, "deep", nest(100))))
        """
    )
    assert "is nested deeper than 100 levels" in lines[0]
    assert lua.store.exists("ok") and not lua.store.exists("deep")


def test_size_limit_applies_to_lua_values() -> None:
    lua = Lua(Store(max_value_bytes=1000))
    lines = lua.run('print(select(2, pcall(State.set, "k", string.rep("x", 2000))))')
    assert lines == [
        "State.set: value is 2 KiB (2,002 bytes) as JSON, over the limit of 1000 B (1,000 bytes)"
    ]
    assert not lua.store.exists("k")


def test_errors_point_at_the_calling_line(lua: Lua) -> None:
    with pytest.raises(ScriptError) as raised:
        lua.run('local x = 1\nState.set("k", {f = print})\n')
    assert raised.value.message.startswith("test.lua:2: State.set: value at f is a function")
    assert raised.value.line == 2


# -- property-based round trips -------------------------------------------------------

json_keys = st.text(min_size=1, max_size=8).filter(lambda s: not s.isdigit())
scalars = (
    st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, min_size=1, max_size=5) | st.dictionaries(json_keys, inner, max_size=5)
    ),
    max_leaves=20,
)


def same(a: Any, b: Any) -> bool:
    """Equal, with floats compared exactly and kept apart from integers."""
    if isinstance(a, float) or isinstance(b, float):
        return type(a) is type(b) and (a == b or (math.isnan(a) and math.isnan(b)))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(same, a, b))
    return type(a) is type(b) and a == b


@settings(max_examples=300, deadline=None)
@given(value=json_values)
def test_json_values_round_trip_through_lua(value: Any) -> None:
    store = Store()
    store.set("in", value, source="cli")
    Lua(store).run('State.set("out", State.get("in"))')
    assert same(store.get("out"), value)


@settings(max_examples=200, deadline=None)
@given(value=json_values)
def test_lua_tables_read_back_equal_what_was_stored(value: Any) -> None:
    store = Store()
    lua = Lua(store)
    runtime = lua.runtime._lua
    fresh = orjson.loads(orjson.dumps(value))
    runtime.globals().given = LuaConverter(runtime, 2**24).to_lua(fresh)
    lua.run('State.set("k", given) State.set("k2", State.get("k"))')
    assert same(store.get("k"), store.get("k2"))
    assert same(store.get("k"), value)


def test_depth_limit_holds_below_string_keys(lua: Lua) -> None:
    lines = lua.run(
        """
        local function nest(n) local t = {} local cur = t
          for _ = 1, n do cur.a = {} cur = cur.a end return t end
        State.set("ok", nest(99))
        print(select(2, pcall(State.set, "deep", nest(100))))
        """
    )
    assert "is nested deeper than 100 levels" in lines[0]
    assert not lua.store.exists("deep")


def test_shared_subtables_cannot_blow_up(lua: Lua) -> None:
    lines = lua.run(
        """
        local t = {}
        for _ = 1, 40 do t = {t, t} end
        print(select(2, pcall(State.set, "k", t)))
        """
    )
    assert lines == [
        "State.set: value is larger than the limit of 16 MiB (16,777,216 bytes) as JSON"
    ]
    assert not lua.store.exists("k")


def test_number_keys_are_named_as_lua_writes_them(lua: Lua) -> None:
    lines = lua.run('print(select(2, pcall(State.set, "k", {a = 1, [2] = print})))')
    assert lines[0].startswith("State.set: value at [2] is a function")


# -- huge tables: the size limit and a cancel come early -------------------------------

HUGE = "huge = {} for i = 1, 7e6 do huge[i] = i * 1.5 end"


def test_a_huge_table_meets_the_size_limit_early(lua: Lua) -> None:
    lua.run(HUGE)
    started = time.monotonic()
    lines = lua.run('print(pcall(State.set, "k", huge))')
    assert time.monotonic() - started < 2  # all 7 million items took 6 s
    assert lines[0].startswith(
        "false\tState.set: value is over the limit of 16 MiB (16,777,216 bytes) as JSON: its first "
    )


@pytest.mark.parametrize("call", ['State.set("k", huge)', 'State.set("k", {huge})'])
@pytest.mark.latency
def test_a_huge_conversion_stops_at_a_cancel(call: str) -> None:
    store = Store(max_value_bytes=2**40)  # no size limit to stop it: only the cancel
    token = CancelToken()
    lua = Lua(store, token=token)
    lua.run(HUGE)
    cancelled_at: list[float] = []

    def cancel() -> None:
        cancelled_at.append(time.monotonic())
        token.cancel()

    threading.Timer(0.2, cancel).start()
    with pytest.raises(ScriptCancelled):
        lua.run(call)
    assert cancelled_at, "the conversion ended before the cancel"
    assert time.monotonic() - cancelled_at[0] < 0.2
