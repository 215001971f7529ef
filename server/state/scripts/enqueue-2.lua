--[[ enqueue: IDLE -> WAITING, then an immediate match attempt (event-driven matching).
  KEYS[1] user hash
  ARGV[3] { pool, uid, name, interests (comma-separated), op, mids = { matchId }, mode, minVersion?, guess?, allowed?,
            chat? = { allowContacts?, profanityFilter? }, privacy?, nameKey? }
  (nameKey: the name as the pool's name index knows it, state/keys.ts nameIndexKey)
  (chat: the user's text-safety choices, and privacy: whether their address is hidden from
  partners; kept on their hash for relay-2.lua; each enqueue states them afresh, an absent one is
  the safe default: contacts not allowed, the filter on, the address hidden)
  (minVersion: the user's version in the pool they come from; versions never restart on a move)
  Returns { ok, state, version, match? } or { ok = false, error = 'WRONG_STATE' | 'MISS', state } ]]
local seen = op_seen()
if seen then return seen end
local u = get_user(A.uid)
local refused = misplaced(u)
if refused then return refused end
u = u or get_or_create_user(A.uid, A.name)
if u.state ~= 'IDLE' then return refuse('WRONG_STATE', { state = u.state }) end
if A.minVersion and u.version < A.minVersion then u.version = A.minVersion end
local chat = A.chat or {}
local fields = { waitingSince = NOW, interests = A.interests or '', lastPos = 0,
  allowContacts = chat.allowContacts == true and '1' or '0', profanityFilter = chat.profanityFilter == false and '0' or '1',
  privacy = A.privacy == false and '0' or '1' }
if A.name and A.name ~= '' then fields.name = A.name end
transition(u, 'WAITING', { reason = 'enqueue', fields = fields })
-- The pool's name index (admin.lookup): the newest few people by a name, gone with idle users.
if A.nameKey then
  local nk = P .. 'names:' .. A.nameKey
  redis.call('ZADD', nk, NOW, u.id)
  redis.call('ZREMRANGEBYRANK', nk, 0, -21)
  redis.call('PEXPIRE', nk, L.idleTtlMs)
end
-- Asking to be matched is a sign of life (a client without a live socket must then heartbeat).
alive(u)
local m = try_match(u)
if not m then announce_queued(u) end
return op_done(reply({ ok = true, state = u.state, version = u.version, match = m or cjson.null }))
