-- Deletes the fields `removed` and writes `set` (field, value, ... pairs) in calls of at most
-- FIELD_BATCH values each. unpack() of a whole list fails past about 8,000 values ("too many
-- results to unpack"): a context of 5,000 attributes failed that way after its first write, half
-- applied. A batch cannot fail where the whole could, so once the first write is made the rest
-- are too. FIELD_BATCH is even, so a pair is never split.
local FIELD_BATCH = 1000
local function write_fields(set, removed)
  for first = 1, #removed, FIELD_BATCH do
    redis.call('HDEL', key, unpack(removed, first, math.min(first + FIELD_BATCH - 1, #removed)))
  end
  for first = 1, #set, FIELD_BATCH do
    redis.call('HSET', key, unpack(set, first, math.min(first + FIELD_BATCH - 1, #set)))
  end
end
