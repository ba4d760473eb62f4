-- Restarts the idle clock: customer sessions take the customer TTL (0 = never expire).
local function refresh_ttl(is_customer)
  local ttl = is_customer and customer_ttl or anonymous_ttl
  if ttl > 0 then
    redis.call('EXPIRE', key, ttl)
  else
    redis.call('PERSIST', key)
  end
end
