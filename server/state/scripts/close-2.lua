--[[ close: an operator ends match A.matchId (admin.endMatch, admin.disconnect). Both users who are
  still in it rest (IDLE), their partner gone, and are told why; nobody is re-queued, so a chat an
  operator stopped does not start again by itself. Audited as match_ended, reason 'operator'.
  KEYS[1] the match hash
  ARGV[3] { pool, matchId, actor, reason, notice = { code, message }, op }
  Returns { ok, users = [uid...] } or { ok = false, error = 'NOT_IN_MATCH' } (over, or unknown) ]]
local seen = op_seen()
if seen then return seen end
local mid = A.matchId
local m = redis.call('HMGET', mkey(mid), 'a', 'b', 'status')
if not m[1] or (m[3] ~= 'connecting' and m[3] ~= 'active') then return refuse('NOT_IN_MATCH') end
local users = {}
for _, uid in ipairs({ m[1], m[2] }) do
  local u = get_user(uid)
  if u and u.matchId == mid and (u.state == 'CONNECTING' or u.state == 'IN_CALL') then
    transition(u, 'DISCONNECTING', { reason = 'operator', matchId = mid, actor = A.actor })
    transition(u, 'IDLE', { reason = 'operator', matchId = mid, actor = A.actor, clear = MATCH_FIELDS })
    push(u.id, 'partner_left', { matchId = mid, reason = 'end' })
    push(u.id, 'notice', A.notice)
    users[#users + 1] = u.id
  end
end
redis.call('HSET', mkey(mid), 'status', 'ended', 'endedAt', NOW, 'endReason', 'operator', 'endedBy', A.actor)
redis.call('ZREM', P .. 'deadlines', mid)
outbox({ kind = 'match_ended', matchId = mid, reason = 'operator', endedBy = A.actor })
return op_done(reply({ ok = true, users = users }))
