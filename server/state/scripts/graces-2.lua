--[[ graces: one pass over a pool's presence (the single sweep, not one timer per socket).
  1. Silent drops: users not seen for A.timeoutMs start their grace from when they were last seen.
  2. Graces: a user seen since dropping is back (at once, not only when the grace runs out: a
     socket on another process may have been seen before this process noticed the old one drop),
     and a waiting user who is back is matched at once. A grace that ran out without that:
     in a match -> the match ends with reason 'disconnect' (partner to the front of the queue);
     WAITING -> IDLE (they lose their place only now).
  KEYS[1] the pool's seen sorted set
  ARGV[3] { pool, timeoutMs, graceMs, leaveGraceMs, batch, mids } (leaveGraceMs: see presence-lib.lua)
  Returns { ok, silent = [...], disconnected = [...], back = [...], matches = [...] } ]]
local silent, disconnected, back, matches = {}, {}, {}, {}
local stale = redis.call('ZRANGEBYSCORE', P .. 'seen', '-inf', NOW - A.timeoutMs, 'WITHSCORES', 'LIMIT', 0, A.batch)
for i = 1, #stale, 2 do
  local uid, at = stale[i], tonumber(stale[i + 1])
  local u = get_user(uid)
  if not u or u.state == 'IDLE' then
    redis.call('ZREM', P .. 'seen', uid)
  elseif mark_dropped(u, at, A.graceMs) then
    silent[#silent + 1] = uid
  end
end
local graces = redis.call('ZRANGE', P .. 'grace', 0, A.batch - 1, 'WITHSCORES')
for i = 1, #graces, 2 do
  local uid, due = graces[i], tonumber(graces[i + 1])
  local u = get_user(uid)
  local seen = tonumber(redis.call('ZSCORE', P .. 'seen', uid) or '0')
  if not u then
    redis.call('ZREM', P .. 'grace', uid)
  elseif seen > tonumber(u.droppedAt or '0') then
    mark_back(u)
    back[#back + 1] = uid
    welcome_back(u, matches)
  elseif due > NOW then
    -- still within the grace
  else
    redis.call('ZREM', P .. 'grace', uid)
    redis.call('HDEL', ukey(uid), 'droppedAt')
    redis.call('ZREM', P .. 'seen', uid)
    local p = partner_of(u)
    if p then
      end_match(u, p, u.matchId, 'disconnect', 'IDLE', 'totalDisconnects')
      local r = try_match(p)
      if r then matches[#matches + 1] = r else announce_queued(p) end
    elseif u.state == 'CONNECTING' or u.state == 'IN_CALL' then
      transition(u, 'DISCONNECTING', { reason = 'disconnect', matchId = u.matchId })
      transition(u, 'IDLE', { reason = 'disconnect', clear = MATCH_FIELDS })
    elseif u.state == 'WAITING' then
      transition(u, 'IDLE', { reason = 'disconnect', clear = { 'waitingSince' } })
    end
    disconnected[#disconnected + 1] = uid
  end
end
return reply({ ok = true, silent = silent, disconnected = disconnected, back = back, matches = matches })
