--[[ seed-version: create a missing user's hash at rest, with their versions continuing from the
  audit trail (a user first seen again after Redis lost its data). The same fields lib.lua's
  get_or_create_user writes, except `version`. A user whose hash exists is left as it is.
  KEYS[1] the user's hash
  KEYS[2] the pool's IDLE set
  ARGV[1] user id
  ARGV[2] version to continue from (their last version in Postgres)
  ARGV[3] now (ms)
  ARGV[4] IDLE_TTL_MS
  Returns the user's hash (HGETALL), seeded or not. ]]
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'state', 'IDLE', 'version', ARGV[2], 'lastStateChange', ARGV[3], 'createdAt', ARGV[3],
    'name', '', 'totalMatches', 0, 'totalSkips', 0, 'totalEnds', 0, 'totalDisconnects', 0)
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
return redis.call('HGETALL', KEYS[1])
