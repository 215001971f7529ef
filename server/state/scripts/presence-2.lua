--[[ presence: a connection signal for one user.
  mode 'seen'    : a live socket or heartbeat; ends a grace if one is running
  mode 'dropped' : the user's socket closed; starts the grace (partner: partner_reconnecting)
  KEYS[1] user hash
  ARGV[3] { pool, uid, mode, graceMs, mids = { m1 }, guess? }
  Returns { ok, changed, matches } (matches: a waiting user back, paired at once) ]]
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
return reply({ ok = true, changed = mark_dropped(u, NOW, A.graceMs) })
