--[[ joined: the user reports being connected to the call (LiveKit participant_joined, or the
  direct WebRTC connection established). When both have joined: CONNECTING -> IN_CALL for both.
  A LiveKit match's first join is its funnel `signalling` step (relay-2.lua counts direct ones).
  KEYS[1] user hash
  ARGV[3] { pool, uid, matchId, guess?, allowed? }
  Returns { ok, state, both } or { ok = false, error = 'NOT_IN_MATCH' } ]]
local u = get_user(A.uid)
local refused = misplaced(u)
if refused then return refused end
if not u or u.matchId ~= A.matchId then return refuse('NOT_IN_MATCH', { state = u and u.state or 'IDLE' }) end
if u.state == 'IN_CALL' then return reply({ ok = true, state = u.state, both = true, already = true }) end
local p = partner_in(u, A.matchId)
if not p or u.state ~= 'CONNECTING' then return refuse('NOT_IN_MATCH', { state = u.state }) end
-- In LiveKit mode the call is set up between each client and LiveKit, not through our relay: the
-- first of the pair to join the room (participant_joined) is the match's `signalling` step.
if redis.call('HGET', mkey(A.matchId), 'mode') == 'livekit' and redis.call('HSETNX', mkey(A.matchId), 'signalledAt', NOW) == 1 then
  step('signalling')
end
redis.call('HSET', ukey(u.id), 'joined', 1)
u.joined = '1'
if p.joined ~= '1' or p.state ~= 'CONNECTING' then return reply({ ok = true, state = u.state, both = false }) end
transition(u, 'IN_CALL', { reason = 'both_joined', matchId = A.matchId })
transition(p, 'IN_CALL', { reason = 'both_joined', matchId = A.matchId })
redis.call('HSET', mkey(A.matchId), 'status', 'active', 'connectedAt', NOW)
-- They have met: neither is offered the other again for a while (match-lib.lua).
remember_partner(u.id, p.id)
remember_partner(p.id, u.id)
redis.call('ZREM', P .. 'deadlines', A.matchId)
outbox({ kind = 'match_connected', matchId = A.matchId })
return reply({ ok = true, state = u.state, both = true })
