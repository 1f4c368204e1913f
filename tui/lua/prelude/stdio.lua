-- The stateui prelude, standard files (see sandbox.lua for the parts and their order):
-- print, io.write, and stand-ins for io.stdout, io.stderr and (under the inspector)
-- io.stdin, whose writes go to Python and whose reads find nothing.
local prelude = ...
local api, fail, raw_pcall = prelude.api, prelude.fail, prelude.raw_pcall

local type, tostring = type, tostring
local concat, utf8_len, format, byte = table.concat, utf8.len, string.format, string.byte
local py_write, py_write_err = api.write, api.write_err

-- Output: print formats like Lua's own; io.write writes without a newline.
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
if prelude.no_stdin then
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

-- For the parts that follow: what tells the stand-ins apart, and the text cleaner.
prelude.valid_text, prelude.stand_ins, prelude.empty_stdin = valid_text, stand_ins, empty_stdin
