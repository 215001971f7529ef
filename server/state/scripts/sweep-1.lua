--[[ sweep: the safety net behind event-driven matching. Tries the oldest waiting users again
  (someone whose interest preference has just relaxed, or who was re-queued while no partner
  was free).
  KEYS[1] the pool's WAITING sorted set
  ARGV[3] { pool, limits, batch, mids }
  Returns { ok, matches = [...] } ]]
local ids = redis.call('ZRANGE', skey('WAITING'), 0, A.batch - 1)
local matches = {}
for _, uid in ipairs(ids) do
  if MID_I >= #A.mids then break end
  local u = get_user(uid)
  if u and u.state == 'WAITING' then
    local r = try_match(u)
    if r then matches[#matches + 1] = r else announce_queued(u) end
  end
end
return reply({ ok = true, matches = matches })
