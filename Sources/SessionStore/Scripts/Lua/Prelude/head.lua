-- The head of every session-context script. After it come the prelude functions the script calls
-- (only those: see SessionScripts.PreludeFunction), then the script's own body.
--
-- KEYS[1]  the session context hash, sc:{<tenant>:<bucket>}:<sessionId>
-- KEYS[2]  the event stream of the session's bucket, sc:events:{<tenant>:<bucket>}: the same
--          hash tag, so the same Redis Cluster slot
-- ARGV[1]  tenant            ARGV[2]  session id       ARGV[3]  origin (worker instance id)
-- ARGV[4]  anonymous TTL s   ARGV[5]  customer TTL s (0 = never expires)
-- ARGV[6]  caller: "m" for the management side, "s:<customerId>" for a storefront token
--          ("s:" for an anonymous one); storefront callers may only touch a customer's
--          session with that customer's token.
-- ARGV[7]  the stream's approximate maximum length (0 = publish on pub/sub only)
-- ARGV[8]  the most attributes a context may hold (0 = no limit)
-- ARGV[9]  the pub/sub channels to publish on: "c" the tenant's classic channel
--          session-context:<tenant>:events (PUBLISH), "s" the bucket's sharded channel
--          session-context:{<tenant>:<bucket>}:events (SPUBLISH, same slot), "cs" both
-- Script-specific arguments start at ARGV[10].
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
local CUSTOMER = 'cu'
