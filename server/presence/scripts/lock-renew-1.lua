--[[ lock-renew: keep a lock this process holds for another lease.
  KEYS[1] the lock  ARGV[1] our token  ARGV[2] lease (ms)
  Returns 1 when renewed, 0 when the lock is not ours (or gone) ]]
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end
