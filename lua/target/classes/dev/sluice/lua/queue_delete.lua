-- Remove a queue's keys: its metadata, its bucket and its statistics.
--
-- KEYS[1]  meta hash, KEYS[2] bucket hash, KEYS[3] stats hash (all of one queue: one hash slot)
--
-- Returns 1 when the queue existed, 0 when it did not (its other keys are removed either way).
local existed = redis.call('EXISTS', KEYS[1])
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
return existed
