-- Sluice token bucket: acquire up to ARGV[1] tokens for one queue. Needs bucket.lua before it.
--
-- KEYS[1]  the queue's meta hash   sluice:{q}:meta   (permits, period_us, burst, state)
-- KEYS[2]  the queue's bucket hash sluice:{q}:bucket (base, j, n, p)
-- ARGV[1]  max tokens wanted (0..10000)
-- ARGV[2]  horizon in microseconds: tokens whose slot is at most this far after the start clock are
--          reserved now
-- ARGV[3]  lead in microseconds (optional, 0): the start clock runs this far ahead of Redis's, so no
--          slot is earlier than now + lead. It gives a released task the time to reach a worker
--          before it may start. Callers with different leads still share one strict schedule: every
--          slot comes after the bucket's stored one.
--
-- Returns {status, granted, now_us, next_us, tolerance_us, slot_1, ..., slot_granted}
--   status       0 ok, 1 unknown queue, 2 queue inactive (nothing granted in both cases)
--   now_us       Redis's clock (without the lead)
--   slot_i       when the task of token i may start (microseconds since the epoch, >= now_us + lead)
--   next_us      the slot a further token would get now; -1 when the queue cannot grant
--   tolerance_us how late after its slot a task may still start (see bucket.lua); 0 unless status 0
--
-- GCRA with a tolerance of (burst - 1) emission intervals: token j may be used at
-- slot(base, j - (burst - 1)), on the queue's guarded period (bucket.lua). Rate, burst and state are
-- read in the same call, so an update applies to the next acquisition.

local MAX_BATCH = 10000

local clock = redis_now()
local meta = redis.call('HMGET', KEYS[1], 'permits', 'period_us', 'burst', 'state')
if not meta[1] then
  return {1, 0, clock, -1, 0}
end
if meta[4] ~= 'active' then
  return {2, 0, clock, -1, 0}
end
local n = tonumber(meta[1])
local raw_p = tonumber(meta[2])
local p = guarded(raw_p)
local b = tonumber(meta[3]) or 1

local want = math.min(math.max(math.floor(tonumber(ARGV[1]) or 0), 0), MAX_BATCH)
local horizon = math.max(math.floor(tonumber(ARGV[2]) or 0), 0)
local lead = math.max(math.floor(tonumber(ARGV[3]) or 0), 0)
-- the start clock: every time below is a time a task may start
local now = clock + lead

local base, j, converted = load_bucket(KEYS[2], n, p, now)
if base == nil then
  base, j = now, 0
end

local result = {0, 0, clock, 0, tolerance(n, raw_p)}
local limit = now + horizon
local granted = 0
while granted < want do
  local at = slot(base, j - (b - 1), n, p)
  if at > limit then
    break
  end
  if at < now then
    at = now
  end
  granted = granted + 1
  result[5 + granted] = at
  j = j + 1
  if j >= n then
    base = base + p
    j = j - n
  end
end

local nextAt = slot(base, j - (b - 1), n, p)
if nextAt < now then
  nextAt = now
end
result[2] = granted
result[4] = nextAt

if granted > 0 or converted then
  redis.call('HSET', KEYS[2], 'base', base, 'j', j, 'n', n, 'p', p)
  -- once the TAT has passed, a missing bucket means the same as this one: let it expire then
  local tat = slot(base, j, n, p)
  redis.call('PEXPIRE', KEYS[2], math.floor((tat - clock) / 1000) + 1000)
end
return result
