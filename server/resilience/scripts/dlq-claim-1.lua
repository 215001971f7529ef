-- Lease one dead letter now, due or not, parked or not (an operator's "retry now").
-- KEYS[1]  the due zset
-- ARGV[1]  now (ms)
-- ARGV[2]  lease end (ms)
-- ARGV[3]  letter hash key
-- ARGV[4]  letter id
-- Returns  the letter's fields { field, value, ... } after the attempt is counted, or false if it is gone.
if redis.call('EXISTS', ARGV[3]) == 0 then return false end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('HINCRBY', ARGV[3], 'attempts', 1)
redis.call('HSET', ARGV[3], 'lastAttemptAt', ARGV[1], 'nextAttemptAt', ARGV[2], 'status', 'pending')
return redis.call('HGETALL', ARGV[3])
