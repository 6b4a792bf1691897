-- Shared by acquire.lua and status.lua: prepended to each when loaded (see LuaScript).
--
-- A bucket's theoretical arrival time (TAT, as in GCRA) is kept as a base time plus a token index j:
-- token j of the period that starts at base falls at base + floor(j * period / permits). The index
-- wraps every `permits` tokens and the base then moves by exactly one period, so fractional
-- intervals such as 3/7s never accumulate rounding: every period holds exactly `permits` slots.
-- All times are integer microseconds from Redis TIME.
--
-- The schedule keeps a guard: each period is stretched by a hundredth of itself, so that N slots span
-- at least P + P/100. A task may start up to a tolerance after its slot (half the guard, at most half an
-- interval) and still leave half the guard for the way from the worker to the service it calls: the
-- limit then holds where the calls arrive, not only at the gate (ADR 0005). Mirrored by
-- dev.sluice.core.StartGuard.

local GUARD_DIVISOR = 100
local MIN_TOLERANCE_US = 500
local SPACING_FLOOR_US = 2000

-- the period the schedule runs at, for a queue whose limit says p
local function guarded(p)
  return p + math.ceil(p / GUARD_DIVISOR)
end

-- how late after its slot a task may still start: half the guard, and at most half an interval (so
-- that starts stay half an interval apart) unless that is under SPACING_FLOOR_US (intervals under 4 ms:
-- no worker keeps sub-millisecond time, and there the window is the promise, not the spacing); never
-- less than MIN_TOLERANCE_US (periods under 100 ms hold their windows only within that much)
local function tolerance(n, p)
  local g = guarded(p)
  local t = math.min((g - p) / 2, math.max(g / n / 2, SPACING_FLOOR_US))
  return math.floor(math.max(t, MIN_TOLERANCE_US))
end

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
