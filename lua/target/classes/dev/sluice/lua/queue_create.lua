-- Create a queue's metadata unless it exists.
--
-- KEYS[1]  the queue's meta hash
-- ARGV     field, value, field, value, ... (validated by the caller)
--
-- Returns the creation time in microseconds since the epoch (Redis TIME), or 0 if the queue exists.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('HSET', KEYS[1], 'created_at_us', now, 'updated_at_us', now, unpack(ARGV))
return now
