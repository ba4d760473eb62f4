-- GET /me/context while Redis has reached maxmemory: Redis then refuses every command queued in
-- MULTI, read-touch's transaction among them, but still runs a script whose writes add no data.
-- The same checks and touch as read-touch; the context comes back in this script's reply, copied
-- through Lua (costlier, so the worker sends it only after such a refusal).
-- Reply: {0, field, value, ...} | {2} | {4}
-- Failure point: the key being another type, which HMGET finds before EXPIRE or PERSIST, the
-- one write.
local current = redis.call('HMGET', key, '_v', CUSTOMER)
if not current[1] then return { NOT_FOUND } end
if not caller_allowed(current[2] or nil) then return { FORBIDDEN } end
refresh_ttl(current[2] ~= false)
local reply = redis.call('HGETALL', key)
table.insert(reply, 1, APPLIED)
return reply
