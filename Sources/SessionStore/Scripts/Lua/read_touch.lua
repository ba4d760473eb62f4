-- GET /me/context: restarts the idle clock of a context the caller may read.
-- The worker sends HGETALL of the context right after this script, in the same MULTI/EXEC: it
-- reads exactly the state the script saw, and the fields never pass through Lua (copying them
-- into a Lua table and back cost Redis more than the rest of the script).
-- Reply: {0} | {2} | {4}
-- Failure point: the key being another type, which HMGET finds before EXPIRE or PERSIST, the
-- one write. Neither adds data, so Redis allows them when maxmemory is reached.
local current = redis.call('HMGET', key, '_v', CUSTOMER)
if not current[1] then return { NOT_FOUND } end
local customer = current[2] or nil
if not caller_allowed(customer) then return { FORBIDDEN } end
refresh_ttl(customer ~= nil)
return { APPLIED }
