extension SessionScripts {
    /// Lua: GET /me/context: the whole context, and the idle clock restarted.
    static let readTouchSource = #"""
-- GET /me/context: the whole context, and the idle clock restarted.
-- Reply: {0, flat HGETALL} | {2} | {4}
local fields, flat = load()
if not fields then return { NOT_FOUND } end
if not caller_allowed(fields[CUSTOMER]) then return { FORBIDDEN } end
refresh_ttl(fields[CUSTOMER] ~= nil)
return { APPLIED, flat }
"""#
}
