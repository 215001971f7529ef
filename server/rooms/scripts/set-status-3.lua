--[[ set-status: compare-and-set the status of one room record, keeping the pool's room index and
  deletion queue in step with it, in one atomic step.
    creating     record created (with its fields), added to the index
    active       the room exists and the users were told
    terminating  deletion pending: the record stops expiring (a pending deletion is never forgotten),
                 the room is (re)queued for deletion at ARGV[6]
    terminated   deleted in LiveKit: out of the index and the queue, the record expires after ARGV[2]
  KEYS[1] the room record hash   KEYS[2] the pool's room index (zset)   KEYS[3] the deletion queue (zset)
  ARGV[1] now (ms)  ARGV[2] record TTL (ms)  ARGV[3] room name  ARGV[4] new status
  ARGV[5] allowed current statuses, comma-separated ('none' = no record yet)
  ARGV[6] JSON object of extra fields to set   ARGV[7] deletion time (terminating only)
  Returns { 1, previous } when applied, { 0, current } when the current status is not allowed ]]
local now, ttl, room, to = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
local cur = redis.call('HGET', KEYS[1], 'status') or 'none'
local allowed = false
for s in string.gmatch(ARGV[5], '[^,]+') do
  if s == cur then allowed = true end
end
if not allowed then return { 0, cur } end
local f = { 'status', to, 'updatedAt', now }
for k, v in pairs(cjson.decode(ARGV[6])) do
  f[#f + 1] = k
  f[#f + 1] = tostring(v)
end
redis.call('HSET', KEYS[1], unpack(f))
if to == 'creating' then
  redis.call('ZADD', KEYS[2], now, room)
  redis.call('PEXPIRE', KEYS[1], ttl)
elseif to == 'terminating' then
  redis.call('PERSIST', KEYS[1])
  redis.call('ZADD', KEYS[2], 'NX', now, room)
  redis.call('ZADD', KEYS[3], ARGV[7], room)
elseif to == 'terminated' then
  redis.call('ZREM', KEYS[2], room)
  redis.call('ZREM', KEYS[3], room)
  redis.call('PEXPIRE', KEYS[1], ttl)
else
  redis.call('PEXPIRE', KEYS[1], ttl)
end
return { 1, cur }
