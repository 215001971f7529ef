--[[ presence: a connection signal for one user.
  mode 'seen'    : a live socket or heartbeat; ends a grace if one is running
  mode 'dropped' : the user's socket closed; starts the grace (partner: partner_reconnecting)
  mode 'leaving' : the user's page is going (session.leave). Already dropped: their grace runs out
                   within A.leaveGraceMs (a deadline only ever shortened). Still connected: marked
                   `leaving`, so the drop that follows gets A.leaveGraceMs (presence-lib.lua).
                   Either way a return before the deadline (a reload) is a plain return.
  KEYS[1] user hash
  ARGV[3] { pool, uid, mode, graceMs, leaveGraceMs, timeoutMs, mids = { m1 }, guess? }
  Returns { ok, changed, matches, dueInMs? } (matches: a waiting user back, paired at once;
  dueInMs: a grace now runs out this long from now) ]]
local u = get_user(A.uid)
if misguessed(u) then return refuse('MISS') end
if A.mode == 'seen' then
  if not u then
    redis.call('ZADD', P .. 'seen', NOW, A.uid)
    return reply({ ok = true, changed = false })
  end
  redis.call('HSET', ukey(u.id), 'lastHeartbeat', NOW)
  local matches = {}
  local back = alive(u)
  if back then welcome_back(u, matches) end
  return reply({ ok = true, changed = back, matches = matches })
end
if not u then return reply({ ok = true, changed = false }) end
if A.mode == 'leaving' then
  -- Nothing to cut short at rest (no grace there) or while leaving a match already.
  if u.state == 'IDLE' or u.state == 'DISCONNECTING' then return reply({ ok = true, changed = false }) end
  if redis.call('ZSCORE', P .. 'grace', u.id) then
    redis.call('ZADD', P .. 'grace', 'LT', NOW + A.leaveGraceMs, u.id)
    return reply({ ok = true, changed = true, dueInMs = A.leaveGraceMs })
  end
  redis.call('HSET', ukey(u.id), 'leaving', NOW)
  return reply({ ok = true, changed = false })
end
local grace = mark_dropped(u, NOW, A.graceMs)
return reply({ ok = true, changed = grace ~= false, dueInMs = grace or nil })
