-- The stateui prelude, the State API (see sandbox.lua for the parts and their order):
-- State itself over the Python bridge, and sleep and os.exit, which go through Python
-- so that a cancel wakes them.
local prelude = ...
local api, fail, raw_pcall = prelude.api, prelude.fail, prelude.raw_pcall

local type, next, utf8_len = type, prelude.raw_next, utf8.len
local real_of = prelude.real_of
local ERR, RETRY = api.ERR, api.RETRY
local py_check, py_set_pairs = api.check, api.set_pairs
local py_sleep, py_exit = api.sleep, api.exit
local py_set, py_get, py_delete, py_list = api.set, api.get, api.delete, api.list
local py_exists, py_incr, py_clear = api.exists, api.incr, api.clear
local py_versioned, py_cas = api.versioned, api.cas
local py_expire, py_persist, py_ttl = api.expire, api.persist, api.ttl
local py_wait, py_revision = api.wait, api.revision
local getinfo, py_file_number = prelude.getinfo, api.file_number
local math_type, tostring = math.type, tostring

-- Where a write is made, as one number for Python (see tui/lua/origins.py): the
-- number of the calling function's file, once per function, with the line.
local file_of = setmetatable({}, { __mode = "k" })

local function place_of(info, level)
  -- A frame with no file (a C function such as pcall, this prelude, the console's
  -- chunks) hands over to its caller, a few levels up at most.
  for _ = 1, 4 do
    local fn = info.func
    local file = file_of[fn]
    if not file then
      file = py_file_number(getinfo(fn, "S").source)
      file_of[fn] = file
    end
    local line = info.currentline
    if file ~= 0 and line > 0 then
      return file | line
    end
    level = level + 1
    info = getinfo(level, "fl")
    if not info then
      return 0
    end
  end
  return 0
end

-- The place of the script's call to the State function calling this.
local function here()
  return place_of(getinfo(3, "fl"), 3)
end

-- sleep and os.exit go through Python, so that a cancel wakes them.
function sleep(seconds)
  if type(seconds) ~= "number" then
    fail("sleep: seconds must be a number, got " .. type(seconds))
  end
  local failed, message = py_sleep(seconds)
  if failed == ERR then
    fail(message)
  end
end

function os.exit(code)
  local status = 0
  if code == false then
    status = 1
  elseif code ~= nil and code ~= true then
    status = math.tointeger(tonumber(code))
    if not status then
      fail("bad argument #1 to 'exit' (number has no integer representation)")
    end
  end
  py_exit(status)
end

-- State: each function calls one Python function, which returns ERR and a message
-- instead of raising, so that the error points at the caller's line.
local function check_key(name, what, key)
  local kind = type(key)
  if kind ~= "string" then
    fail(name .. ": " .. what .. " must be a string, got " .. kind)
  end
  if not utf8_len(key) then
    fail(name .. ": " .. what .. " is not valid UTF-8")
  end
end

local function check_text(name, what, s)
  if type(s) == "string" and not utf8_len(s) then
    fail(name .. ": " .. what .. " is not valid UTF-8")
  end
end

local function result(value, message)
  if value == ERR then
    fail(message)
  end
  return value
end

-- Handing a small table to Python as key, value, key, value... is several times
-- faster than Python iterating the table. Unrolled up to 8 pairs.
local function set_pairs(key, place, t)
  local k1, v1 = next(t)
  if k1 == nil then
    -- A table used as a metatable keeps its contents elsewhere (see metatables.lua).
    if real_of[t] then return RETRY end
    return py_set_pairs(key, place)
  end
  local k2, v2 = next(t, k1)
  if k2 == nil then return py_set_pairs(key, place, k1, v1) end
  local k3, v3 = next(t, k2)
  if k3 == nil then return py_set_pairs(key, place, k1, v1, k2, v2) end
  local k4, v4 = next(t, k3)
  if k4 == nil then return py_set_pairs(key, place, k1, v1, k2, v2, k3, v3) end
  local k5, v5 = next(t, k4)
  if k5 == nil then return py_set_pairs(key, place, k1, v1, k2, v2, k3, v3, k4, v4) end
  local k6, v6 = next(t, k5)
  if k6 == nil then
    return py_set_pairs(key, place, k1, v1, k2, v2, k3, v3, k4, v4, k5, v5)
  end
  local k7, v7 = next(t, k6)
  if k7 == nil then
    return py_set_pairs(key, place, k1, v1, k2, v2, k3, v3, k4, v4, k5, v5, k6, v6)
  end
  local k8, v8 = next(t, k7)
  if k8 == nil then
    return py_set_pairs(key, place, k1, v1, k2, v2, k3, v3, k4, v4, k5, v5, k6, v6, k7, v7)
  end
  if next(t, k8) == nil then
    return py_set_pairs(
      key, place, k1, v1, k2, v2, k3, v3, k4, v4, k5, v5, k6, v6, k7, v7, k8, v8
    )
  end
  return RETRY
