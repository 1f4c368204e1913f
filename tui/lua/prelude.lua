-- The stateui prelude: runs once in every fresh runtime, before the script.
-- It installs the State API over the Python bridge, captures print and io.write,
-- adds sleep, and keeps the cancellation hook in force in every coroutine and
-- after every pcall. Returns the function that runs a script's main chunk.
local api, HOOK_COUNT, MODULE_DIRS, NO_STDIN = ...

local type, error, select, tostring, next = type, error, select, tostring, next
local concat, utf8_len, format, byte = table.concat, utf8.len, string.format, string.byte
local raw_pcall, raw_xpcall = pcall, xpcall
local raw_sethook, traceback = debug.sethook, debug.traceback
local co_create, co_resume, co_close = coroutine.create, coroutine.resume, coroutine.close
local raw_load, raw_loadfile = load, loadfile
local getinfo = debug.getinfo

-- With a memory cap, Python lifts it while it builds the Lua values a call returns
-- (running out of memory inside a Python callback would wedge the runtime), and
-- the cap is back in force the moment the call returns.
if api.relimit then
  local relimit, collect = api.relimit, collectgarbage
  local function relimited(...)
    -- Over the cap with what the call returned (after collecting garbage): the same
    -- error as any allocation over the cap.
    if relimit() then
      collect()
      if relimit() then
        error("not enough memory", 0)
      end
    end
    return ...
  end
  for _, name in ipairs(api.lifted) do
    local fn = api[name]
    api[name] = function(...)
      return relimited(fn(...))
    end
  end
end

local ERR, RETRY = api.ERR, api.RETRY
local py_set_pairs = api.set_pairs
local py_check, py_stopping = api.check, api.stopping
local py_write, py_write_err, py_sleep, py_exit = api.write, api.write_err, api.sleep, api.exit
local py_set, py_get, py_delete, py_list = api.set, api.get, api.delete, api.list
local py_exists, py_incr, py_clear = api.exists, api.incr, api.clear
local py_versioned, py_cas = api.versioned, api.cas

-- Raise `message` at the first frame outside this prelude: the script's line.
local function fail(message)
  local level = 2
  local info = getinfo(level, "S")
  while info and info.source == "=stateui" do
    level = level + 1
    info = getinfo(level, "S")
  end
  error(message, level)
end

-- No way into Python internals from Lua, and no native code: C modules and
-- package.loadlib could crash or take over the process.
python = nil
package.loaded.python = nil
package.cpath = ""
package.loadlib = nil

---------------------------------------------------------------------------
-- Cancellation: a count hook asks Python whether to stop. A stop raised inside
-- pcall, xpcall or a coroutine is caught there, so each of them asks again on
-- the way out, and new coroutines get the hook too.
---------------------------------------------------------------------------
local function hook()
  py_check()
end
raw_sethook(hook, "", HOOK_COUNT)

local function checked(...)
  py_check()
  return ...
end

function pcall(...)
  return checked(raw_pcall(...))
end

-- A stop raised from the hook runs the message handler with hooks off, so a
-- handler that loops could never be stopped: once stopping, it is skipped.
function xpcall(fn, handler, ...)
  if type(handler) == "function" then
    local user_handler = handler
    handler = function(err)
      if py_stopping() then
        return err
      end
      return user_handler(err)
    end
  end
  return checked(raw_xpcall(fn, handler, ...))
end

function coroutine.create(fn)
  local co = co_create(fn)
  raw_sethook(co, hook, "", HOOK_COUNT)
  return co
end

function coroutine.resume(co, ...)
  return checked(co_resume(co, ...))
end

local function wrap_results(co, ok, ...)
  py_check()
  if ok then
    return ...
  end
  co_close(co)
  error((...), 0)
end

function coroutine.wrap(fn)
  local co = coroutine.create(fn)
  return function(...)
    return wrap_results(co, co_resume(co, ...))
  end
end

function debug.sethook()
  error("debug.sethook is reserved: stateui uses the hook to stop scripts", 2)
end

-- Only text chunks: precompiled bytecode can crash the process. A stop raised in
-- a reader function is caught by load, so it asks again on the way out.
function load(chunk, name, _, ...)
  -- An env given as nil means "no globals"; an env left out means the usual ones.
  if select("#", ...) > 0 then
    return checked(raw_load(chunk, name, "t", ...))
  end
  return checked(raw_load(chunk, name, "t"))
end

function loadfile(name, _, ...)
  if select("#", ...) > 0 then
    return raw_loadfile(name, "t", ...)
  end
  return raw_loadfile(name, "t")
end

function dofile(name)
  local fn, err = loadfile(name)
  if not fn then
    error(err, 2)
  end
  return fn()
