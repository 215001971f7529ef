--[[ cancel: WAITING -> IDLE.
  KEYS[1] user hash
  ARGV[3] { pool, uid, op, reason?, guess?, allowed? }
  Returns { ok, state, version } or { ok = false, error = 'WRONG_STATE', state } ]]
local seen = op_seen()
if seen then return seen end
local u = get_user(A.uid)
local refused = misplaced(u)
if refused then return refused end
if not u or u.state ~= 'WAITING' then return refuse('WRONG_STATE', { state = u and u.state or 'IDLE' }) end
transition(u, 'IDLE', { reason = A.reason or 'cancel', actor = A.actor, clear = { 'waitingSince' } })
return op_done(reply({ ok = true, state = u.state, version = u.version }))
