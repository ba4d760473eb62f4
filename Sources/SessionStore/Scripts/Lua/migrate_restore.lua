-- session-context migrate, step 2, on the new key's slot: writes the dumped session at its new key
-- unless a worker has already written a version there at least as new (a worker of the new layout
-- that created the session again, or an earlier run of the migration).
-- KEYS[1]  the session's key in the new layout
-- ARGV[1]  the DUMP payload   ARGV[2]  its remaining time to live, ms (-1: none)   ARGV[3]  its version
-- Replies 1 when written, 0 when the key there was kept.
-- Failure points: RESTORE refusing the payload (another Redis version's format), before any write.
local current = redis.call('HGET', KEYS[1], '_v')
if current and tonumber(current) >= tonumber(ARGV[3]) then return 0 end
local ttl = tonumber(ARGV[2])
if ttl < 0 then ttl = 0 end
redis.call('RESTORE', KEYS[1], ttl, ARGV[1], 'REPLACE')
return 1
