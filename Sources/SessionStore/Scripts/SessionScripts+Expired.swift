extension SessionScripts {
    /// Lua: a session context expired: publish its one `expired` event, once however many workers saw it.
    static let expiredSource = #"""
-- A session context expired (a worker saw Redis's keyevent notification). Every worker sees
-- it; the first to claim it publishes the one `expired` event.
-- KEYS[#KEYS]  the claim key, sc:{<tenant>:<sessionId>}:expired, kept for a few seconds (the last key:
--          KEYS[2] when there is no stream)
-- ARGV[9]  how long the claim lasts, milliseconds
if redis.call('EXISTS', key) == 1 then return { UNCHANGED } end
if not redis.call('SET', KEYS[#KEYS], origin, 'NX', 'PX', tonumber(ARGV[9])) then return { UNCHANGED } end
publish('expired', 0, {}, now_ms())
return { APPLIED, 0 }
"""#
}
