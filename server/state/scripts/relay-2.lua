--[[ relay: a chat message, typing signal or WebRTC signal from a user to their current partner,
  only while the pair is intact in match A.matchId. Chat is de-duplicated by client message id
  (A.op) and echoed to the sender's own history so every tab and every resume sees it.
  KEYS[1] user hash
  ARGV[3] { pool, uid, matchId, kind = chat|typing|signal, text?, typing?, data?, cmid?, op?, guess? }
  ARGV[4] limits: sigMaxDescriptions, sigMaxCandidates (per sender and match; counted in the match hash)
  Returns { ok, duplicate? } or { ok = false, error = 'NOT_IN_MATCH' | 'TOO_MANY_SIGNALS' } ]]
local seen = op_seen()
if seen then
  local r = cjson.decode(seen)
  r.duplicate = true
  return cjson.encode(r)
end
local u = get_user(A.uid)
if misguessed(u) then return refuse('MISS') end
local p = u and partner_in(u, A.matchId)
if not p then return refuse('NOT_IN_MATCH', { state = u and u.state or 'IDLE' }) end
if A.kind == 'chat' then
  push(p.id, 'chat', { matchId = A.matchId, from = 'partner', text = A.text, clientMessageId = A.cmid })
  push(u.id, 'chat', { matchId = A.matchId, from = 'me', text = A.text, clientMessageId = A.cmid })
elseif A.kind == 'typing' then
  push(p.id, 'typing', { matchId = A.matchId, typing = A.typing })
else
  -- WebRTC needs a few descriptions and some dozens of candidates per call; a sender past its
  -- bound is refused, so no pair can fill Redis through each other's histories.
  -- Candidates count one each, however they are batched.
  local field, max, n = 'sigd:' .. u.id, L.sigMaxDescriptions, 1
  if A.data.kind == 'candidates' then field, max, n = 'sigc:' .. u.id, L.sigMaxCandidates, #A.data.candidates end
  if A.data.kind ~= 'connected' then
    if tonumber(redis.call('HGET', mkey(A.matchId), field) or '0') + n > max then
      return refuse('TOO_MANY_SIGNALS', { max = max })
    end
    redis.call('HINCRBY', mkey(A.matchId), field, n)
  end
  push(p.id, 'signal', { matchId = A.matchId, data = A.data })
end
return op_done(reply({ ok = true }))
