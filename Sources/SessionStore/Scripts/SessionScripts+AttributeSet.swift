extension SessionScripts {
    /// Lua: POST .../attributes: set one attribute, whether or not it existed; no version check.
    static let attributeSetSource = #"""
-- POST .../attributes: set one attribute, whether or not it existed; no version check.
-- ARGV[8]  attribute field ("@" .. name)   ARGV[9]  its JSON value
local field, value = ARGV[8], ARGV[9]
local current = redis.call('HMGET', key, '_v', CUSTOMER, field)
if not current[1] then return { NOT_FOUND } end
if not caller_allowed(current[2] or nil) then return { FORBIDDEN } end
if current[3] == value then
  refresh_ttl(current[2] ~= false)
  return { UNCHANGED, tonumber(current[1]) }
end
redis.call('HSET', key, field, value)
return commit({ _v = current[1] }, 'attribute.set', { 'context.' .. string.sub(field, 2) })
"""#
}
