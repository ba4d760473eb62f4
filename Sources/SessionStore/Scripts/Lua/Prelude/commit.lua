-- Records an applied change: deletes `removed` and writes `set` (field, value, ... pairs not yet
-- written; nil for none) with the bumped version and modifiedAt, restarts the TTL (`is_customer`:
-- whether the context has a customer once changed; every caller knows, so no HEXISTS), publishes.
-- Everything that can fail is checked before the first write: the stored version is a number and
-- the stream can take the event; the writes themselves come in batches (write_fields).
local function commit(fields, kind, changed, is_customer, set, removed)
  local version = tonumber(fields['_v']) + 1
  if not stream_writable() then return stream_refused() end
  local at = now_ms()
  set = set or {}
  set[#set + 1] = '_v'; set[#set + 1] = version
  set[#set + 1] = '_m'; set[#set + 1] = at
  write_fields(set, removed or {})
  refresh_ttl(is_customer)
  publish(kind, version, changed, at)
  return { APPLIED, version }
end
