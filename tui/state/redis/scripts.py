"""The server-side scripts of the Redis store: each change of the store is one script,
which Redis runs atomically, so a write, its revision and its record in the change
stream are one step for every client (see NOTES.md on Redis).

The namespace NS holds:

    NS:format      the layout's version (a newer stateui's is refused)
    NS:rev         the revision counter: every change takes the next number
    NS:v:KEY       the value of KEY, as plain JSON (readable with redis-cli)
    NS:meta        hash KEY -> [version, time, source, origin] as JSON
    NS:written     sorted set KEY -> version: the keys, in the order they were written
    NS:bytes       the bytes of every key and value
    NS:log         the change stream, entry id REVISION-0, trimmed to the history kept

Every script takes the namespace as ARGV[1]; it returns the change's revision, or an
error reply whose text the store passes on to the script (`the store is full: ...`).
"""

from __future__ import annotations

FORMAT = 1
"""The layout's version, kept in NS:format."""

_COMMON = """
local ns = ARGV[1]
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local function record(op, key, rev, time, source, origin, value, created, expires, maxlen)
  local fields = {'op', op, 'key', key, 'time', string.format('%.6f', time),
                  'source', source, 'origin', origin, 'created', created,
                  'expires', expires}
  if value then
    fields[#fields + 1] = 'value'
    fields[#fields + 1] = value
  end
  redis.call('XADD', ns .. ':log', 'MAXLEN', '~', maxlen, rev .. '-0', unpack(fields))
end
"""

SET = (
    _COMMON
    + """
-- ARGV: ns, key, value, source, origin, ttl ('' none, 'keep', or milliseconds),
--       history (the stream's length), expected version ('' any)
local key, value, source, origin = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local ttl, maxlen, expected = ARGV[6], tonumber(ARGV[7]), ARGV[8]
local vkey = ns .. ':v:' .. key
local old = redis.call('GET', vkey)
if expected ~= '' then
  local version = redis.call('ZSCORE', ns .. ':written', key)
  if not old then version = '0' end
  if tostring(tonumber(version or '0')) ~= expected then
    return 0
  end
end
local rev = redis.call('INCR', ns .. ':rev')
local time = now()
if ttl == '' then
  redis.call('SET', vkey, value)
elseif ttl == 'keep' then
  redis.call('SET', vkey, value, 'KEEPTTL')
else
  redis.call('SET', vkey, value, 'PX', ttl)
end
local left = redis.call('PTTL', vkey)
local expires = '0'
if left > 0 then expires = string.format('%.3f', time + left / 1000) end
redis.call('HSET', ns .. ':meta', key, cjson.encode({rev, time, source, origin}))
redis.call('ZADD', ns .. ':written', rev, key)
if old then
  redis.call('INCRBY', ns .. ':bytes', #value - #old)
else
  redis.call('INCRBY', ns .. ':bytes', #value + #key)
end
record('set', key, rev, time, source, origin, value, old and '0' or '1', expires, maxlen)
return rev
"""
)

DELETE = (
    _COMMON
    + """
-- ARGV: ns, key, source, origin, history, op ('delete', 'expire', 'evict'),
--       expected version ('' any)
local key, source, origin = ARGV[2], ARGV[3], ARGV[4]
local maxlen, op, expected = tonumber(ARGV[5]), ARGV[6], ARGV[7]
local vkey = ns .. ':v:' .. key
local old = redis.call('GET', vkey)
if expected ~= '' then
  local version = redis.call('ZSCORE', ns .. ':written', key)
  if not old then version = '0' end
  if tostring(tonumber(version or '0')) ~= expected then
    return 0
  end
end
if not old then
  return -1
end
local rev = redis.call('INCR', ns .. ':rev')
redis.call('DEL', vkey)
redis.call('HDEL', ns .. ':meta', key)
redis.call('ZREM', ns .. ':written', key)
redis.call('INCRBY', ns .. ':bytes', -(#old + #key))
record(op, key, rev, now(), source, origin, nil, '0', '0', maxlen)
return rev
"""
)
