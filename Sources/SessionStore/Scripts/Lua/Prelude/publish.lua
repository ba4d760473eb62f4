-- Publishes the one change event of this step: on the pub/sub channels asked for (the tenant's
-- classic channel, the bucket's sharded one, or both) and, for readers that must not miss any,
-- appended to the bucket's stream. The sharded channel carries the key's hash tag, so SPUBLISH
-- stays in the script's slot and a cluster passes it only to that shard's nodes.
local function publish(kind, version, changed, at)
  local names = {}
  for i, name in ipairs(changed) do names[i] = cjson.encode(name) end
  local payload = '{"type":"' .. kind .. '","tenant":' .. cjson.encode(tenant) .. ',"sessionId":' .. cjson.encode(sid)
    .. ',"version":' .. version .. ',"changed":[' .. table.concat(names, ',') .. '],"at":"' .. iso(at)
    .. '","origin":' .. cjson.encode(origin) .. '}'
  local channels = ARGV[9]
  if string.find(channels, 'c', 1, true) then
    redis.call('PUBLISH', 'session-context:' .. tenant .. ':events', payload)
  end
  if string.find(channels, 's', 1, true) then
    redis.call('SPUBLISH', 'session-context:' .. string.match(key, '^sc:(%b{})') .. ':events', payload)
  end
  if stream_max > 0 then
    redis.call('XADD', KEYS[2], 'MAXLEN', '~', stream_max, '*', 'event', payload)
  end
end
