-- A queue's index of its dead letters: which records of the dead-letter topic (partition 0) are its
-- own and still listed. The records stay in Kafka; this holds their offsets only.
--
-- KEYS[1]  the queue's meta hash (indexing stops once the queue is removed)
-- KEYS[2]  listed: sorted set, member and score both the record's offset
-- KEYS[3]  taken: sorted set of offsets replayed or purged one by one, never listed again
-- KEYS[4]  state hash: 'floor', below which no offset is listed again (set by taking the lowest), and
--          'taken', how many were taken (replayed or purged) and not given back
-- ARGV[1]  what to do:
--   'index', offsets...      list the offsets, unless taken or below the floor or the queue is gone;
--                            returns how many were added
--   'take', offsets...       take those of the offsets that are listed (each at most once, whoever asks
--                            and however often); returns the offsets taken
--   'take-lowest', count     take the lowest count listed offsets and raise the floor past them;
--                            returns the offsets taken, lowest first
--   'give-back', offsets...  list offsets taken again (their replay could not be written)
-- All keys belong to one queue: one hash slot.
local mode = ARGV[1]

local function floor()
  return tonumber(redis.call('HGET', KEYS[4], 'floor') or '0')
end

if mode == 'index' then
  if redis.call('EXISTS', KEYS[1]) == 0 then
    return 0
  end
  local below = floor()
  local added = 0
  for i = 2, #ARGV do
    local offset = ARGV[i]
    if tonumber(offset) >= below and not redis.call('ZSCORE', KEYS[3], offset) then
      added = added + redis.call('ZADD', KEYS[2], offset, offset)
    end
  end
  return added
elseif mode == 'take' then
  local taken = {}
  for i = 2, #ARGV do
    local offset = ARGV[i]
    if redis.call('ZREM', KEYS[2], offset) == 1 then
      redis.call('ZADD', KEYS[3], offset, offset)
      taken[#taken + 1] = offset
    end
  end
  redis.call('HINCRBY', KEYS[4], 'taken', #taken)
  return taken
elseif mode == 'take-lowest' then
  local taken = redis.call('ZRANGE', KEYS[2], 0, tonumber(ARGV[2]) - 1)
  if #taken > 0 then
    redis.call('HINCRBY', KEYS[4], 'taken', #taken)
    for _, offset in ipairs(taken) do
      redis.call('ZREM', KEYS[2], offset)
    end
    local past = tonumber(taken[#taken]) + 1
    if past > floor() then
      redis.call('HSET', KEYS[4], 'floor', string.format('%d', past))
      -- what was taken one by one below the floor is kept out by the floor now
      redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. string.format('%d', past))
    end
  end
  return taken
elseif mode == 'give-back' then
  local given = 0
  for i = 2, #ARGV do
    redis.call('ZREM', KEYS[3], ARGV[i])
    given = given + redis.call('ZADD', KEYS[2], ARGV[i], ARGV[i])
  end
  redis.call('HINCRBY', KEYS[4], 'taken', -given)
  return given
end
return redis.error_reply('dead_letters.lua: unknown mode ' .. tostring(mode))
