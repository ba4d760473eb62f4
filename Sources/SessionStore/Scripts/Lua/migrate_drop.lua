-- session-context migrate, step 3, on the old key's slot: deletes the old key if it is still the
-- version that was moved; a worker of the old layout that changed it meanwhile makes the
-- migration move it again.
-- KEYS[1]  the session's key in the old layout   ARGV[1]  the version that was moved
-- Replies 1 when deleted (or already gone), 0 when it changed.
-- Failure points: none before the one write.
local current = redis.call('HGET', KEYS[1], '_v')
if not current then return 1 end
if current ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
