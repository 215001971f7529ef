--[[ announce: deliver the `matched` events of a match made with A.defer, once its call is ready
  (LiveKit room created, tokens minted), only while both users are still CONNECTING in it.
  Also records the room on the users and the match, and audits the mode and room.
  KEYS[1] the match hash
  ARGV[3] { pool, matchId, mode, room?, forA = { ...extra fields of a's event }, forB = {...}, op }
  Returns { ok } or { ok = false, error = 'NOT_IN_MATCH' } ]]
local seen = op_seen()
if seen then return seen end
local mid = A.matchId
local m = redis.call('HMGET', mkey(mid), 'a', 'b')
local a = m[1] and get_user(m[1])
local b = m[2] and get_user(m[2])
if not (a and b and a.state == 'CONNECTING' and b.state == 'CONNECTING' and a.matchId == mid and b.matchId == mid) then
  return refuse('NOT_IN_MATCH')
end
redis.call('HSET', mkey(mid), 'mode', A.mode, 'announced', 1)
if A.room then
  redis.call('HSET', ukey(a.id), 'currentRoom', A.room)
  redis.call('HSET', ukey(b.id), 'currentRoom', A.room)
  redis.call('HSET', mkey(mid), 'room', A.room)
end
outbox({ kind = 'match_room', matchId = mid, room = A.room or cjson.null, mode = A.mode })
local shared = shared_interests(a, b)
local ea = { matchId = mid, partnerId = b.id, partnerName = b.name or '', role = 'impolite', mode = A.mode, sharedInterests = shared }
local eb = { matchId = mid, partnerId = a.id, partnerName = a.name or '', role = 'polite', mode = A.mode, sharedInterests = shared }
for k, v in pairs(A.forA or {}) do ea[k] = v end
for k, v in pairs(A.forB or {}) do eb[k] = v end
push(a.id, 'matched', ea)
push(b.id, 'matched', eb)
return op_done(reply({ ok = true }))
