-- Metatables the script cannot turn against the cancellation hook.
--
-- Lua follows a __call that is not a function (a table or a string with a __call of
-- its own) inside one step of its VM: a chain that loops back spins for ever, unseen
-- by the hook, and no check at assignment can catch it, because a script assigns to
-- a key its metatable already holds without any metamethod being asked. So the
-- tables Lua reads metamethods from are never the script's:
--
--   * The table a script passes to setmetatable becomes a *shell*: its contents move
--     to a hidden *real* table, which is what objects get as their metatable. The
--     shell reads and writes through to the real table, so the script sees no
--     difference (rawget, rawset, rawlen, next, pairs and # included), and every
--     write passes the check: a __call must be a function.
--   * A shell that has a metatable of its own (a class that inherits) keeps it: its
--     own metatable's metamethods are copied onto the shell's, and copied again when
--     they change.
--   * getmetatable answers with the shell, never the real table; the strings' shared
--     metatable is a shell too.
--
-- Objects with __gc are refused besides (in setmetatable, and as an assignment to a
-- metatable): Lua runs finalizers with hooks off, so a looping finalizer could never
-- be stopped, not even at exit.
local prelude = ...
local fail, raw_load = prelude.fail, prelude.raw_load
local raw_getmetatable = prelude.raw_getmetatable -- debug.getmetatable: no __metatable

local raw_setmetatable, raw_rawget, raw_rawset, raw_rawlen, raw_next =
  setmetatable, rawget, rawset, rawlen, next
local type, select, format = type, select, string.format

local function weak()
  return raw_setmetatable({}, { __mode = "k" })
end

local real_of = weak() -- shell -> its real table
local shell_of = weak() -- real table -> its shell
local own_of = weak() -- shell -> the shell that is its own metatable, if any
local heirs = weak() -- shell -> set of the shells it is the own metatable of

local function check_call(value, what)
  if value ~= nil and type(value) ~= "function" then
    fail(format("%s__call must be a function, got %s", what, type(value)))
  end
end

local function check_metatable(real)
  if raw_rawget(real, "__gc") ~= nil then
    fail("setmetatable: __gc finalizers are not supported (they cannot be stopped)")
  end
  check_call(raw_rawget(real, "__call"), "setmetatable: ")
end

local dress

-- A change to a shell's contents: the shells that have it as their own metatable
-- copy its metamethods again (a rare event: classes change while they are built).
local function changed(shell, key)
  local set = heirs[shell]
  if set and type(key) == "string" and key:sub(1, 2) == "__" then
    for heir in raw_next, set do
      dress(heir, shell)
    end
  end
end

local function write(shell, real, key, value)
  if key == "__call" then
    check_call(value, "a metatable's ")
  elseif key == "__gc" and value ~= nil then
    fail("__gc finalizers are not supported (they cannot be stopped)")
  end
  raw_rawset(real, key, value)
  changed(shell, key)
end

-- Gives `shell` its raw metatable: reads and writes through to its real table, and
-- the metamethods of `own` (a shell, or nil) for the shell as an object.
function dress(shell, own)
  local real = real_of[shell]
  local previous = own_of[shell]
  if previous and previous ~= own then
    heirs[previous][shell] = nil
  end
  own_of[shell] = own
  local meta, inherited, assign = {}, nil, nil
  if own then
    local own_real = real_of[own]
    for key, value in raw_next, own_real do
      meta[key] = value
    end
    inherited, assign = own_real.__index, own_real.__newindex
    heirs[own] = heirs[own] or weak()
    heirs[own][shell] = true
  end
  meta.__metatable = nil -- getmetatable and setmetatable answer for it

  -- Reads: the real table first, then what the own metatable's __index gives. A
  -- function is called with the shell (the real table never reaches the script).
  if type(inherited) == "function" then
    raw_setmetatable(real, nil)
    meta.__index = function(_, key)
      local value = raw_rawget(real, key)
      if value ~= nil then
        return value
      end
      return inherited(shell, key)
    end
  else
    raw_setmetatable(real, inherited ~= nil and { __index = inherited } or nil)
    meta.__index = real
  end

  -- Writes: an existing key, or no own __newindex, writes the real table.
  meta.__newindex = function(_, key, value)
    if assign == nil or raw_rawget(real, key) ~= nil then
      write(shell, real, key, value)
    elseif type(assign) == "function" then
      assign(shell, key, value)
    else
      assign[key] = value
    end
  end
  meta.__pairs = meta.__pairs or function()
    return raw_next, real, nil
  end
  meta.__len = meta.__len or function()
    return raw_rawlen(real)
  end
  raw_setmetatable(shell, meta)
end

-- The real table for `t`, which is about to be a metatable: `t` becomes a shell.
local function manage(t)
  local real = real_of[t]
  if real then
    return real
  end
  real = {}
  for key, value in raw_next, t do
    real[key] = value
  end
  check_metatable(real)
  for key in raw_next, real do
    raw_rawset(t, key, nil)
  end
  -- An object already (a class that inherits): its metatable is a real table.
  local current = raw_getmetatable(t)
  real_of[t], shell_of[real] = real, t
  dress(t, current and shell_of[current])
  return real
end

-- The metatable as the script sees it, or its __metatable field.
local function visible(real)
  local protected = raw_rawget(real, "__metatable")
  if protected ~= nil then
    return protected
  end
  return shell_of[real] or real
end

local function own_real(t)
  if real_of[t] then
    local own = own_of[t]
    return own and real_of[own]
  end
  return raw_getmetatable(t)
end

function getmetatable(...)
  if select("#", ...) == 0 then
    fail("bad argument #1 to 'getmetatable' (value expected)")
  end
  local v = ...
  local real = type(v) == "table" and own_real(v) or raw_getmetatable(v)
  if real == nil then
    return nil
  end
  return visible(real)
end

local function set(t, mt, count)
  if type(t) ~= "table" then
    local kind = count == 0 and "no value" or type(t)
    fail("bad argument #1 to 'setmetatable' (table expected, got " .. kind .. ")")
  end
  if mt ~= nil and type(mt) ~= "table" then
    fail("bad argument #2 to 'setmetatable' (nil or table expected)")
  end
  local current = own_real(t)
  if current and raw_rawget(current, "__metatable") ~= nil then
    fail("cannot change a protected metatable")
  end
  local real = mt and manage(mt)
  if real_of[t] then
    dress(t, mt)
  else
    raw_setmetatable(t, real)
  end
  return t
end

function setmetatable(...)
  local t, mt = ...
  -- The usual case first: a new object of a class already in use.
  local real = real_of[mt]
  if real and type(t) == "table" and raw_getmetatable(t) == nil and not real_of[t] then
    return raw_setmetatable(t, real)
  end
  return set(t, mt, select("#", ...))
end

-- The raw functions see a shell's contents. Each wrapper calls the original by its
-- own name, which Lua's "bad argument #1 to 'NAME'" messages take from the call.
local THROUGH = [[
local %s, real_of = ...
return function(t, ...)
  return %s(real_of[t] or t, ...)
end
]]
for _, name in ipairs({ "rawget", "rawlen", "next" }) do
  _G[name] = raw_load(format(THROUGH, name, name), "=stateui", "t")(_G[name], real_of)
end

local RAWSET = [[
local rawset, real_of, write = ...
return function(t, key, value)
  local real = real_of[t]
  if real == nil then
    return rawset(t, key, value)
  end
  rawset(real, key, value) -- Lua's own checks of the key (nil, NaN)
  write(t, real, key, value)
  return t
end
]]
rawset = raw_load(RAWSET, "=stateui", "t")(raw_rawset, real_of, write)

-- The strings' shared metatable: a shell like any other.
do
  local strings = raw_getmetatable("")
  check_metatable(strings)
  local shell = {}
  real_of[shell], shell_of[strings] = strings, shell
  dress(shell, nil)
end

-- For the conversion to JSON, which reads a shell's contents.
prelude.real_of, prelude.raw_next = real_of, raw_next