end

-- require: preloaded modules, then Lua files on package.path, as text only.
local search_path = package.searchpath
-- The module's file in the script's folder(s), or nil and the places looked at.
local function in_module_dir(name)
  local relative = name:gsub("%.", "/")
  local tried = {}
  for _, folder in ipairs(MODULE_DIRS) do
    for _, path in ipairs({ folder .. "/" .. relative .. ".lua", folder .. "/" .. relative .. "/init.lua" }) do
      local file = io.open(path, "rb")
      if file then
        file:close()
        return path, nil
      end
      tried[#tried + 1] = "no file '" .. path .. "'"
    end
  end
  return nil, #tried > 0 and concat(tried, "\n\t") or nil
end

-- Each module file is reported before it is loaded (even one that fails to compile):
-- a watcher reruns the script when one changes.
local py_module = api.module

package.searchers = {
  package.searchers[1],
  function(name)
    local path, tried = in_module_dir(name)
    if not path then
      local err
      path, err = search_path(name, package.path)
      if not path then
        return tried and (tried .. "\n\t" .. err) or err
      end
    end
    py_module(path)
    local fn, load_err = raw_loadfile(path, "t")
    if not fn then
      error(format("error loading module '%s' from file '%s':\n\t%s", name, path, load_err), 0)
    end
    return fn, path
  end,
}

function coroutine.close(co)
  py_check()
  return co_close(co)
end

-- Lua runs __gc finalizers with hooks off, so a looping finalizer could never be
-- stopped (not even at exit): objects with __gc are refused.
local raw_setmetatable = setmetatable
function setmetatable(t, mt)
  if type(mt) == "table" and rawget(mt, "__gc") ~= nil then
    fail("setmetatable: __gc finalizers are not supported (they cannot be stopped)")
  end
  return raw_setmetatable(t, mt)
end

-- The debug library could reach this prelude's private functions (getupvalue,
-- getlocal, getregistry): only the read-only parts that scripts use are kept.
debug = { traceback = traceback, getinfo = getinfo, sethook = debug.sethook }
package.loaded.debug = debug

