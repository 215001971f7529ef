--[[ lock-release: let go of a lock, only if it is still ours.
  KEYS[1] the lock  ARGV[1] our token
  Returns 1 when released, 0 when it was not ours ]]
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end
