-- A write shaped like the service's attribute write, for redis-benchmark alone (scripts/load/redis_floor.py):
-- one hash field and the version set, the TTL restarted, one stream entry appended (trimmed), one
-- notification published. KEYS: the hash, the stream, the channel (one slot: one hash tag).
-- ARGV: the value, the publish command (PUBLISH on one server, SPUBLISH on a cluster).
redis.call('HSET', KEYS[1], 'a', ARGV[1], '_v', '1')
redis.call('EXPIRE', KEYS[1], 3600)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', '6250', '*', 'type', 'attribute-set', 'value', ARGV[1])
redis.call(ARGV[2], KEYS[3], ARGV[1])
return 1
