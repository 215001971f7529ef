--[[ notify: an operator's message to a user (a moderator's warning), added to their event history
  as a `notice`, with no change of state.
  KEYS[1] user hash
  ARGV[3] { pool, uid, op, notice = { code, message } }
  Returns { ok } ]]
local seen = op_seen()
if seen then return seen end
push(A.uid, 'notice', A.notice)
return op_done(reply({ ok = true }))
