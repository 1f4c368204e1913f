"""The server-side scripts of the Redis store: each change of the store is one script,
which Redis runs atomically, so a write, its revision and its record in the change
stream are one step for every client (see NOTES.md on Redis).

The namespace NS holds:

    NS:format      the layout's version (a newer stateui's is refused)
    NS:id          a mark made by the first process to open the namespace: a server
                   that came back without its data is told by its absence
    NS:rev         the revision counter: every change takes the next number
    NS:v:KEY       the value of KEY, as plain JSON (readable with redis-cli), with
                   Redis's own TTL when it has one
    NS:meta        hash KEY -> [version, time, source, origin, size] as JSON
    NS:names       sorted set of the keys, all scored 0: in key order, so that the keys
                   under a prefix are one range (ZRANGEBYLEX), read in batches
    NS:written     sorted set KEY -> version: the keys, in the order they were written
    NS:expiring    sorted set KEY -> when it expires (ms since the epoch)
    NS:bytes       the bytes of every key and value
    NS:settings    hash max_keys, max_bytes, when_full (the limits; none: no limits), and
                   history (the versions of each key kept, which sets the stream's length)
    NS:log         the change stream, entry id REVISION-0, trimmed to the history kept
                   (see `stream_length`): it is the feed every process follows, and the
                   history each key's versions and time travel are read from

Redis removes a value whose TTL ran out by itself, exactly at its time for every
reader; the sweep (EXPIRE_DUE, which any process runs) then records the removal in the
stream and drops the key's meta. A write to such a key records it first.

Every script takes the namespace as ARGV[1]; it returns the change's revision.
"""

from __future__ import annotations

FORMAT = 1
"""The layout's version, kept in NS:format."""

OWN_KEYS = ("rev", "meta", "names", "written", "expiring", "bytes", "settings", "log", "id")
"""The keys of the namespace besides the values (NS:v:KEY) and NS:format."""

STREAM_FLOOR = 10_000
STREAM_PER_VERSION = 100


def stream_length(history: int) -> int:
    """The changes the stream keeps for `history` versions a key: 100 changes a version
    kept, and never fewer than 10,000 (a follower a little behind catches up from it,
    also when no history is kept). The stream is one log of every key, so a key written
    rarely among many written often has fewer of its versions in it."""
    return max(STREAM_FLOOR, history * STREAM_PER_VERSION)


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
  redis.call('XADD', ns .. ':log', rev .. '-0', unpack(fields))
  -- Trimmed every 100 changes rather than on each: trimming costs as much as a write.
  if rev % 100 == 0 then
    redis.call('XTRIM', ns .. ':log', 'MAXLEN', '~', maxlen)
  end
end
-- Drop what the store knows of a key that is gone (deleted, or expired by Redis),
-- and record its removal; its revision.
local function forget(key, op, source, origin, maxlen)
  local meta = redis.call('HGET', ns .. ':meta', key)
  if meta then
    redis.call('INCRBY', ns .. ':bytes', -cjson.decode(meta)[5])
  end
  redis.call('HDEL', ns .. ':meta', key)
  redis.call('ZREM', ns .. ':names', key)
  redis.call('ZREM', ns .. ':written', key)
  redis.call('ZREM', ns .. ':expiring', key)
  local rev = redis.call('INCR', ns .. ':rev')
  record(op, key, rev, now(), source, origin, nil, '0', '0', maxlen)
  return rev
end
-- A key whose value Redis expired, but whose removal is not recorded yet.
local function settle(key, vkey, maxlen)
  local value = redis.call('GET', vkey)
  if not value and redis.call('HEXISTS', ns .. ':meta', key) == 1 then
    forget(key, 'expire', 'ttl', '', maxlen)
  end
  return value
