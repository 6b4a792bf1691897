-- Write one statistic of a queue, only while the queue exists (a late event must not bring back the
-- statistics of a removed queue). Absolute values: writing the same twice changes nothing.
--
-- KEYS[1]  the queue's meta hash
-- KEYS[2]  where the statistic goes (the stats hash, or a per-second key)
-- ARGV[1]  'field' (HSET KEYS[2] ARGV[2] ARGV[3]), 'value' (SET KEYS[2] ARGV[3] PX ARGV[2]), or 'min' /
--          'max' (HSET KEYS[2] ARGV[2] ARGV[3] unless the field holds a lower / higher number already)
--
-- Returns 1 when written, 0 when the queue does not exist or ('min' / 'max') the field held that or a
-- lower / higher number already.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
if ARGV[1] == 'field' then
  redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
elseif ARGV[1] == 'min' or ARGV[1] == 'max' then
  local held = tonumber(redis.call('HGET', KEYS[2], ARGV[2]))
  local given = tonumber(ARGV[3])
  if held == nil or (ARGV[1] == 'min' and given < held) or (ARGV[1] == 'max' and given > held) then
    redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
  else
    return 0
  end
else
  redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[2])
end
return 1
