-- A session context expired (a worker saw Redis's keyevent notification). Every worker sees
-- it; the first to claim it publishes the one `expired` event.
-- KEYS[#KEYS]  the claim key, sc:{<tenant>:<sessionId>}:expired, kept for a few seconds (the last key:
--          KEYS[2] when there is no stream)
-- ARGV[9]  how long the claim lasts, milliseconds
-- Failure point, before the first write: the stream being another type (then no worker claims
-- the expiry, and each logs the error). Writes: SET (the claim), PUBLISH, XADD.
if redis.call('EXISTS', key) == 1 then return { UNCHANGED } end
if not stream_writable() then return stream_refused() end
if not redis.call('SET', KEYS[#KEYS], origin, 'NX', 'PX', tonumber(ARGV[9])) then return { UNCHANGED } end
publish('expired', 0, {}, now_ms())
return { APPLIED, 0 }
