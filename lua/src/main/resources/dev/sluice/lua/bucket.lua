-- Shared by acquire.lua and status.lua: prepended to each when loaded (see LuaScript).
--
-- A bucket's theoretical arrival time (TAT, as in GCRA) is kept as a base time plus a token index j:
-- token j of the period that starts at base falls at base + floor(j * period / permits). The index
-- wraps every `permits` tokens and the base then moves by exactly one period, so fractional
-- intervals such as 3/7s never accumulate rounding: every period holds exactly `permits` slots.
-- All times are integer microseconds from Redis TIME.

local function slot(base, j, n, p)
  local periods = math.floor(j / n)
  local rem = j - periods * n
  local q = math.floor(p / n)
  local r = p - q * n
  -- rem < n and r < n <= 1e6, so rem * r < 1e12: exact in a double
  return base + periods * p + rem * q + math.floor(rem * r / n)
end

local function redis_now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end

-- The bucket's base and index under the queue's current rate n/p, or nil when the bucket is empty:
-- no state, or a TAT that has passed (a full bucket). The third value is true when the stored state
-- was made under another rate and has been converted: the caller must store the converted state.
local function load_bucket(key, n, p, now)
  local state = redis.call('HMGET', key, 'base', 'j', 'n', 'p')
  if not state[1] then
    return nil
  end
  local base, j = tonumber(state[1]), tonumber(state[2])
  local sn, sp = tonumber(state[3]), tonumber(state[4])
  local tat = slot(base, j, sn, sp)
  if tat <= now then
    return nil
  end
  if sn ~= n or sp ~= p then
    -- the rate changed: the outstanding debt, counted in tokens, is now worth the new interval ...
    local converted = now + math.ceil((tat - now) * sn / sp * p / n)
    -- ... but slots already reserved ahead of now (a gate's horizon) keep their old pace, and the next
    -- token comes no sooner than one new interval after the last of them: a raised rate must not
    -- squeeze a token between them and the new schedule (N + 1 in a window across the change)
    local after_last = slot(base, j - 1, sn, sp) + math.ceil(p / n)
    return math.max(converted, after_last), 0, true
  end
  return base, j, false
end
