-- PATCH /me/context: merge siteCode, currency, targetLocation, language and attributes
-- (JSON Merge Patch at the attribute level), with optimistic locking on the version.
-- ARGV[10]  expected version
-- ARGV[11..] pairs of field, operation: "=" .. value sets the field, "-" removes it.
--           Fields are standard hash fields (si, cy, tl, la) or "@" .. attribute name.
-- Failure points, all before the first write (in commit): a stored version that is not a
-- number, the stream being another type. Writes: batched HDEL and HSET, EXPIRE or PERSIST,
-- PUBLISH, XADD.
local _, LABEL = standard_fields()
local expected = tonumber(ARGV[10])
local fields = load()
if not fields then return { NOT_FOUND } end
if not caller_allowed(fields[CUSTOMER]) then return { FORBIDDEN } end
if tonumber(fields['_v']) ~= expected then return { CONFLICT, tonumber(fields['_v']) } end

local changed, set, removed = {}, {}, {}
local attributes = 0
for field, _ in pairs(fields) do
  if string.byte(field, 1) == 64 then attributes = attributes + 1 end
end
for i = 11, #ARGV, 2 do
  local field, op = ARGV[i], ARGV[i + 1]
  local label = string.byte(field, 1) == 64 and ('context.' .. string.sub(field, 2)) or LABEL[field]
  if op == '-' then
    if fields[field] then
      changed[#changed + 1] = label; removed[#removed + 1] = field
      if string.byte(field, 1) == 64 then attributes = attributes - 1 end
    end
  else
    local value = string.sub(op, 2)
    if fields[field] ~= value then
      if not fields[field] and string.byte(field, 1) == 64 then attributes = attributes + 1 end
      changed[#changed + 1] = label
      set[#set + 1] = field; set[#set + 1] = value
    end
  end
end
if over_limit(attributes) then return { TOO_MANY, max_attributes } end
if #changed == 0 then
  refresh_ttl(fields[CUSTOMER] ~= nil)
  return { UNCHANGED, tonumber(fields['_v']) }
end
-- A merge never touches the customer (siteCode, currency, targetLocation, language, attributes).
return commit(fields, 'updated', changed, fields[CUSTOMER] ~= nil, set, removed)
