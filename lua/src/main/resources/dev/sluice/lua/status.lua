-- Sluice token bucket: read a queue's bucket without changing it. Needs bucket.lua before it.
--
-- KEYS[1]  the queue's meta hash, KEYS[2] its bucket hash (see acquire.lua)
--
-- Returns {status, tokens, capacity, permits, period_us, now_us, next_us}, the tokens and next token on
-- the queue's guarded period (bucket.lua), permits and period_us as the limit says them
--   status   0 active, 1 unknown queue (other fields 0), 2 inactive (figures as if active)
--   tokens   how many tokens could be granted right now (0..capacity)
--   capacity the burst
--   next_us  when the next token is available: now_us when tokens > 0

local now = redis_now()
local meta = redis.call('HMGET', KEYS[1], 'permits', 'period_us', 'burst', 'state')
if not meta[1] then
  return {1, 0, 0, 0, 0, now, -1}
end
local n = tonumber(meta[1])
local raw_p = tonumber(meta[2])
local p = guarded(raw_p)
local b = tonumber(meta[3]) or 1
local status = 0
if meta[4] ~= 'active' then
  status = 2
end

local base, j = load_bucket(KEYS[2], n, p, now)
if base == nil then
  return {status, b, b, n, raw_p, now, now}
end

-- tokens = how many i in [0, b) have slot(base, j + i - (b - 1)) <= now; monotone in i
local lo, hi = 0, b
while lo < hi do
  local mid = math.floor((lo + hi) / 2)
  if slot(base, j + mid - (b - 1), n, p) <= now then
    lo = mid + 1
  else
    hi = mid
  end
end
local nextAt = now
if lo == 0 then
  nextAt = slot(base, j - (b - 1), n, p)
end
return {status, lo, b, n, raw_p, now, nextAt}