end
-- Make room for a write adding `new_keys` keys and `adding` bytes, as the limits say:
-- an error reply (the store is full), or the least recently written keys evicted.
local function make_room(key, new_keys, adding, maxlen)
  local limits = redis.call('HMGET', ns .. ':settings', 'max_keys', 'max_bytes', 'when_full')
  local max_keys, max_bytes = tonumber(limits[1] or '0'), tonumber(limits[2] or '0')
  if max_keys == 0 and max_bytes == 0 then return end
  local function over()
    local keys = redis.call('ZCARD', ns .. ':written') + new_keys
    local size = tonumber(redis.call('GET', ns .. ':bytes') or '0') + adding
    return (max_keys > 0 and keys > max_keys) or (max_bytes > 0 and size > max_bytes), keys, size
  end
  local full, keys, size = over()
  if not full then return end
  if limits[3] ~= 'evict-oldest' then
    if max_keys > 0 and keys > max_keys then
      local have = keys - new_keys
      return redis.error_reply(string.format('STATEUI the store is full: %d key%s, the limit is %d',
        have, have == 1 and '' or 's', max_keys))
    end
    return redis.error_reply(string.format(
      'STATEUI the store is full: %.2f MB, the limit is %.2f MB, '
        .. 'and this write needs %d bytes more',
      (size - adding) / 1048576, max_bytes / 1048576, adding))
  end
  while full do
    local oldest = redis.call('ZRANGE', ns .. ':written', 0, 1)
    local victim = oldest[1]
    if victim == key then victim = oldest[2] end
    if not victim then
      return redis.error_reply("STATEUI the write needs more than the store's whole limit")
    end
    redis.call('DEL', ns .. ':v:' .. victim)
    forget(victim, 'evict', 'limit', '', maxlen)
    full = over()
  end
