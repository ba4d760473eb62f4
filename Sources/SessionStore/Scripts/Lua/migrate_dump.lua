-- session-context migrate, step 1 of a session's move, on its old key's slot: the whole key as
-- DUMP has it, its remaining time to live and its version; nil when the key is gone.
-- KEYS[1]  the session's key in the old layout
-- Failure points: none (reads only).
if redis.call('EXISTS', KEYS[1]) == 0 then return nil end
return { redis.call('DUMP', KEYS[1]), redis.call('PTTL', KEYS[1]), redis.call('HGET', KEYS[1], '_v') or '0' }
