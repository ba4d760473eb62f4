extension SessionScripts {
    /// Lua: Shared by every session-context script; the worker prepends it to each one.
    static let preludeSource = #"""
-- Shared by every session-context script; the worker prepends it to each one.
--
-- KEYS[1]  the session context hash, sc:{<tenant>:<sessionId>}
-- KEYS[2]  the tenant's event stream, sc:events:{<tenant>}, when there is one (not on a Redis
--          Cluster, where it would be in another slot than KEYS[1])
-- ARGV[1]  tenant            ARGV[2]  session id       ARGV[3]  origin (worker instance id)
-- ARGV[4]  anonymous TTL s   ARGV[5]  customer TTL s (0 = never expires)
-- ARGV[6]  caller: "m" for the management side, "s:<customerId>" for a storefront token
--          ("s:" for an anonymous one); storefront callers may only touch a customer's
--          session with that customer's token.
-- ARGV[7]  the stream's approximate maximum length (0 = publish on pub/sub only)
-- ARGV[8]  the most attributes a context may hold (0 = no limit)
-- Script-specific arguments start at ARGV[9].
--
-- Hash fields: _v version, _c createdAt (epoch ms), _m modifiedAt (epoch ms), the standard
-- fields under two-letter names (plain strings: cu customerId, si siteCode, cy currency,
-- ca cartId, tl targetLocation, la language), attributes as "@" .. name (JSON text).
--
-- Replies: {status, ...}; status 0 applied, 1 unchanged, 2 no such session, 3 version conflict
-- (current version follows), 4 forbidden (customer mismatch), 5 too many attributes (the limit follows).
local key = KEYS[1]
local tenant, sid, origin = ARGV[1], ARGV[2], ARGV[3]
local anonymous_ttl, customer_ttl = tonumber(ARGV[4]), tonumber(ARGV[5])
local caller = ARGV[6]
local stream_max = tonumber(ARGV[7])
local max_attributes = tonumber(ARGV[8])
local APPLIED, UNCHANGED, NOT_FOUND, CONFLICT, FORBIDDEN, TOO_MANY = 0, 1, 2, 3, 4, 5
-- The standard fields (hash field names) and hash field -> API name (the name events report in
-- `changed`). A function, so that only the scripts that use them build them: a table built at
-- the top level here is built on every call of every script.
local function standard_fields()
  return { 'cu', 'si', 'cy', 'ca', 'tl', 'la' },
    { cu = 'customerId', si = 'siteCode', cy = 'currency', ca = 'cartId', tl = 'targetLocation', la = 'language' }
end
local CUSTOMER = 'cu'

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Milliseconds since the epoch as UTC ISO-8601 (days to civil date after H. Hinnant).
local function iso(ms)
  local s = math.floor(ms / 1000)
  local days = math.floor(s / 86400)
  local rem = s - days * 86400
  local z = days + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local d = doy - math.floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  local y = yoe + era * 400
  if m <= 2 then y = y + 1 end
  return string.format('%04d-%02d-%02dT%02d:%02d:%02d.%03dZ', y, m, d,
    math.floor(rem / 3600), math.floor(rem % 3600 / 60), rem % 60, ms % 1000)
end

-- The whole hash as a field -> value table, or nil when the session does not exist.
local function load()
  local flat = redis.call('HGETALL', key)
  if #flat == 0 then return nil, flat end
  local fields = {}
  for i = 1, #flat, 2 do fields[flat[i]] = flat[i + 1] end
  return fields, flat
end

-- Whether a context would hold more attributes than allowed.
local function over_limit(count)
  return max_attributes > 0 and count > max_attributes
end

-- Storefront callers may touch a customer's session only with that customer's token.
local function caller_allowed(stored_customer)
  if caller == 'm' or not stored_customer then return true end
  return stored_customer == string.sub(caller, 3)
end

-- Restarts the idle clock: customer sessions take the customer TTL (0 = never expire).
local function refresh_ttl(is_customer)
  local ttl = is_customer and customer_ttl or anonymous_ttl
  if ttl > 0 then
    redis.call('EXPIRE', key, ttl)
  else
    redis.call('PERSIST', key)
  end
end

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

-- Records an applied change: bumps the version, stamps modifiedAt, restarts the TTL, publishes.
local function commit(fields, kind, changed)
  local version = tonumber(fields['_v']) + 1
  local at = now_ms()
  redis.call('HSET', key, '_v', version, '_m', at)
  refresh_ttl(redis.call('HEXISTS', key, CUSTOMER) == 1)
  publish(kind, version, changed, at)
  return { APPLIED, version }
end
"""#
}
