-- Whether the tenant's stream can take this step's event. XADD fails on a key of another type
-- (only someone else's hand puts one there); a script that failed after its first write would
-- leave the change without its event, so every writing script asks this before its first write.
local function stream_writable()
  if stream_max == 0 then return true end
  local kind = redis.call('TYPE', KEYS[2])['ok']
  return kind == 'stream' or kind == 'none'
end

-- The error reply of a step refused because the stream cannot take its event.
local function stream_refused()
  return redis.error_reply('WRONGTYPE ' .. KEYS[2] .. ' is not a stream: nothing was changed')
end
