-- Publishes the one change event of this step: on the tenant's pub/sub channel and, for
-- readers that must not miss any, appended to the tenant's stream.
local function publish(kind, version, changed, at)
  local names = {}
  for i, name in ipairs(changed) do names[i] = cjson.encode(name) end
  local payload = '{"type":"' .. kind .. '","tenant":' .. cjson.encode(tenant) .. ',"sessionId":' .. cjson.encode(sid)
    .. ',"version":' .. version .. ',"changed":[' .. table.concat(names, ',') .. '],"at":"' .. iso(at)
    .. '","origin":' .. cjson.encode(origin) .. '}'
  redis.call('PUBLISH', 'session-context:' .. tenant .. ':events', payload)
  if stream_max > 0 then
    redis.call('XADD', KEYS[2], 'MAXLEN', '~', stream_max, '*', 'event', payload)
  end
end
