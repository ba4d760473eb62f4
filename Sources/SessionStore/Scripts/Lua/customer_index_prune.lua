-- Removes entries from a customer's session index (a sorted set: session id -> when it was
-- last entered, epoch ms) that a reader found out of date: the session is gone or is now
-- another customer's. An entry goes only if it is unchanged since the reader saw it and older
-- than the cut-off, so a session being entered right now (its PUT not yet run) always stays.
-- KEYS[1]  the index, sc:customer:{<tenant>:<customerId>}
-- ARGV[1]  the cut-off, epoch ms      ARGV[2...]  pairs of session id and the score the reader saw
--          ("" for a session known to be gone, whatever its score: a deleted one)
-- Failure point: the index being another type, which the first ZSCORE finds before any ZREM.
-- Each ZREM takes one member, so none can fail once the first ZSCORE passed.
local removed = 0
local cutoff = tonumber(ARGV[1])
for i = 2, #ARGV, 2 do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score and (ARGV[i + 1] == '' or score == ARGV[i + 1]) and tonumber(score) <= cutoff then
    redis.call('ZREM', KEYS[1], ARGV[i])
    removed = removed + 1
  end
end
return removed
