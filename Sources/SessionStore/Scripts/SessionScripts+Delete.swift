extension SessionScripts {
    /// Lua: DELETE /context/{sessionId}: end the session (logout).
    static let deleteSource = #"""
-- DELETE /context/{sessionId}: end the session (logout).
local version = redis.call('HGET', key, '_v')
if not version then return { NOT_FOUND } end
redis.call('DEL', key)
publish('deleted', tonumber(version), {}, now_ms())
return { APPLIED, tonumber(version) }
"""#
}
