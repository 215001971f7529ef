--[[ relay: a chat message, typing signal, media state or WebRTC signal from a user to their current partner,
  only while the pair is intact in match A.matchId. Chat is de-duplicated by client message id
  (A.op) and echoed to the sender's own history so every tab and every resume sees it, as typed.
  Text safety (README "Text safety"): the receiver gets the variant of the text that both users'
  preferences call for (computed by server/safety/text-safety.ts, A.masks), and the message goes
  to the pool's outbox as it was typed, with what the receiver saw masked (chat_messages).
  KEYS[1] user hash
  ARGV[3] { pool, uid, matchId, kind = chat|typing|media|signal|path, text?, masks?, typing?, audio?, video?, failed?, data?, hidden?, path?, cmid?, op?, guess? }
          kind path: the call's media path (path = relay|direct) as the sender's client saw it; told
          to nobody, counted once per match (the first report wins: the funnel's relayed/direct)
          hidden: data without the sender's own addresses (server/chat/hide-addresses.ts), relayed
          instead of data when the sender hides their address (privacy, enqueue-2.lua; absent: hidden)
          masks = { kinds = { 'link'|'email'|'phone'|'word', ... }, c?, w?, cw? }: what the text
          holds, and the text with contacts (c), offensive words (w) or both (cw) masked
  ARGV[4] limits: sigMaxDescriptions, sigMaxCandidates (per sender and match; counted in the match hash)
  Returns { ok, duplicate? } or { ok = false, error = 'NOT_IN_MATCH' | 'TOO_MANY_SIGNALS' | 'TEXT_ONLY' } ]]
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
  -- Contacts show only when both allow them (enqueue-2.lua keeps each user's choice; absent: no);
  -- offensive words are masked unless the receiver turned the filter off (absent: on).
  local m = A.masks or {}
  local hide_contacts = not (u.allowContacts == '1' and p.allowContacts == '1')
  local hide_words = p.profanityFilter ~= '0'
  local masked = {}
  for _, k in ipairs(m.kinds or {}) do
    if (k == 'word' and hide_words) or (k ~= 'word' and hide_contacts) then masked[#masked + 1] = k end
  end
  local c, w = hide_contacts and m.c, hide_words and m.w
  local shown = (c and w and m.cw) or c or w or A.text
  local to_partner = { matchId = A.matchId, from = 'partner', text = shown, clientMessageId = A.cmid }
  if #masked > 0 then to_partner.masked = masked end
  push(p.id, 'chat', to_partner)
  push(u.id, 'chat', { matchId = A.matchId, from = 'me', text = A.text, clientMessageId = A.cmid })
  outbox({ kind = 'chat', matchId = A.matchId, from = u.id, to = p.id, clientMessageId = A.cmid, text = A.text,
    masked = table.concat(masked, ',') })
elseif A.kind == 'typing' then
  push(p.id, 'typing', { matchId = A.matchId, typing = A.typing })
elseif A.kind == 'media' then
  -- What the sender is sending now (false: no device, muted or camera off), for the partner's view.
  -- failed: the sender's video could not connect at all, and they go on by text.
  push(p.id, 'partner_media', { matchId = A.matchId, audio = A.audio == true, video = A.video == true, failed = A.failed == true })
  -- A failed call counts once in the funnel, however often either side reports it.
  if A.failed == true and redis.call('HSETNX', mkey(A.matchId), 'iceFailedAt', NOW) == 1 then step('iceFailures') end
elseif A.kind == 'path' then
  if redis.call('HGET', mkey(A.matchId), 'mode') == 'text' then return refuse('TEXT_ONLY') end
  local path = A.path == 'relay' and 'relayed' or 'direct'
  if redis.call('HSETNX', mkey(A.matchId), 'path', path) == 1 then step(path) end
else
  -- WebRTC needs a few descriptions and some dozens of candidates per call; a sender past its
  -- bound is refused, so no pair can fill Redis through each other's histories.
  -- Candidates count one each, however they are batched.
  -- A text-only match (the textOnly kill switch) has no call to set up.
  if redis.call('HGET', mkey(A.matchId), 'mode') == 'text' then return refuse('TEXT_ONLY') end
  local field, max, n = 'sigd:' .. u.id, L.sigMaxDescriptions, 1
  if A.data.kind == 'candidates' then field, max, n = 'sigc:' .. u.id, L.sigMaxCandidates, #A.data.candidates end
  if A.data.kind ~= 'connected' then
    if tonumber(redis.call('HGET', mkey(A.matchId), field) or '0') + n > max then
      return refuse('TOO_MANY_SIGNALS', { max = max })
    end
    redis.call('HINCRBY', mkey(A.matchId), field, n)
  end
  -- The match's first signal: its call setup started (the funnel's `signalling` step).
  if redis.call('HSETNX', mkey(A.matchId), 'signalledAt', NOW) == 1 then step('signalling') end
  local data = A.data
  if A.hidden and u.privacy ~= '0' then data = A.hidden end
  -- Nothing left of a candidates signal (all hidden): nothing to tell.
  if data.kind ~= 'candidates' or #data.candidates > 0 then push(p.id, 'signal', { matchId = A.matchId, data = data }) end
end
return op_done(reply({ ok = true }))
