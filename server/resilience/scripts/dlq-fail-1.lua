-- Record another failed attempt of a dead letter and when to try next.
-- KEYS[1]  the due zset
-- ARGV[1]  letter hash key
-- ARGV[2]  letter id
-- ARGV[3]  the error, as text
-- ARGV[4]  next attempt time (ms), or '' to park the letter for an operator
-- Returns  1, or 0 if the letter is gone (discarded while its retry ran: it stays gone).
if redis.call('EXISTS', ARGV[1]) == 0 then return 0 end
if ARGV[4] == '' then
  redis.call('HSET', ARGV[1], 'error', ARGV[3], 'status', 'parked', 'nextAttemptAt', '')
  redis.call('ZADD', KEYS[1], '+inf', ARGV[2])
else
  redis.call('HSET', ARGV[1], 'error', ARGV[3], 'status', 'pending', 'nextAttemptAt', ARGV[4])
  redis.call('ZADD', KEYS[1], ARGV[4], ARGV[2])
end
return 1
