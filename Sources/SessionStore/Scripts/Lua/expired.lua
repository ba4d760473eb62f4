-- A session context expired (a worker saw Redis's keyevent notification). Every worker sees
-- it; the first to claim it publishes the one `expired` event.
-- KEYS[3]  the claim key, sc:expired:{<tenant>:<bucket>}:<sessionId>, kept for a few seconds
-- ARGV[10]  how long the claim lasts, milliseconds
-- Failure point, before the first write: the stream being another type (then no worker claims
-- the expiry, and each logs the error). Writes: SET (the claim), PUBLISH, XADD.
if redis.call('EXISTS', key) == 1 then return { UNCHANGED } end
if not stream_writable() then return stream_refused() end
if not redis.call('SET', KEYS[3], origin, 'NX', 'PX', tonumber(ARGV[10])) then return { UNCHANGED } end
publish('expired', 0, {}, now_ms())
return { APPLIED, 0 }
