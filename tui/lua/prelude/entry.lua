-- The stateui prelude, its entry points (see sandbox.lua for the parts and their
-- order): how Python runs a main chunk or a console line, compiles text, and names a
-- value. This last part returns them to Python.
local prelude = ...
local api, valid_text = prelude.api, prelude.valid_text
local raw_pcall, raw_xpcall, raw_load = prelude.raw_pcall, prelude.raw_xpcall, prelude.raw_load
local traceback, stand_ins, empty_stdin = prelude.traceback, prelude.stand_ins, prelude.empty_stdin
local relocate = prelude.relocate

local type, tostring, getmetatable = type, tostring, getmetatable
local utf8_len, format, pack = utf8.len, string.format, table.pack
local py_stopping = api.stopping

-- Running a main chunk: errors come back as text with a traceback. A stop (cancel,
-- os.exit) raised from Python comes back as it is, for Python to recognise.
local function on_error(err)
  local kind = type(err)
  if py_stopping() then
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
  return valid_text(traceback(relocate(err), 2))
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
