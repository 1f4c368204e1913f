"""Metatables behave as in plain Lua, although the tables Lua reads are never the script's.

The prelude turns each table given to setmetatable into a shell over a hidden real
table (see tui/lua/prelude/metatables.lua), so that no __call chain can loop inside
the VM. Each program below runs in stateui and in a plain Lua runtime, and both
must answer the same.
"""

from __future__ import annotations

import re

import pytest
from lupa.lua54 import LuaRuntime

from tests.conftest import Lua

CLASS = """
local Animal = {}
Animal.__index = Animal
function Animal.new(name) return setmetatable({name = name}, Animal) end
function Animal:speak() return self.name .. " makes a sound" end
local Dog = setmetatable({}, {__index = Animal})
Dog.__index = Dog
function Dog.new(name) return setmetatable(Animal.new(name), Dog) end
function Dog:speak() return self.name .. " barks" end
"""

PROGRAMS = {
    "a class": CLASS + "return Animal.new('cat'):speak()",
    "a class that inherits": CLASS
    + "local d = Dog.new('rex') return d:speak() .. Dog.new('a').new('b').name",
    "methods added after the first object": CLASS
    + "local a = Animal.new('x') function Animal:eat() return 'eats' end return a:eat()",
    "getmetatable finds the class": CLASS + "return tostring(getmetatable(Dog.new('x')) == Dog)"
    " .. tostring(getmetatable(Dog).__index == Animal)",
    "the raw functions see the contents": CLASS
    + "return tostring(rawget(Animal, '__index') == Animal) .. rawlen({})"
    " .. tostring(next(Animal) ~= nil)",
    "pairs over a class": CLASS
    + "local names = {} for k in pairs(Animal) do names[#names + 1] = k end table.sort(names)"
    " return table.concat(names, ',')",
    "a callable class": (
        "local C = setmetatable({}, {__call = function(cls, x) return x * 2 end}) return C(21)"
    ),
    "a __call replaced by another function": (
        "local mt = {__call = function() return 1 end} local x = setmetatable({}, mt)\n"
        "mt.__call = function() return 2 end return x()"
    ),
    "a __call added later": (
        "local mt = {} local x = setmetatable({}, mt)"
        " mt.__call = function() return 3 end return x()"
    ),
    "rawset on a metatable": (
        "local mt = {} local x = setmetatable({}, mt) rawset(mt, '__index', {a = 4}) return x.a"
    ),
    "an __index function sees the object": (
        "local mt = {} local o = setmetatable({}, mt)"
        " mt.__index = function(t, k) return tostring(t == o) .. k end return o.hi"
    ),
    "a metatable with its own metatable": (
        "local mt = {} local o = setmetatable({}, mt)"
        " setmetatable(mt, {__index = {inherited = 1}})"
        " return tostring(mt.inherited) .. tostring(o.inherited)"
    ),
    "an own __newindex": (
        "local log = {}"
        " local mt = setmetatable({}, {__newindex = function(t, k, v) log[#log + 1] = k end})"
        " setmetatable({}, mt) mt.a = 1 return #log .. tostring(rawget(mt, 'a'))"
    ),
    "a protected metatable": (
        "local P = setmetatable({}, {__metatable = 'locked'})"
        " return getmetatable(P) .. select(2, pcall(setmetatable, P, {}))"
    ),
    "operators": (
        "local V = {} V.__index = V\n"
        "V.__add = function(a, b) return setmetatable({x = a.x + b.x}, V) end\n"
        "V.__eq = function(a, b) return a.x == b.x end\n"
        "V.__lt = function(a, b) return a.x < b.x end\n"
        "V.__tostring = function(v) return 'V(' .. v.x .. ')' end\n"
        "V.__len = function() return 7 end V.__concat = function() return 'cat' end\n"
        "local a, b = setmetatable({x = 1}, V), setmetatable({x = 2}, V)\n"
        "return tostring(a + b) .. tostring(a == setmetatable({x = 1}, V)) .. tostring(a < b)"
        " .. #a .. (a .. b)"
    ),
    "__name in tostring": (
        "return (tostring(setmetatable({}, {__name = 'Thing'})):gsub(': .*', ''))"
    ),
    "a weak table": (
        "local w = setmetatable({}, {__mode = 'k'}) w[{}] = 1 collectgarbage()"
        " return tostring(next(w))"
    ),
    "__close": (
        "local log = ''"
        " do local c <close> = setmetatable({}, {__close = function() log = 'closed' end}) end"
        " return log"
    ),
    "a module as its own metatable": (
        "local M = {} M.__index = M setmetatable(M, M)"
        " return select(2, pcall(function() return M.x end))"
    ),
    "table functions on a metatable": (
        "local A = {1, 2, 3} setmetatable({}, A) table.insert(A, 4)"
        " table.sort(A, function(a, b) return a > b end)"
        " return #A .. table.concat(A, ',') .. select('#', table.unpack(A)) .. rawlen(A)"
    ),
    "the strings' metatable": (
        "local s = getmetatable('') return tostring(s.__index == string) .. ('x'):rep(2)"
    ),
    "ipairs over a metatable": (
        "local A = {'a', 'b'} setmetatable({}, A)"
        " local n = '' for _, v in ipairs(A) do n = n .. v end return n"
    ),
    "setmetatable to nil": (
        "local mt = {__index = {a = 1}} local o = setmetatable({}, mt)"
        " setmetatable(o, nil) return tostring(o.a) .. tostring(getmetatable(o))"
    ),
    "a class's own metatable removed": CLASS + "setmetatable(Dog, nil)"
    " return type(Dog.new) .. tostring(Dog.speak ~= nil) .. tostring(getmetatable(Dog))",
    "metamethods of the own metatable follow changes": (
        "local Meta = {} local Class = setmetatable({}, Meta) setmetatable({}, Class)\n"
        "Meta.__call = function() return 'called' end return Class()"
    ),
}


def _plain(program: str) -> str:
    return str(LuaRuntime().execute(program))


def _unplaced(line: str) -> str:
    """The line without the chunk and line number of an error (they differ)."""
    return re.sub(r'(test\.lua|\[string "<python>"\]):\d+: ', "", line)


@pytest.mark.parametrize("program", list(PROGRAMS.values()), ids=list(PROGRAMS))
def test_metatables_behave_as_in_plain_lua(lua: Lua, program: str) -> None:
    ours = lua.run(f"print((function()\n{program}\nend)())")
    assert [_unplaced(line) for line in ours] == [_unplaced(_plain(program))]


def test_a_class_can_be_stored(lua: Lua) -> None:
    # A table used as a metatable keeps its contents out of sight: State.set finds them.
    lines = lua.run(
        "local K = {a = 1, b = {c = 2}} setmetatable({}, K) State.set('k', K)\n"
        "local E = {} setmetatable({}, E) State.set('e', E)\n"
        "print(State.get('k').b.c, next(State.get('e')))\n"
        "local C = {} C.__index = C setmetatable({}, C) print(pcall(State.set, 'c', C))"
    )
    assert lines[0] == "2\tnil"
    assert "State.set: value at __index refers back to value (a cycle)" in lines[1]
    assert lua.store.get("k") == {"a": 1, "b": {"c": 2}}
