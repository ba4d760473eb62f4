extension SessionScripts {
    /// Lua: GET /me/context: the whole context, and the idle clock restarted.
    static let readTouchSource = #"""
-- GET /me/context: the whole context, and the idle clock restarted.
-- Reply: {0, flat HGETALL} | {2} | {4}
-- Only the customer field matters here: find it in the flat reply, build no table.
local flat = redis.call('HGETALL', key)
if #flat == 0 then return { NOT_FOUND } end
local customer
for i = 1, #flat, 2 do
  if flat[i] == CUSTOMER then customer = flat[i + 1]; break end
end
if not caller_allowed(customer) then return { FORBIDDEN } end
refresh_ttl(customer ~= nil)
return { APPLIED, flat }
"""#
}
