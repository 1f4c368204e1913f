-- The stateui prelude runs in every fresh runtime, before the script: its parts, in
-- the order runtime.py's PRELUDE gives, are sandbox.lua, metatables.lua, stdio.lua,
-- state.lua and entry.lua. Each part receives the table `prelude`: what Python hands over (api,
-- hook_count, module_dirs, no_stdin), and what the parts before it left there.
--
-- The sandbox: the memory cap around calls into Python, no way out to Python or
-- native code, the cancellation hook kept in force in every coroutine and after
-- every pcall, text-only load and require, and a read-only debug library.
local prelude = ...
local api, HOOK_COUNT, MODULE_DIRS = prelude.api, prelude.hook_count, prelude.module_dirs

local type, error, select = type, error, select
local concat, format = table.concat, string.format
local raw_pcall, raw_xpcall = pcall, xpcall
local raw_sethook, traceback = debug.sethook, debug.traceback
local co_create, co_resume, co_close = coroutine.create, coroutine.resume, coroutine.close
local raw_load, raw_loadfile = load, loadfile
local getinfo = debug.getinfo
local tostring, getmetatable = tostring, getmetatable

-- Python objects are userdata that share one metatable: out of the script's reach,
-- or it could replace their __call (swallowing the cancellation check), __index or
-- __gc (a finalizer that loops for ever).
getmetatable(api.check).__metatable = "Python object"

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

-- What a stop (a cancel, os.exit) raises in Lua: Python recognises the stop by its
-- token, never by the error value.
local STOPPED = "stateui: the run was stopped"
local raw_stopping = api.stopping

-- No error raised in Python may reach the script as a Python object: each call into
-- Python is guarded, and what it raised becomes text (a stop becomes STOPPED).
local function settle(what, ok, ...)
  if ok then
    return ...
  end
  local err = ...
  local asked, stopping = raw_pcall(raw_stopping)
  if not asked or stopping then
    error(STOPPED, 0)
  end
  if type(err) == "string" then
    -- Lua's own error on the way in (a stack overflow): the script's, not Python's.
    fail((err:gsub("^stateui:%d+: ", "")))
  end
  local done, text = raw_pcall(tostring, err)
  err = done and type(text) == "string" and text or "an error in stateui"
  fail(what .. ": " .. err)
end

local GUARDED = {
  check = "stateui", stopping = "stateui", relimit = "stateui",
  write = "cannot write the output", write_err = "cannot write to standard error",
  module = "require", exit = "os.exit", sleep = "sleep",
}
for name, fn in pairs(api) do
  if type(fn) == "userdata" then
    local what = GUARDED[name] or ("State." .. name)
    api[name] = function(...)
      return settle(what, raw_pcall(fn, ...))
    end
  end
end

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

local py_stopping = api.stopping

local function py_check()
  if py_stopping() then
    error(STOPPED, 0)
  end
end
api.check = py_check

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
  if py_stopping() then
    error(STOPPED, 0)
  end
end
raw_sethook(hook, "", HOOK_COUNT)

-- The hook counts VM instructions, and a call of a C library function is one of
-- them however long it takes: `while true do s:gsub("a", "b") end` on a 10 MB string
-- would run for minutes between two checks. So a library call on a large string or
-- table (or one that builds a large string) asks first.
local LARGE = 65536
-- Each wrapper calls the function by its own name, which Lua's "bad argument #1 to
-- 'NAME'" messages take from the calling line.
local WRAPPER = [[
local %s, hook, type, rawlen = ...
return function(...)
  local v = ...
  if type(v) == "string" then
    if #v > %d then
      hook()
    end
  elseif type(v) == "table" and rawlen(v) > %d then
    hook()
  end
  return %s(...)
end
]]
-- Cheap whatever the size: no check (rep has its own, below).
local CHEAP = { len = true, byte = true, char = true, pack = true, rep = true }
for _, library in ipairs({ string, table, utf8 }) do
  for name, fn in pairs(library) do
    if type(fn) == "function" and not CHEAP[name] then
      library[name] = raw_load(format(WRAPPER, name, LARGE, LARGE // 16, name), "=stateui", "t")(fn, hook, type, rawlen)
    end
  end
end
do
  local rep = string.rep
  function string.rep(s, n, ...)
    if type(s) == "string" and type(n) == "number" and #s * n > LARGE then
      hook()
    end
    return rep(s, n, ...)
  end
end

-- An error raised in a C function that this prelude wraps, or in the prelude itself,
-- names stateui's line: it is made to name the script's line instead (the first
-- frame outside this prelude), or no line when there is none.
local str_find, str_sub = string.find, string.sub
local function relocate(err)
  if type(err) ~= "string" or str_find(err, "stateui:", 1, true) ~= 1 then
    return err
  end
  local _, stop = str_find(err, "^stateui:%d+: ")
  if not stop then
    return err
  end
  local level, where = 2, ""
  local info = getinfo(level, "Sl")
  while info do
    if info.source ~= "=stateui" and info.currentline > 0 then
      where = info.short_src .. ":" .. info.currentline .. ": "
      break
    end
    level = level + 1
    info = getinfo(level, "Sl")
  end
  return where .. str_sub(err, stop + 1)
end

local function relocated(ok, ...)
  if ok then
    return ok, ...
  end
  if select("#", ...) == 0 then
    return ok
  end
  return ok, relocate((...)), select(2, ...)
end

local function checked(...)
  py_check()
  return relocated(...)
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

local co_status = coroutine.status
local function wrap_results(co, ok, ...)
  py_check()
  if ok then
    return ...
  end
  -- As Lua's own wrap: only a coroutine that failed is closed (one still running,
  -- resumed from inside itself, cannot be, and its error is the one to tell).
  if co_status(co) == "dead" then
    co_close(co)
  end
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
    -- A path that is not UTF-8 cannot be handed to Python as text: as its bytes.
    py_module(utf8.len(path) and path or { string.byte(path, 1, -1) })
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

-- The debug library could reach this prelude's private functions (getupvalue,
-- getlocal, getregistry): only the read-only parts that scripts use are kept.
prelude.raw_getmetatable = debug.getmetatable
debug = { traceback = traceback, getinfo = getinfo, sethook = debug.sethook }
package.loaded.debug = debug

-- For the parts that follow: `fail`, and the originals this part replaced (and the
-- raw getmetatable, which metatables.lua needs).
prelude.fail = fail
prelude.getinfo = getinfo
prelude.raw_pcall, prelude.raw_xpcall, prelude.raw_load = raw_pcall, raw_xpcall, raw_load
prelude.traceback, prelude.relocate = traceback, relocate