end
-- Note what a write of `value` to `key` (which held `old`, or nothing) made, at
-- revision `rev` and `time`: its meta, write order, name, byte count and expiry (`left`
-- milliseconds from `time`; none when not above 0), and its change in the stream.
local function written(key, value, old, rev, time, left, source, origin, maxlen)
  local expires = '0'
  if left > 0 then
    local at = math.floor(time * 1000) + left
    redis.call('ZADD', ns .. ':expiring', at, key)
    expires = string.format('%.3f', at / 1000)
  elseif old then  -- a new key is in no set of ours (or `forget` took it out)
    redis.call('ZREM', ns .. ':expiring', key)
  end
  local size = #key + #value
  redis.call('HSET', ns .. ':meta', key, cjson.encode({rev, time, source, origin, size}))
  redis.call('ZADD', ns .. ':written', rev, key)
  if old then
    redis.call('INCRBY', ns .. ':bytes', #value - #old)
  else
    redis.call('INCRBY', ns .. ':bytes', size)
    redis.call('ZADD', ns .. ':names', 0, key)
  end
  record('set', key, rev, time, source, origin, value, old and '0' or '1', expires, maxlen)
end
-- Make room for `value` in `key`, which holds `old` (or nothing): see make_room.
local function room_for(key, value, old, maxlen)
  if old then return make_room(key, 0, #value - #old, maxlen) end
  return make_room(key, 1, #key + #value, maxlen)
end
local function version_of(key, present)
  if not present then return '0' end
  return tostring(tonumber(redis.call('ZSCORE', ns .. ':written', key) or '0'))
end
"""

SET = (
    _COMMON
    + """
-- ARGV: ns, key, value, source, origin, ttl ('' none, 'keep', or milliseconds),
--       the stream's length, expected version ('' any)
local key, value, source, origin = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local ttl, maxlen, expected = ARGV[6], tonumber(ARGV[7]), ARGV[8]
local vkey = ns .. ':v:' .. key
local old = settle(key, vkey, maxlen)
if expected ~= '' and version_of(key, old) ~= expected then
  return 0
end
local refused = room_for(key, value, old, maxlen)
if refused then return refused end
local rev = redis.call('INCR', ns .. ':rev')
local time = now()
local left = -1
if ttl == '' then
  redis.call('SET', vkey, value)
elseif ttl == 'keep' then
  redis.call('SET', vkey, value, 'KEEPTTL')
  if old then left = redis.call('PTTL', vkey) end
else
  redis.call('SET', vkey, value, 'PX', ttl)
  left = tonumber(ttl)
end
written(key, value, old, rev, time, left, source, origin, maxlen)
return rev
"""
)

DELETE = (
    _COMMON
    + """
-- ARGV: ns, key, source, origin, the stream's length, op ('delete', 'evict'),
--       expected version ('' any)
local key, source, origin = ARGV[2], ARGV[3], ARGV[4]
local maxlen, op, expected = tonumber(ARGV[5]), ARGV[6], ARGV[7]
local vkey = ns .. ':v:' .. key
local present = settle(key, vkey, maxlen)
if expected ~= '' and version_of(key, present) ~= expected then
  return 0
end
if not present then
  return -1
end
redis.call('DEL', vkey)
return forget(key, op, source, origin, maxlen)
"""
)

RETIME = (
    _COMMON
    + """
-- ARGV: ns, key, source, origin, ttl ('' removes it, or milliseconds), the stream's length
-- A change of the key, its value as it is; 0 when the key is missing (or, for '',
-- has no TTL).
local key, source, origin, ttl, maxlen = ARGV[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6])
local vkey = ns .. ':v:' .. key
local value = settle(key, vkey, maxlen)
if not value or (ttl == '' and redis.call('PTTL', vkey) < 0) then
  return 0
end
local rev = redis.call('INCR', ns .. ':rev')
local time = now()
local expires = '0'
if ttl == '' then
  redis.call('PERSIST', vkey)
  redis.call('ZREM', ns .. ':expiring', key)
else
  redis.call('PEXPIRE', vkey, ttl)
  local t = redis.call('TIME')
  local at = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ttl)
  redis.call('ZADD', ns .. ':expiring', at, key)
  expires = string.format('%.3f', at / 1000)
end
redis.call('HSET', ns .. ':meta', key, cjson.encode({rev, time, source, origin, #key + #value}))
redis.call('ZADD', ns .. ':written', rev, key)
record('set', key, rev, time, source, origin, value, '0', expires, maxlen)
return rev
"""
)

EXPIRE_DUE = (
    _COMMON
    + """
-- ARGV: ns, how many keys at most, the stream's length
-- Records the removal of keys Redis expired; how many it looked at.
local limit, maxlen = tonumber(ARGV[2]), tonumber(ARGV[3])
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local due = redis.call('ZRANGEBYSCORE', ns .. ':expiring', '-inf', now_ms, 'LIMIT', 0, limit)
for _, key in ipairs(due) do
  local vkey = ns .. ':v:' .. key
  if redis.call('EXISTS', vkey) == 0 then
    forget(key, 'expire', 'ttl', '', maxlen)
  else
    -- its TTL changed since it was noted: note the one it has
    local left = redis.call('PTTL', vkey)
    if left < 0 then
      redis.call('ZREM', ns .. ':expiring', key)
    else
      redis.call('ZADD', ns .. ':expiring', now_ms + left, key)
    end
  end
end
return #due
"""
)

CLEAR = (
    _COMMON
    + """
-- ARGV: ns, prefix, source, origin, the stream's length
-- Deletes every key that starts with prefix, at once; how many went.
local prefix, source, origin, maxlen = ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local gone = 0
local first, last = '-', '+'
if prefix ~= '' then first, last = '[' .. prefix, '[' .. prefix .. '\\255' end
for _, key in ipairs(redis.call('ZRANGEBYLEX', ns .. ':names', first, last)) do
  local vkey = ns .. ':v:' .. key
  if redis.call('DEL', vkey) == 1 then
    forget(key, 'delete', source, origin, maxlen)
    gone = gone + 1
  else
    forget(key, 'expire', 'ttl', '', maxlen)
  end
end
return gone
"""
)

INCR = (
    _COMMON
    + """
-- ARGV: ns, key, by (an integer), source, origin, the stream's length
-- Adds `by` to an integer value, keeping its TTL: the new value as text, or false when
-- the value is not a small integer (the client then adds with a checked write).
local key, by, source, origin, maxlen = ARGV[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6])
local vkey = ns .. ':v:' .. key
local old = settle(key, vkey, maxlen)
local current = old or '0'
if not string.match(current, '^%-?%d+$') or #current > 15 or #by > 15 then
  return false
end
local total = tonumber(current) + tonumber(by)
if math.abs(total) >= 9007199254740992 then
  return false
end
local value = string.format('%d', total)
local refused = room_for(key, value, old, maxlen)
if refused then return refused end
local rev = redis.call('INCR', ns .. ':rev')
local time = now()
redis.call('SET', vkey, value, 'KEEPTTL')
written(key, value, old, rev, time, old and redis.call('PTTL', vkey) or -1, source, origin,
        maxlen)
return value
"""
)

LIST = """
-- ARGV: ns, prefix, after ('' from the first), how many at most
-- The next keys under prefix after `after`, in key order, leaving out those Redis has
-- expired: {the last key looked at (false: no more), key, key, ...}.
local ns, prefix, after, count = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local first, last = '-', '+'
if prefix ~= '' then first, last = '[' .. prefix, '[' .. prefix .. '\\255' end
if after ~= '' then first = '(' .. after end
local names = redis.call('ZRANGEBYLEX', ns .. ':names', first, last, 'LIMIT', 0, count)
local found = {#names == count and names[#names] or false}
for _, key in ipairs(names) do
  if redis.call('EXISTS', ns .. ':v:' .. key) == 1 then found[#found + 1] = key end
end
return found
"""
