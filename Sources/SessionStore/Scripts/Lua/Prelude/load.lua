-- The whole hash as a field -> value table, or nil when the session does not exist.
local function load()
  local flat = redis.call('HGETALL', key)
  if #flat == 0 then return nil, flat end
  local fields = {}
  for i = 1, #flat, 2 do fields[flat[i]] = flat[i + 1] end
  return fields, flat
end
