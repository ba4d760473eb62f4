-- DELETE /context/{sessionId}: end the session (logout).
-- ARGV[10]  "" ends it whoever it belongs to; a customer id ends it only if it is that
--          customer's (DELETE /context?customerId=, which finds sessions through an index that
--          may be out of date).
-- Reply on success: {0, version, customer id or ""}: the worker then takes the session out of
-- that customer's index (another slot, so not from here).
-- Failure point, before the first write: the stream being another type. Writes: DEL, PUBLISH, XADD.
local current = redis.call('HMGET', key, '_v', CUSTOMER)
if not current[1] then return { NOT_FOUND } end
if ARGV[10] ~= '' and current[2] ~= ARGV[10] then return { NOT_FOUND } end
if not stream_writable() then return stream_refused() end
redis.call('DEL', key)
publish('deleted', tonumber(current[1]), {}, now_ms())
return { APPLIED, tonumber(current[1]), current[2] or '' }
