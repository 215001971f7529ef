--[[ claim-due: take the items of a work queue whose time has come, and push each one's time
  forward by a lease, atomically. Several processes may claim at once: each item goes to one of
  them. A worker that dies leaves its items to be claimed again when the lease runs out; a worker
  that finishes removes or reschedules them.
  KEYS[1] the queue (zset: member -> due time, ms)
  ARGV[1] now (ms)  ARGV[2] lease (ms)  ARGV[3] batch size
  Returns the claimed members ]]
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local until_ = tonumber(ARGV[1]) + tonumber(ARGV[2])
for _, m in ipairs(due) do
  redis.call('ZADD', KEYS[1], 'XX', until_, m)
end
return due
