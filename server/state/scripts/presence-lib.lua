--[[
  presence-lib.lua: reconnect grace. Prepended after match-lib.lua.
    seen   zset uid -> last time any process saw a live socket or heartbeat from the user
    grace  zset uid -> when the user's grace runs out (they dropped while WAITING, CONNECTING or IN_CALL)
    lobby  zset uid -> queue score of the waiting users who are present (see transition in lib.lua):
           a waiting user leaves it when they drop and comes back to it, at their place, when back
  The user hash keeps `droppedAt`. A user seen again after `droppedAt` is back. While dropped, a
  user is absent: match-lib.lua offers them to nobody and counts them in nobody's position.
  It may also keep `leaving`: when the user's page said it is going (session.leave, presence-2.lua).
  A drop within A.timeoutMs of that (the longest a lost connection may go unnoticed) gets
  A.leaveGraceMs instead of the full grace: long enough for a reload to come back, short enough
  that a partner whose partner closed the tab is not kept waiting. A later drop ignores it.
]]
local function partner_of(u)
  if (u.state == 'CONNECTING' or u.state == 'IN_CALL') and u.matchId then return partner_in(u, u.matchId) end
  return nil
end

-- The user's connection dropped at `at`: start the grace, tell the partner. Idempotent.
-- Returns the grace given (ms from `at`), or false when none started.
local function mark_dropped(u, at, graceMs)
  if u.state == 'IDLE' or u.state == 'DISCONNECTING' then return false end
  if redis.call('ZSCORE', P .. 'grace', u.id) then return false end
  if u.leaving then
    if at - tonumber(u.leaving) <= A.timeoutMs then graceMs = math.min(graceMs, A.leaveGraceMs) end
    redis.call('HDEL', ukey(u.id), 'leaving')
    u.leaving = nil
  end
  redis.call('ZADD', P .. 'grace', at + graceMs, u.id)
  redis.call('HSET', ukey(u.id), 'droppedAt', at)
  u.droppedAt = at
  if u.state == 'WAITING' then redis.call('ZREM', P .. 'lobby', u.id) end
  local p = partner_of(u)
  if p then push(p.id, 'partner_reconnecting', { matchId = u.matchId, graceMs = graceMs }) end
  return graceMs
end

-- The user is connected again: end the grace, tell the partner. Idempotent.
local function mark_back(u)
  -- The hash's droppedAt counts too: a user marked absent without a grace (which the scripts never
  -- do, but a hand edit or a partial restore could) must not stay unmatchable for good.
  if redis.call('ZREM', P .. 'grace', u.id) == 0 and not u.droppedAt then return false end
  redis.call('HDEL', ukey(u.id), 'droppedAt')
  u.droppedAt = nil
  if u.state == 'WAITING' then redis.call('ZADD', P .. 'lobby', redis.call('ZSCORE', skey('WAITING'), u.id) or NOW, u.id) end
  local p = partner_of(u)
  if p then push(p.id, 'partner_back', { matchId = u.matchId }) end
  return true
end

-- A sign of life from u (a socket, a heartbeat, a call): last seen now, and back if they had
-- dropped. Returns whether they were away.
local function alive(u)
  redis.call('ZADD', P .. 'seen', NOW, u.id)
  return mark_back(u)
end

-- A waiting user who is back is matched at once if someone suitable waits (needs A.mids).
local function welcome_back(u, matches)
  if u.state ~= 'WAITING' then return end
  local m = try_match(u)
  if m then matches[#matches + 1] = m else announce_queued(u) end
end
