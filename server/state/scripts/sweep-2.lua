--[[ sweep: the safety net behind event-driven matching. Tries the oldest waiting users again
  (someone whose interest preference has just relaxed, or who was re-queued while no partner
  was free).
  KEYS[1] the pool's WAITING sorted set
  ARGV[3] { pool, batch, mids }
  Returns { ok, matches = [...] } ]]
-- The oldest present users first (fairness), then the newest (so nobody deep in a long queue is
-- never retried). Absent users are not in the lobby: they are tried when they are back.
local ids = redis.call('ZRANGE', P .. 'lobby', 0, A.batch - 1)
if #ids == A.batch then
  local seen = {}
  for _, id in ipairs(ids) do seen[id] = true end
  for _, id in ipairs(redis.call('ZRANGE', P .. 'lobby', -A.batch, -1)) do
    if not seen[id] then ids[#ids + 1] = id end
  end
end
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
