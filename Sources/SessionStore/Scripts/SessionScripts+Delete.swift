extension SessionScripts {
    /// Lua: DELETE /context/{sessionId}: end the session (logout).
    static let deleteSource = #"""
-- DELETE /context/{sessionId}: end the session (logout).
-- ARGV[9]  "" ends it whoever it belongs to; a customer id ends it only if it is that
--          customer's (DELETE /context?customerId=, which finds sessions through an index that
--          may be out of date).
local version = redis.call('HGET', key, '_v')
if not version then return { NOT_FOUND } end
if ARGV[9] ~= '' and redis.call('HGET', key, CUSTOMER) ~= ARGV[9] then return { NOT_FOUND } end
redis.call('DEL', key)
publish('deleted', tonumber(version), {}, now_ms())
return { APPLIED, tonumber(version) }
"""#
}
