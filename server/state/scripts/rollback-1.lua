--[[ rollback: a match whose call could not be set up (room creation failed for good). Both users
  go CONNECTING -> WAITING at the queue positions they had before the match, with a notice.
  KEYS[1] the match hash
  ARGV[3] { pool, matchId, reason }
  Returns { ok, users = [a, b] } or { ok = false, error = 'NOT_IN_MATCH' } ]]
local mid = A.matchId
local m = redis.call('HMGET', mkey(mid), 'a', 'b', 'scoreA', 'scoreB', 'waitA', 'waitB')
local a = m[1] and get_user(m[1])
local b = m[2] and get_user(m[2])
if not (a and b and a.state == 'CONNECTING' and b.state == 'CONNECTING' and a.matchId == mid and b.matchId == mid) then
  return refuse('NOT_IN_MATCH')
end
local notice = { code = 'CALL_SETUP_FAILED', message = "We couldn't start your call. You're back in the queue." }
transition(a, 'WAITING', { reason = A.reason or 'connection_failed', matchId = mid, score = tonumber(m[3]) or NOW, clear = MATCH_FIELDS, fields = { waitingSince = m[5] or NOW } })
transition(b, 'WAITING', { reason = A.reason or 'connection_failed', matchId = mid, score = tonumber(m[4]) or NOW, clear = MATCH_FIELDS, fields = { waitingSince = m[6] or NOW } })
redis.call('HSET', mkey(mid), 'status', 'rolled_back', 'endedAt', NOW, 'endReason', 'rollback')
redis.call('ZREM', P .. 'deadlines', mid)
outbox({ kind = 'match_ended', matchId = mid, reason = 'rollback', endedBy = cjson.null })
push(a.id, 'notice', notice)
push(b.id, 'notice', notice)
return reply({ ok = true, users = { a.id, b.id } })
