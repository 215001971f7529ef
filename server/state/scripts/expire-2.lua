--[[ expire: CONNECTING deadlines that have passed. A pair never announced (the process making
  its call died, or its announcement failed) is undone: both back to their places in the queue,
  with no notice (they never saw it), and tried again. Otherwise the side that joined goes back
  to the front of the queue; a side that never joined goes to IDLE with a notice.
  KEYS[1] the pool's deadlines sorted set (matchId -> deadline ms)
  ARGV[3] { pool, batch, mids }
  Returns { ok, expired = [matchId...], matches = [...] } ]]
local due = redis.call('ZRANGEBYSCORE', P .. 'deadlines', '-inf', NOW, 'LIMIT', 0, A.batch)
local expired, matches = {}, {}
local notice = { code = 'CONNECT_TIMEOUT', message = "We couldn't connect you to your partner. Press Start to try again." }
for _, mid in ipairs(due) do
  redis.call('ZREM', P .. 'deadlines', mid)
  local m = pair_record(mid)
  local a = m.a and get_user(m.a)
  local b = m.b and get_user(m.b)
  local pa = a and partner_in(a, mid)
  if a and b and pa and pa.id == b.id and a.state == 'CONNECTING' and b.state == 'CONNECTING' then
    expired[#expired + 1] = mid
    local ja, jb = a.joined == '1', b.joined == '1'
    if m.announced == '0' then
      unpair(mid, a, b, m, 'unannounced', 'unannounced')
      retry_all({ a.id, b.id }, matches)
    elseif ja ~= jb then
      local stay, gone = a, b
      if jb then stay, gone = b, a end
      end_match(gone, stay, mid, 'timeout', 'IDLE', nil)
      push(gone.id, 'notice', notice)
      local r = try_match(stay)
      if r then matches[#matches + 1] = r end
    else
      for _, x in ipairs({ a, b }) do
        transition(x, 'DISCONNECTING', { reason = 'timeout', matchId = mid })
        transition(x, 'IDLE', { reason = 'timeout', matchId = mid, clear = MATCH_FIELDS })
        push(x.id, 'notice', notice)
      end
      redis.call('HSET', mkey(mid), 'status', 'ended', 'endedAt', NOW, 'endReason', 'timeout')
      outbox({ kind = 'match_ended', matchId = mid, reason = 'timeout', endedBy = cjson.null })
    end
  end
end
return reply({ ok = true, expired = expired, matches = matches })
