--[[ repair: make one user's sorted-set membership agree with their hash (the hash is the truth).
  Removes the user from every other state set, adds them to their own if missing; a user with no
  hash is removed from every set. The lobby likewise: in it exactly while WAITING and present.
  Audited when anything changed.
  KEYS[1] user hash
  ARGV[3] { pool, uid, states = [...] }
  Returns { ok, removed = [...], added = state|null, lobby = 'added'|'removed'|null } ]]
local u = get_user(A.uid)
local removed, added = {}, cjson.null
for _, s in ipairs(A.states) do
  if (not u or s ~= u.state) and redis.call('ZREM', skey(s), A.uid) == 1 then removed[#removed + 1] = s end
end
if u and redis.call('ZSCORE', skey(u.state), A.uid) == false then
  redis.call('ZADD', skey(u.state), tonumber(u.lastStateChange) or NOW, A.uid)
  added = u.state
end
-- The lobby holds exactly the present waiting users, at their queue places.
local lobby = cjson.null
local inLobby = redis.call('ZSCORE', P .. 'lobby', A.uid) ~= false
if u and u.state == 'WAITING' and not u.droppedAt then
  if not inLobby then
    redis.call('ZADD', P .. 'lobby', redis.call('ZSCORE', skey('WAITING'), A.uid), A.uid)
    lobby = 'added'
  end
elseif inLobby then
  redis.call('ZREM', P .. 'lobby', A.uid)
  lobby = 'removed'
end
if #removed > 0 or added ~= cjson.null or lobby ~= cjson.null then
  outbox({ kind = 'repair', userId = A.uid, removed = removed, added = added, lobby = lobby, state = u and u.state or cjson.null })
end
return reply({ ok = true, removed = removed, added = added, lobby = lobby })
