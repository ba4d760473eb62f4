-- Extends a claim, such as the customer-index sweep's, if it is still the caller's: a worker
-- that works longer than its claim lasts keeps it, and one that lost it learns so.
-- KEYS[1]  the claim key      ARGV[1]  the caller's instance id      ARGV[2]  milliseconds from now
-- Reply: 1 extended, 0 the claim is someone else's or gone.
-- Failure point: the claim key being another type, which GET finds before PEXPIRE, the one write.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
