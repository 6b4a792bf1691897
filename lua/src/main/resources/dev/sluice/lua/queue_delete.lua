-- Remove a queue's keys: its metadata, its bucket, its statistics and any other key of the queue the
-- caller names (its per-second release counts).
--
-- KEYS[1]  meta hash, KEYS[2..n] the queue's other keys (all of one queue: one hash slot)
--
-- Returns 1 when the queue existed, 0 when it did not (its other keys are removed either way).
local existed = redis.call('EXISTS', KEYS[1])
redis.call('DEL', unpack(KEYS))
return existed
