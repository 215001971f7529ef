--[[ rollback: a match whose call could not be set up (room creation failed for good). Both users
  go CONNECTING -> WAITING at the queue positions they had before the match and are tried again
  at once; whoever is still waiting after that is told why. A pair undone is not a meeting: they may be paired with each other
  again. (A LiveKit that keeps refusing creations cannot make this a loop: the LiveKit policy's
  creation breaker opens after LIVEKIT_BREAKER_THRESHOLD of them, and matches go direct.)
  KEYS[1] the match hash
  ARGV[3] { pool, matchId, reason, mids }
  Returns { ok, users = [a, b], matches } or { ok = false, error = 'NOT_IN_MATCH' } ]]
local mid = A.matchId
local m = pair_record(mid)
local a = m.a and get_user(m.a)
local b = m.b and get_user(m.b)
if not (a and b and a.state == 'CONNECTING' and b.state == 'CONNECTING' and a.matchId == mid and b.matchId == mid) then
  return refuse('NOT_IN_MATCH')
end
local notice = { code = 'CALL_SETUP_FAILED', message = "We couldn't start your call. You're back in the queue." }
unpair(mid, a, b, m, A.reason or 'connection_failed', 'rollback')
local matches = retry_all({ a.id, b.id }, {})
-- Told only if still waiting: someone paired again at once just sees the new match.
for _, uid in ipairs({ a.id, b.id }) do
  local u = get_user(uid)
  if u and u.state == 'WAITING' then push(uid, 'notice', notice) end
end
return reply({ ok = true, users = { a.id, b.id }, matches = matches })
