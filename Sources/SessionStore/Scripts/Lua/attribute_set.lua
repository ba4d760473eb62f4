-- POST .../attributes: set one attribute, whether or not it existed; no version check.
-- ARGV[10]  attribute field ("@" .. name)   ARGV[11]  its JSON value
-- Failure points, all before the first write (in commit): a stored version that is not a
-- number, the stream being another type. Writes: HSET, EXPIRE or PERSIST, PUBLISH, XADD.
local field, value = ARGV[10], ARGV[11]
local current = redis.call('HMGET', key, '_v', CUSTOMER, field)
if not current[1] then return { NOT_FOUND } end
if not caller_allowed(current[2] or nil) then return { FORBIDDEN } end
if current[3] == value then
  refresh_ttl(current[2] ~= false)
  return { UNCHANGED, tonumber(current[1]) }
end
if not current[3] and max_attributes > 0 then
  local count = 1
  for _, name in ipairs(redis.call('HKEYS', key)) do
    if string.byte(name, 1) == 64 then count = count + 1 end
  end
  if over_limit(count) then return { TOO_MANY, max_attributes } end
end
return commit({ _v = current[1] }, 'attribute.set', { 'context.' .. string.sub(field, 2) }, current[2] ~= false, { field, value })
