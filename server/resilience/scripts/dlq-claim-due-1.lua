-- Lease the dead letters that are due, counting an attempt on each.
-- KEYS[1]  the due zset (letter id scored by next attempt time; parked letters score +inf)
-- ARGV[1]  now (ms)
-- ARGV[2]  how many at most
-- ARGV[3]  lease end (ms): a claimed letter becomes due again then, if its worker died
-- ARGV[4]  letter hash key prefix (letter key = prefix .. id)
-- Returns  { id1, { field, value, ... }, id2, { ... }, ... } for the leased letters.
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, id in ipairs(ids) do
  local key = ARGV[4] .. id
  if redis.call('EXISTS', key) == 1 then
    redis.call('ZADD', KEYS[1], ARGV[3], id)
    redis.call('HINCRBY', key, 'attempts', 1)
    redis.call('HSET', key, 'lastAttemptAt', ARGV[1], 'nextAttemptAt', ARGV[3])
    out[#out + 1] = id
    out[#out + 1] = redis.call('HGETALL', key)
  else
    -- An index entry without its letter (discarded meanwhile): drop the index entry only.
    redis.call('ZREM', KEYS[1], id)
  end
end
return out
