-- Sluice token bucket: read a queue's bucket without changing it.
--
-- KEYS[1]  the queue's meta hash, KEYS[2] its bucket hash (see acquire.lua)
--
-- Returns {status, tokens, capacity, permits, period_us, now_us, next_us}
--   status   0 active, 1 unknown queue (other fields 0), 2 inactive (figures as if active)
--   tokens   how many tokens could be granted right now (0..capacity)
--   capacity the burst
--   next_us  when the next token is available: now_us when tokens > 0

local function slot(base, j, n, p)
  local periods = math.floor(j / n)
  local rem = j - periods * n
  local q = math.floor(p / n)
  local r = p - q * n
  return base + periods * p + rem * q + math.floor(rem * r / n)
end

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])

local meta = redis.call('HMGET', KEYS[1], 'permits', 'period_us', 'burst', 'state')
if not meta[1] then
  return {1, 0, 0, 0, 0, now, -1}
end
local n = tonumber(meta[1])
local p = tonumber(meta[2])
local b = tonumber(meta[3]) or 1
local status = 0
if meta[4] ~= 'active' then
  status = 2
end

local base, j
local state = redis.call('HMGET', KEYS[2], 'base', 'j', 'n', 'p')
if state[1] then
  base = tonumber(state[1])
  j = tonumber(state[2])
  local sn, sp = tonumber(state[3]), tonumber(state[4])
  if sn ~= n or sp ~= p then
    base = slot(base, j, sn, sp)
    j = 0
  end
end
if base == nil or slot(base, j, n, p) < now then
  return {status, b, b, n, p, now, now}
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
local tokens = lo
local nextAt = now
if tokens == 0 then
  nextAt = slot(base, j - (b - 1), n, p)
end
return {status, tokens, b, n, p, now, nextAt}