end

State = {}

-- The options of State.set: {ttl = seconds}. Returns the ttl (nil for none).
local function ttl_option(options)
  if type(options) ~= "table" then
    fail("State.set: options must be a table such as {ttl = 60}, got " .. type(options))
  end
  for name in next, options do
    if name ~= "ttl" then
      fail("State.set: unknown option " .. tostring(name) .. " (the options are: ttl)")
    end
  end
  local ttl = options.ttl
  if ttl ~= nil and type(ttl) ~= "number" then
    fail("State.set: ttl must be a number of seconds, got " .. type(ttl))
  end
  return ttl
end

function State.set(key, value, options)
  if type(key) ~= "string" or not utf8_len(key) then
    check_key("State.set", "key", key)
  end
  local kind, ok, failed, message = type(value), true, nil, nil
  -- place_of's common case inline: a known function of a script file.
  local info = getinfo(2, "fl")
  local file, line = file_of[info.func], info.currentline
  local place = (file and file ~= 0 and line > 0) and (file | line) or place_of(info, 2)
  if options ~= nil then
    -- With a TTL: the careful path, which takes it.
    local ttl = ttl_option(options)
    if kind == "string" and not utf8_len(value) then
      fail("State.set: value is not valid UTF-8")
    end
    return result(py_set(key, value, place, ttl))
  end
  if kind == "table" then
    ok, failed, message = raw_pcall(set_pairs, key, place, value)
    if not ok then
      -- A string that is not UTF-8 cannot reach Python: the careful path names it.
      py_check()
    end
    if not ok or failed == RETRY then
      failed, message = py_set(key, value, place)
    end
  else
    if kind == "string" and not utf8_len(value) then
      fail("State.set: value is not valid UTF-8")
    end
    failed, message = py_set(key, value, place)
  end
  if failed == ERR then
    fail(message)
  end
end

function State.get(key)
  if type(key) ~= "string" or not utf8_len(key) then
    check_key("State.get", "key", key)
  end
  return result(py_get(key))
end

function State.delete(key)
  check_key("State.delete", "key", key)
  return result(py_delete(key, here()))
end

function State.list(prefix)
  if prefix ~= nil then
    check_key("State.list", "prefix", prefix)
  end
  return result(py_list(prefix))
end

function State.exists(key)
  check_key("State.exists", "key", key)
  return result(py_exists(key))
end

function State.incr(key, by)
  check_key("State.incr", "key", key)
  if by ~= nil and type(by) ~= "number" then
    fail("State.incr: increment must be a number, got " .. type(by))
  end
  return result(py_incr(key, by, here()))
end

function State.clear(prefix)
  check_key("State.clear", "prefix", prefix)
  return result(py_clear(prefix, here()))
end

function State.expire(key, seconds)
  check_key("State.expire", "key", key)
  if type(seconds) ~= "number" then
    fail("State.expire: seconds must be a number, got " .. type(seconds))
  end
  return result(py_expire(key, seconds, here()))
end

function State.persist(key)
  check_key("State.persist", "key", key)
  return result(py_persist(key, here()))
end

function State.ttl(key)
  check_key("State.ttl", "key", key)
  return result(py_ttl(key))
end

function State.revision()
  return py_revision()
end

-- Blocks until a key matching pattern changes (or, with after, has changed since that
-- revision); nil when timeout seconds pass first.
function State.wait(pattern, timeout, after)
  check_key("State.wait", "pattern", pattern)
  if timeout ~= nil and type(timeout) ~= "number" then
    fail("State.wait: timeout must be a number of seconds, got " .. type(timeout))
  end
  if after ~= nil and math_type(after) ~= "integer" then
    fail("State.wait: after must be a revision (an integer), got "
      .. (math_type(after) or type(after)))
  end
  return result(py_wait(pattern, timeout, after))
end

-- Optimistic read-modify-write: fn runs outside any lock; when another writer
-- changed the key meanwhile, fn runs again on the newer value.
function State.update(key, fn)
  check_key("State.update", "key", key)
  if type(fn) ~= "function" then
    fail("State.update: second argument must be a function, got " .. type(fn))
  end
  local place = here()
  while true do
    local old, version = py_versioned(key)
    if old == ERR then
      fail(version)
    end
    local new = fn(old)
    check_text("State.update", "the new value", new)
    if result(py_cas(key, new, version, place)) then
      return new
    end
  end
end
