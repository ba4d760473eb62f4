extension SessionScripts {
    /// A Lua function the scripts share. Each script's prelude defines only the ones it calls (see
    /// ``SessionScripts/prelude(_:)``); the cases are in order of definition, and a function calls
    /// only functions defined before it.
    enum PreludeFunction: CaseIterable, Hashable {
        /// `standard_fields`
        case standardFields
        /// `now_ms`
        case nowMilliseconds
        /// `iso`
        case iso8601
        /// `load`
        case load
        /// `over_limit`
        case overLimit
        /// `caller_allowed`
        case callerAllowed
        /// `refresh_ttl`
        case refreshTTL
        /// `publish`
        case publish
        /// `commit`
        case commit

        /// The function's name in Lua.
        var name: String {
            switch self {
            case .standardFields: "standard_fields"
            case .nowMilliseconds: "now_ms"
            case .iso8601: "iso"
            case .load: "load"
            case .overLimit: "over_limit"
            case .callerAllowed: "caller_allowed"
            case .refreshTTL: "refresh_ttl"
            case .publish: "publish"
            case .commit: "commit"
            }
        }

        /// The functions it calls.
        var calls: [PreludeFunction] {
            switch self {
            case .publish: [.iso8601]
            case .commit: [.nowMilliseconds, .refreshTTL, .publish]
            default: []
            }
        }

        /// Its Lua source, with the comment that explains it.
        var source: String {
            switch self {
            case .standardFields: Self.standardFieldsSource
            case .nowMilliseconds: Self.nowMillisecondsSource
            case .iso8601: Self.iso8601Source
            case .load: Self.loadSource
            case .overLimit: Self.overLimitSource
            case .callerAllowed: Self.callerAllowedSource
            case .refreshTTL: Self.refreshTTLSource
            case .publish: Self.publishSource
            case .commit: Self.commitSource
            }
        }

        private static let standardFieldsSource = #"""
-- The standard fields (hash field names) and hash field -> API name (the name events report in
-- `changed`). A function, so that only the scripts that use them build them: a table built at
-- the top level here is built on every call of every script.
local function standard_fields()
  return { 'cu', 'si', 'cy', 'ca', 'tl', 'la' },
    { cu = 'customerId', si = 'siteCode', cy = 'currency', ca = 'cartId', tl = 'targetLocation', la = 'language' }
end
"""#

        private static let nowMillisecondsSource = #"""
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
"""#

        private static let iso8601Source = #"""
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
"""#

        private static let loadSource = #"""
-- The whole hash as a field -> value table, or nil when the session does not exist.
local function load()
  local flat = redis.call('HGETALL', key)
  if #flat == 0 then return nil, flat end
  local fields = {}
  for i = 1, #flat, 2 do fields[flat[i]] = flat[i + 1] end
  return fields, flat
end
"""#

        private static let overLimitSource = #"""
-- Whether a context would hold more attributes than allowed.
local function over_limit(count)
  return max_attributes > 0 and count > max_attributes
end
"""#

        private static let callerAllowedSource = #"""
-- Storefront callers may touch a customer's session only with that customer's token.
local function caller_allowed(stored_customer)
  if caller == 'm' or not stored_customer then return true end
  return stored_customer == string.sub(caller, 3)
end
"""#

        private static let refreshTTLSource = #"""
-- Restarts the idle clock: customer sessions take the customer TTL (0 = never expire).
local function refresh_ttl(is_customer)
  local ttl = is_customer and customer_ttl or anonymous_ttl
  if ttl > 0 then
    redis.call('EXPIRE', key, ttl)
  else
    redis.call('PERSIST', key)
  end
end
"""#

        private static let publishSource = #"""
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
"""#

        private static let commitSource = #"""
-- Records an applied change: writes `set` (field, value, ... pairs not yet written; nil for none)
-- with the bumped version and modifiedAt in one HSET, restarts the TTL (`is_customer`: whether the
-- context has a customer once changed; every caller knows, so no HEXISTS), publishes.
local function commit(fields, kind, changed, is_customer, set)
  local version = tonumber(fields['_v']) + 1
  local at = now_ms()
  set = set or {}
  set[#set + 1] = '_v'; set[#set + 1] = version
  set[#set + 1] = '_m'; set[#set + 1] = at
  redis.call('HSET', key, unpack(set))
  refresh_ttl(is_customer)
  publish(kind, version, changed, at)
  return { APPLIED, version }
end
"""#
    }
}
