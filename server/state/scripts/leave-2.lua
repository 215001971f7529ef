--[[ leave: the user leaves match A.matchId by skip, end, disconnect or timeout.
  skip: both back to WAITING, the partner at the front. end / disconnect: the user rests (IDLE),
  the partner goes to the front. Then both get an immediate match attempt.
  A second leave of the same match (both pressed Skip) is a no-op that reports `already`.
  If the partner's side is no longer intact (repaired or forced by an admin), the user leaves alone.
  KEYS[1] user hash
  ARGV[3] { pool, uid, matchId?, reason = skip|end|disconnect|timeout, op, mids = {m1, m2}, actor?, guess? }
  Returns { ok, already?, state, ended?, partnerId?, matches = [...] } or { ok = false, error = 'NOT_IN_MATCH' }
  (ended: the match this call ended) ]]
local seen = op_seen()
if seen then return seen end
local u = get_user(A.uid)
if misguessed(u) then return refuse('MISS') end
local reason = A.reason
local mid = A.matchId or (u and u.matchId)
if not u or not mid or mid == '' then return refuse('NOT_IN_MATCH', { state = u and u.state or 'IDLE' }) end
if u.matchId ~= mid or (u.state ~= 'CONNECTING' and u.state ~= 'IN_CALL') then
  return op_done(reply({ ok = true, already = true, state = u.state, matches = {} }))
end
local counters = { skip = 'totalSkips', ['end'] = 'totalEnds', disconnect = 'totalDisconnects' }
local uTo = (reason == 'skip') and 'WAITING' or 'IDLE'
local p = partner_in(u, mid)
local matches = {}
local m1 = nil
if p then
  end_match(u, p, mid, reason, uTo, counters[reason])
  m1 = try_match(p)
  if m1 then matches[#matches + 1] = m1 end
else
  transition(u, 'DISCONNECTING', { reason = reason, matchId = mid, actor = A.actor })
  if uTo == 'WAITING' then
    transition(u, 'WAITING', { reason = 'requeue', matchId = mid, clear = MATCH_FIELDS, fields = { waitingSince = NOW } })
  else
    transition(u, 'IDLE', { reason = reason, matchId = mid, clear = MATCH_FIELDS })
  end
  redis.call('HSET', mkey(mid), 'status', 'ended', 'endedAt', NOW, 'endReason', reason, 'endedBy', u.id)
  redis.call('ZREM', P .. 'deadlines', mid)
  outbox({ kind = 'match_ended', matchId = mid, reason = reason, endedBy = u.id })
end
-- The partner's match attempt above may have paired this user: then re-read.
if m1 and (m1.a == u.id or m1.b == u.id) then u = get_user(A.uid) end
if u.state == 'WAITING' then
  local m2 = try_match(u)
  if m2 then matches[#matches + 1] = m2 end
end
announce_queued(u)
if p then announce_queued(p) end
local out = { ok = true, state = u.state, version = u.version, ended = mid, partnerId = p and p.id or cjson.null }
if #matches > 0 then out.matches = matches end
return op_done(reply(out))
