-- Change fields of an existing queue's metadata; the next acquisition sees them.
--
-- KEYS[1]  the queue's meta hash
-- ARGV     field, value, field, value, ... (validated by the caller)
--
-- Returns 1 when updated, 0 when the queue does not exist (nothing is created).
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('HSET', KEYS[1], 'updated_at_us', now, unpack(ARGV))
return 1
