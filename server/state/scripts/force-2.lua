--[[ force: an admin moves a user to any state, bypassing the transition table. Audited with the
  admin as actor and their reason. Leaving CONNECTING/IN_CALL this way drops the match fields;
  the partner's side is then repaired by their own next action or the consistency check.
  KEYS[1] user hash
  ARGV[3] { pool, uid, to, actor, reason, fields? (extra hash fields, e.g. a match restored
            from a checkpoint), notice? ({ code, message } pushed to the user), minVersion? (the
            user's versions continue from at least this: a rebuild after Redis lost its data
            passes the last version in the checkpoint and the audit trail, so no (user, version)
            is written twice), rebuild? (a cluster pool's rebuild: passes the pool's rebuild
            claim, see lib.lua begin_call) }
  Returns { ok, from, state, version } ]]
local seen = op_seen()
if seen then return seen end
local u = get_or_create_user(A.uid, nil)
if A.minVersion and u.version < A.minVersion then u.version = A.minVersion end
local from = u.state
local o = { reason = A.reason, actor = A.actor, force = true, score = A.score }
if A.to == 'IDLE' or A.to == 'WAITING' then o.clear = MATCH_FIELDS end
if A.to == 'WAITING' then o.fields = { waitingSince = NOW } end
if A.fields then
  o.fields = o.fields or {}
  for k, v in pairs(A.fields) do o.fields[k] = v end
end
transition(u, A.to, o)
if A.notice then push(u.id, 'notice', A.notice) end
return op_done(reply({ ok = true, from = from, state = u.state, version = u.version }))
