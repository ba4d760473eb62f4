-- DELETE .../attributes/{name}: remove one attribute; no version check; absent is not an error.
-- ARGV[10]  attribute field ("@" .. name)
-- Failure points, all before the first write (in commit): a stored version that is not a
-- number, the stream being another type. Writes: HDEL and HSET, EXPIRE or PERSIST, PUBLISH, XADD.
local field = ARGV[10]
local current = redis.call('HMGET', key, '_v', CUSTOMER, field)
if not current[1] then return { NOT_FOUND } end
if not caller_allowed(current[2] or nil) then return { FORBIDDEN } end
if not current[3] then
  refresh_ttl(current[2] ~= false)
  return { UNCHANGED, tonumber(current[1]) }
end
return commit({ _v = current[1] }, 'attribute.deleted', { 'context.' .. string.sub(field, 2) }, current[2] ~= false, nil, { field })
