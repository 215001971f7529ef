--[[ transition: one user, one step of the table, compare-and-set on the version. The primitive
  behind admin tooling and the table-driven tests; the flows (enqueue, leave, ...) use their own
  scripts because they move two users at once.
  KEYS[1] user hash
  ARGV[3] { pool, uid, to, expectedVersion?, reason?, actor?, op? }
  Returns { ok, from, state, version } or { ok = false, error = 'INVALID_TRANSITION' | 'VERSION_CONFLICT', state, version } ]]
local seen = op_seen()
if seen then return seen end
-- A user never seen in this pool is at rest (version 0); they are only created once the checks pass.
local u = get_user(A.uid) or { id = A.uid, state = 'IDLE', version = 0 }
if A.expectedVersion ~= nil and tonumber(A.expectedVersion) ~= u.version then
  return refuse('VERSION_CONFLICT', { state = u.state, version = u.version })
end
if not allowed(u.state, A.to) then return refuse('INVALID_TRANSITION', { state = u.state, version = u.version }) end
if u.version == 0 then u = get_or_create_user(A.uid, nil) end
local from = u.state
local o = { reason = A.reason or 'direct', actor = A.actor }
if A.to == 'IDLE' or A.to == 'WAITING' then o.clear = MATCH_FIELDS end
if A.to == 'WAITING' then o.fields = { waitingSince = NOW } end
transition(u, A.to, o)
return op_done(reply({ ok = true, from = from, state = u.state, version = u.version }))
