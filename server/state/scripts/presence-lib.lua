--[[
  presence-lib.lua: reconnect grace. Prepended after match-lib.lua.
    seen   zset uid -> last time any process saw a live socket or heartbeat from the user
    grace  zset uid -> when the user's grace runs out (they dropped while WAITING, CONNECTING or IN_CALL)
  The user hash keeps `droppedAt`. A user seen again after `droppedAt` is back.
]]
local function partner_of(u)
  if (u.state == 'CONNECTING' or u.state == 'IN_CALL') and u.matchId then return partner_in(u, u.matchId) end
  return nil
end

-- The user's connection dropped at `at`: start the grace, tell the partner. Idempotent.
local function mark_dropped(u, at, graceMs)
  if u.state == 'IDLE' or u.state == 'DISCONNECTING' then return false end
  if redis.call('ZSCORE', P .. 'grace', u.id) then return false end
  redis.call('ZADD', P .. 'grace', at + graceMs, u.id)
  redis.call('HSET', ukey(u.id), 'droppedAt', at)
  local p = partner_of(u)
  if p then push(p.id, 'partner_reconnecting', { matchId = u.matchId, graceMs = graceMs }) end
  return true
end

-- The user is connected again: end the grace, tell the partner. Idempotent.
local function mark_back(u)
  if redis.call('ZREM', P .. 'grace', u.id) == 0 then return false end
  redis.call('HDEL', ukey(u.id), 'droppedAt')
  local p = partner_of(u)
  if p then push(p.id, 'partner_back', { matchId = u.matchId }) end
  return true
end
