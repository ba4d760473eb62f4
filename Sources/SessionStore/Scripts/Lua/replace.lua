-- PUT /context/{sessionId}: replace the standard fields (absent = cleared) and, when sent, the
-- whole attribute map; optimistic locking on the version; creates the context with upsert.
-- Failure points, all before the first write: a stored version that is not a number (commit),
-- the stream being another type (stream_writable). Writes: HDEL and HSET in batches
-- (write_fields), EXPIRE or PERSIST, PUBLISH, XADD: none can fail once the checks passed.
-- Under maxmemory the first write that adds data is refused before anything is written.
-- ARGV[10]  expected version   ARGV[11]  "1" to upsert   ARGV[12]  customer id of a valid saas-token, or ""
-- ARGV[13..18]  customerId, siteCode, currency, cartId, targetLocation, language ("" = absent)
-- ARGV[19] "1" when the body has "context"; then ARGV[20..] pairs of attribute field ("@"..name), JSON value
local STANDARD, LABEL = standard_fields()
local expected, upsert, saas_customer = tonumber(ARGV[10]), ARGV[11] == '1', ARGV[12]
local fields, flat = load()
if not fields and not upsert then return { NOT_FOUND } end

local stored_customer = fields and fields[CUSTOMER] or nil
local body_customer = ARGV[13] ~= '' and ARGV[13] or nil
if stored_customer or body_customer then
  if saas_customer == '' or (stored_customer and stored_customer ~= saas_customer)
      or (body_customer and body_customer ~= saas_customer) then
    return { FORBIDDEN }
  end
end
if fields and tonumber(fields['_v']) ~= expected then return { CONFLICT, tonumber(fields['_v']) } end

local wanted = {}
for i, name in ipairs(STANDARD) do
  if ARGV[12 + i] ~= '' then wanted[name] = ARGV[12 + i] end
end
local replace_context = ARGV[19] == '1'
if replace_context then
  for i = 20, #ARGV, 2 do wanted[ARGV[i]] = ARGV[i + 1] end
  if over_limit((#ARGV - 19) / 2) then return { TOO_MANY, max_attributes } end
end

local changed, set, removed = {}, {}, {}
local current = fields or {}
for _, name in ipairs(STANDARD) do
  if wanted[name] ~= current[name] then
    changed[#changed + 1] = LABEL[name]
    if wanted[name] then set[#set + 1] = name; set[#set + 1] = wanted[name] else removed[#removed + 1] = name end
  end
end
if replace_context then
  for i = 1, #flat, 2 do
    local field = flat[i]
    if string.byte(field, 1) == 64 and wanted[field] == nil then
      changed[#changed + 1] = 'context.' .. string.sub(field, 2)
      removed[#removed + 1] = field
    end
  end
  for i = 20, #ARGV, 2 do
    local field = ARGV[i]
    if current[field] ~= ARGV[i + 1] then
      changed[#changed + 1] = 'context.' .. string.sub(field, 2)
      set[#set + 1] = field; set[#set + 1] = ARGV[i + 1]
    end
  end
end

if not fields then
  local at = now_ms()
  set[#set + 1] = '_v'; set[#set + 1] = 1
  set[#set + 1] = '_c'; set[#set + 1] = at
  set[#set + 1] = '_m'; set[#set + 1] = at
  if not stream_writable() then return stream_refused() end
  write_fields(set, {})
  refresh_ttl(wanted[CUSTOMER] ~= nil)
  publish('created', 1, changed, at)
  return { APPLIED, 1 }
end
if #changed == 0 then
  refresh_ttl(stored_customer ~= nil)
  return { UNCHANGED, tonumber(fields['_v']) }
end
return commit(fields, 'updated', changed, wanted[CUSTOMER] ~= nil, set, removed)