---------------------------------------------------------------------------
-- Output: print formats like Lua's own; io.write writes without a newline.
---------------------------------------------------------------------------
local function valid_text(s)
  if utf8_len(s) then
    return s
  end
  -- Show each byte that is not valid UTF-8 as \xNN instead of failing.
  local out, pos = {}, 1
  while pos <= #s do
    local ok, bad = utf8_len(s, pos)
    if ok then
      out[#out + 1] = s:sub(pos)
      break
    end
    out[#out + 1] = s:sub(pos, bad - 1)
    out[#out + 1] = format("\\x%02X", byte(s, bad))
    pos = bad + 1
  end
  return concat(out)
end

local pack = table.pack

function print(...)
  local parts = pack(...)
  for i = 1, parts.n do
    parts[i] = tostring(parts[i])
  end
  py_write(valid_text(concat(parts, "\t", 1, parts.n)) .. "\n")
end

-- io.stdout and io.stderr are stand-ins whose writes are captured (stdout like
-- print's); io.output() can still be pointed at a real file, and io.write then
-- writes there.
local raw_output = io.output

-- Real files share one metatable whose __gc closes them: keep it out of reach, or a
-- script could swap in a finalizer that loops (finalizers run with hooks off).
getmetatable(io.stderr).__metatable = "FILE*"

local math_type = math.type

local function capture(writer, ...)
  local parts = pack(...)
  for i = 1, parts.n do
    local v = parts[i]
    local t = type(v)
    if t == "number" then
      -- As Lua's io.write: floats as %.14g (1.0 is written 1), integers as they are.
      parts[i] = math_type(v) == "float" and format("%.14g", v) or tostring(v)
    elseif t ~= "string" then
      fail(format("bad argument #%d to 'write' (string expected, got %s)", i, t))
    end
  end
  writer(valid_text(concat(parts, "", 1, parts.n)))
end

local stand_ins = {}

local function stand_in(name, writer)
  local file = {}
  function file.write(self, ...)
    if self ~= file then
      fail("bad argument #1 to 'write' (FILE* expected, got " .. type(self) .. ")")
    end
    capture(writer, ...)
    return file
  end
  function file.flush()
    return file
  end
  function file.setvbuf()
    return true
  end
  function file.close()
    return nil, "cannot close standard file"
  end
  function file.lines()
    fail("standard " .. (name == "stdout" and "output" or "error") .. " cannot be read")
  end
  function file.read()
    return nil, "Bad file descriptor", 9
  end
  function file.seek()
    return nil, "Illegal seek", 29
  end
  setmetatable(file, {
    __name = "FILE*",
    __metatable = "FILE*",
    __tostring = function() return "file (" .. name .. ")" end,
  })
  stand_ins[file] = writer
  return file
end

local stdout = stand_in("stdout", py_write)
io.stdout = stdout
io.stderr = stand_in("stderr", py_write_err)
local current_output = stdout

-- Under the inspector the terminal belongs to the app: standard input is then a
-- stand-in at end of file, so that no script waits on (or takes) the app's keys.
local empty_stdin
if NO_STDIN then
  -- Reads at end of file, as Lua's do: "a" gives "", any other format fails (nil)
  -- and ends the reading; an unknown format is an error.
  local function read_nothing(...)
    local formats = pack(...)
    if formats.n == 0 then
      return nil
    end
    local results = {}
    for i = 1, formats.n do
      local f = formats[i]
      local kind = type(f) == "string" and f:gsub("^%*", ""):sub(1, 1) or nil
      if kind == "a" then
        results[i] = ""
      elseif type(f) == "number" or kind == "l" or kind == "L" or kind == "n" then
        return table.unpack(results, 1, i)
      else
        fail(format("bad argument #%d to 'read' (invalid format)", i))
      end
    end
    return table.unpack(results, 1, formats.n)
  end
  empty_stdin = {}
  function empty_stdin.read(_, ...)
    return read_nothing(...)
  end
  function empty_stdin.lines()
    return function()
      return nil
    end
  end
  function empty_stdin.write()
    return nil, "Bad file descriptor", 9
  end
  function empty_stdin.seek()
    return nil, "Illegal seek", 29
  end
  function empty_stdin.close()
    return nil, "cannot close standard file"
  end
  function empty_stdin.flush()
    return empty_stdin
  end
  function empty_stdin.setvbuf()
    return true
  end
  setmetatable(empty_stdin, {
    __name = "FILE*",
    __metatable = "FILE*",
    __tostring = function() return "file (stdin)" end,
  })
  io.stdin = empty_stdin
  local raw_input, raw_read, raw_lines = io.input, io.read, io.lines
  local current_input = empty_stdin
  function io.input(file)
    if file == nil then
      return current_input
    end
    current_input = file == empty_stdin and file or raw_input(file)
    return current_input
  end
  function io.read(...)
    if current_input == empty_stdin then
      return read_nothing(...)
    end
    return raw_read(...)
  end
  function io.lines(filename, ...)
    if filename == nil and current_input == empty_stdin then
      return empty_stdin.lines()
    end
    return raw_lines(filename, ...)
  end
end

local raw_io_type = io.type
function io.type(obj)
  if stand_ins[obj] or (obj ~= nil and obj == empty_stdin) then
    return "file"
  end
  return raw_io_type(obj)
end

-- Call a method of a real file; its errors point at the script, not at stateui.
local function file_call(what, file, method, ...)
  local results = table.pack(raw_pcall(method, file, ...))
  if not results[1] then
    fail(what .. ": " .. tostring(results[2]))
  end
  return table.unpack(results, 2, results.n)
end

function io.write(...)
  local writer = stand_ins[current_output]
  if writer then
    capture(writer, ...)
    return current_output
  end
  return file_call("io.write", current_output, current_output.write, ...)
end

local raw_close, raw_flush = io.close, io.flush

function io.close(file)
  file = file == nil and current_output or file
  if stand_ins[file] or (file ~= nil and file == empty_stdin) then
    return nil, "cannot close standard file"
  end
  return file_call("io.close", file, raw_close)
end

function io.flush()
  if stand_ins[current_output] then
    return current_output
  end
  return file_call("io.flush", nil, raw_flush)
end

function io.output(file)
  if file == nil then
    return current_output
  end
  current_output = stand_ins[file] and file or file_call("io.output", file, raw_output)
  return current_output
end

---------------------------------------------------------------------------
-- sleep and os.exit go through Python, so that a cancel wakes them.
---------------------------------------------------------------------------
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

---------------------------------------------------------------------------
-- State: each function calls one Python function, which returns ERR and a message
-- instead of raising, so that the error points at the caller's line.
---------------------------------------------------------------------------
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
local function set_pairs(key, t)
  local k1, v1 = next(t)
  if k1 == nil then return py_set_pairs(key) end
  local k2, v2 = next(t, k1)
  if k2 == nil then return py_set_pairs(key, k1, v1) end
  local k3, v3 = next(t, k2)
  if k3 == nil then return py_set_pairs(key, k1, v1, k2, v2) end
  local k4, v4 = next(t, k3)
  if k4 == nil then return py_set_pairs(key, k1, v1, k2, v2, k3, v3) end
  local k5, v5 = next(t, k4)
  if k5 == nil then return py_set_pairs(key, k1, v1, k2, v2, k3, v3, k4, v4) end
  local k6, v6 = next(t, k5)
  if k6 == nil then return py_set_pairs(key, k1, v1, k2, v2, k3, v3, k4, v4, k5, v5) end
  local k7, v7 = next(t, k6)
  if k7 == nil then
    return py_set_pairs(key, k1, v1, k2, v2, k3, v3, k4, v4, k5, v5, k6, v6)
  end
  local k8, v8 = next(t, k7)
  if k8 == nil then
    return py_set_pairs(key, k1, v1, k2, v2, k3, v3, k4, v4, k5, v5, k6, v6, k7, v7)
  end
  if next(t, k8) == nil then
    return py_set_pairs(key, k1, v1, k2, v2, k3, v3, k4, v4, k5, v5, k6, v6, k7, v7, k8, v8)
  end
  return RETRY
end

State = {}

function State.set(key, value)
  if type(key) ~= "string" or not utf8_len(key) then
    check_key("State.set", "key", key)
  end
  local kind, ok, failed, message = type(value), true, nil, nil
  if kind == "table" then
    ok, failed, message = raw_pcall(set_pairs, key, value)
    if not ok then
      -- A string that is not UTF-8 cannot reach Python: the careful path names it.
      py_check()
    end
    if not ok or failed == RETRY then
      failed, message = py_set(key, value)
    end
  else
    if kind == "string" and not utf8_len(value) then
      fail("State.set: value is not valid UTF-8")
    end
    failed, message = py_set(key, value)
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
  return result(py_delete(key))
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
  return result(py_incr(key, by))
end

function State.clear(prefix)
  check_key("State.clear", "prefix", prefix)
  return result(py_clear(prefix))
end

-- Optimistic read-modify-write: fn runs outside any lock; when another writer
-- changed the key meanwhile, fn runs again on the newer value.
function State.update(key, fn)
  check_key("State.update", "key", key)
  if type(fn) ~= "function" then
    fail("State.update: second argument must be a function, got " .. type(fn))
  end
  while true do
    local old, version = py_versioned(key)
    if old == ERR then
      fail(version)
    end
    local new = fn(old)
    check_text("State.update", "the new value", new)
    if result(py_cas(key, new, version)) then
      return new
    end
  end
end

---------------------------------------------------------------------------
-- Running a main chunk: errors come back as text with a traceback. A stop (cancel,
-- os.exit) raised from Python comes back as it is, for Python to recognise.
---------------------------------------------------------------------------
local function on_error(err)
  local kind = type(err)
  if kind == "userdata" and py_stopping() then
    return err
  end
  if kind ~= "string" then
    local meta = getmetatable(err)
    if kind == "userdata" or (type(meta) == "table" and meta.__tostring) then
      local ok, text = raw_pcall(tostring, err)
      err = ok and type(text) == "string" and text or "(error object is a " .. kind .. " value)"
    else
      err = "(error object is a " .. kind .. " value)"
    end
  end
  return valid_text(traceback(err, 2))
end

local function run(fn, ...)
  local ok, err = raw_xpcall(fn, on_error, ...)
  if ok then
    return nil
  end
  return err
end

-- Like run, for the console: nil and the chunk's results (packed), or the error.
-- An expression's chunk mostly packs its values itself (see LuaStateRuntime.evaluate);
-- a statement's returns them.
-- A string that is not UTF-8 cannot reach Python: its bad bytes are shown as \xNN.
local function finish(packed, ok, ...)
  if not ok then
    return (...), nil
  end
  local results = packed and ... or pack(...)
  for i = 1, results.n do
    local v = results[i]
    if type(v) == "string" and not utf8_len(v) then
      results[i] = valid_text(v)
    end
  end
  return nil, results
end

local function evaluate(fn, packed)
  return finish(packed, raw_xpcall(fn, on_error, pack))
end

-- Compiles a chunk as text; returns the function, or nil and a printable message.
local function compile(text, chunkname)
  local fn, err = raw_load(text, chunkname, "t")
  if fn then
    return fn, ""
  end
  return nil, valid_text(err)
end

-- How the console names a value that is not JSON, without running any of the
-- script's code (a __tostring metamethod could loop or fail).
local function describe(v)
  local kind = type(v)
  if kind == "number" or kind == "boolean" or kind == "nil" then
    return tostring(v)
  end
  if stand_ins[v] or (v ~= nil and v == empty_stdin) then
    return tostring(v)  -- our own __tostring: file (stdout)
  end
  return kind .. ": " .. format("%p", v)
end

return { run = run, evaluate = evaluate, compile = compile, describe = describe }
