--[[ depart: the user leaves this pool for another (StateStore.movePool), only while at rest.
  Their hash here is deleted, so it lives in one pool at a time: a call that guesses this pool
  from now on finds no hash and asks Redis for the pool instead (see misguessed). Their version
  carries on in the new pool (the caller passes it as minVersion); their history here stays.
  KEYS[1] user hash
  ARGV[3] { pool, uid }
  Returns { ok, version } or { ok = false, error = 'WRONG_STATE', state } ]]
local u = get_user(A.uid)
if u and u.state ~= 'IDLE' then return refuse('WRONG_STATE', { state = u.state }) end
if u then
  redis.call('DEL', ukey(u.id))
  redis.call('ZREM', skey('IDLE'), u.id)
end
return reply({ ok = true, version = u and u.version or 0 })
