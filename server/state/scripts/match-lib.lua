--[[
  match-lib.lua: who may meet whom, and the pair operations. Prepended after lib.lua.
  Rules (all enforced here, inside the atomic step):
    - only present users are offered, and only present users look: a user whose connection
      dropped (presence-lib.lua sets droppedAt) keeps their place but is skipped until back;
    - never a pair where either has blocked the other (sets blocks:<uid>, mirrored from Postgres);
    - never one of a user's last L.recentMax partners within L.recentTtlMs (zset recent:<uid>).
      A pair has met once both reached IN_CALL (joined-2.lua), or when one of them skipped or
      ended the match (a decision about this partner). A pair undone before that (rollback, a
      failed room, an unannounced pair, a CONNECTING deadline with a no-show) has not met;
    - prefer overlapping interests; a user with interests accepts anyone once they have waited
      L.relaxMs, a user without interests accepts anyone;
    - otherwise first in, first out by queue score.
]]
local function present(u) return u.droppedAt == nil end

local function interests_of(u)
  if not u.interests or u.interests == '' then return nil end
  local s = {}
  for tag in string.gmatch(u.interests, '[^,]+') do s[tag] = true end
  return s
end

local function overlap(a, b)
  if not a or not b then return false end
  for k in pairs(a) do if b[k] then return true end end
  return false
end

-- The interests both users gave, sorted (an empty list when none).
local function shared_interests(a, b)
  local ai, bi = interests_of(a), interests_of(b)
  local out = {}
  if ai and bi then
    for tag in pairs(ai) do
      if bi[tag] then out[#out + 1] = tag end
    end
  end
  table.sort(out)
  return out
end

local function excluded(u, c)
  if redis.call('SISMEMBER', P .. 'blocks:' .. u.id, c.id) == 1 then return true end
  if redis.call('SISMEMBER', P .. 'blocks:' .. c.id, u.id) == 1 then return true end
  if L.recentMax > 0 then
    -- Both directions: each list is trimmed to its own owner's last partners.
    local r = redis.call('ZSCORE', P .. 'recent:' .. u.id, c.id)
    if r and tonumber(r) > NOW - L.recentTtlMs then return true end
    r = redis.call('ZSCORE', P .. 'recent:' .. c.id, u.id)
    if r and tonumber(r) > NOW - L.recentTtlMs then return true end
  end
  return false
end

local function relaxed(u, ints)
  return ints == nil or (NOW - tonumber(u.waitingSince or NOW)) >= L.relaxMs
end

-- The best partner for u among the first L.scanLimit present waiting users (the lobby, in queue
-- order: the fair pick), then among the newest L.scanLimit: users stuck behind a full window of
-- people excluded for them can still find each other, since every newcomer and every sweep looks
-- at both ends. Absent users are not in the lobby, so however many wait they cost no scan.
local function candidates()
  local ids = redis.call('ZRANGE', P .. 'lobby', 0, L.scanLimit - 1)
  if #ids < L.scanLimit then return ids end
  local seen = {}
  for _, id in ipairs(ids) do seen[id] = true end
  local newest = redis.call('ZRANGE', P .. 'lobby', -L.scanLimit, -1)
  for _, id in ipairs(newest) do
    if not seen[id] then ids[#ids + 1] = id end
  end
  return ids
end

local function find_partner(u)
  local ui = interests_of(u)
  local uRelaxed = relaxed(u, ui)
  local ids = candidates()
  local fallback = nil
  for _, cid in ipairs(ids) do
    if cid ~= u.id then
      local c = get_user(cid)
      if c and c.state == 'WAITING' and present(c) and not excluded(u, c) then
        local ci = interests_of(c)
        if overlap(ui, ci) then return c end
        if fallback == nil and uRelaxed and relaxed(c, ci) then
          fallback = c
          if ui == nil then return c end -- nothing could be better for u
        end
      end
    end
  end
  return fallback
end

local function remember_partner(uid, pid)
  if L.recentMax <= 0 then return end
  local k = P .. 'recent:' .. uid
  redis.call('ZADD', k, NOW, pid)
  -- Keep the newest recentMax; older-than-recentTtlMs entries are ignored by excluded() and go
  -- with the key's TTL.
  redis.call('ZREMRANGEBYRANK', k, 0, -(L.recentMax + 1))
  redis.call('PEXPIRE', k, L.recentTtlMs)
end

-- Pair a (newer) with b (waited longer): both WAITING -> CONNECTING, one match record.
-- Each user's queue score is kept on the match so a rollback restores their places.
local function pair(a, b, mid)
  local sa = redis.call('ZSCORE', skey('WAITING'), a.id)
  local sb = redis.call('ZSCORE', skey('WAITING'), b.id)
  -- a and b mirror their hashes (read in this call), so the counters are written with the move.
  local fa = { matchedWith = b.id, matchId = mid, joined = 0, totalMatches = (tonumber(a.totalMatches) or 0) + 1 }
  local fb = { matchedWith = a.id, matchId = mid, joined = 0, totalMatches = (tonumber(b.totalMatches) or 0) + 1 }
  transition(a, 'CONNECTING', { reason = 'matched', matchId = mid, fields = fa })
  transition(b, 'CONNECTING', { reason = 'matched', matchId = mid, fields = fb })
  -- announced: the users were told (`matched`); a deferred match is announced by announce-2.lua,
  -- and one never announced is undone at its deadline (expire-2.lua).
  redis.call('HSET', mkey(mid), 'a', a.id, 'b', b.id, 'createdAt', NOW, 'scoreA', sa, 'scoreB', sb,
    'waitA', a.waitingSince or NOW, 'waitB', b.waitingSince or NOW, 'status', 'connecting', 'mode', A.mode or 'direct',
    'announced', A.defer and 0 or 1)
  redis.call('PEXPIRE', mkey(mid), L.matchTtl)
  redis.call('ZADD', P .. 'deadlines', NOW + L.connectMs, mid)
  -- Recent match times, for queue wait estimates.
  redis.call('LPUSH', P .. 'matchlog', NOW)
  redis.call('LTRIM', P .. 'matchlog', 0, 99)
  local waitedA = NOW - tonumber(a.waitingSince or NOW)
  local waitedB = NOW - tonumber(b.waitingSince or NOW)
  outbox({ kind = 'match_created', matchId = mid, userA = a.id, userB = b.id, mode = A.mode or 'direct', waitedA = waitedA, waitedB = waitedB })
  -- a (the newcomer) makes the WebRTC offer; b is the polite peer. With A.defer (LiveKit mode)
  -- the `matched` events wait until the room exists: see announce-2.lua.
  if not A.defer then
    local shared = shared_interests(a, b)
    push(a.id, 'matched', { matchId = mid, partnerId = b.id, partnerName = b.name or '', role = 'impolite', mode = A.mode or 'direct', sharedInterests = shared })
    push(b.id, 'matched', { matchId = mid, partnerId = a.id, partnerName = a.name or '', role = 'polite', mode = A.mode or 'direct', sharedInterests = shared })
  end
  return { matchId = mid, a = a.id, b = b.id, waitedA = waitedA, waitedB = waitedB }
end

-- Try to match u (must be WAITING). Consumes one id from A.mids; returns the match or nil.
local function try_match(u)
  if u.state ~= 'WAITING' or not present(u) then return nil end
  -- A pool paused by the recovery manager (data inconsistency) makes no matches until released.
  if PAUSED == nil then PAUSED = redis.call('EXISTS', P .. 'paused') == 1 end
  if PAUSED then return nil end
  -- The stopMatching kill switch (server/ops/switches.ts): no new pairs anywhere. Each waiting
  -- person is told once per stop (A.stop.since names it), and keeps their place.
  if A.stop then
    if u.stopTold ~= tostring(A.stop.since) then
      redis.call('HSET', ukey(u.id), 'stopTold', A.stop.since)
      u.stopTold = tostring(A.stop.since)
      push(u.id, 'notice', A.stop.notice)
    end
    return nil
  end
  local c = find_partner(u)
  if not c then return nil end
  MID_I = MID_I + 1
  local mid = A.mids and A.mids[MID_I]
  -- A resent script must never reuse a match id: the first run already consumed it.
  if not mid or redis.call('EXISTS', mkey(mid)) == 1 then return nil end
  return pair(u, c, mid)
end

--[[ End match `mid` for u (who skipped, ended, dropped or timed out) and partner p.
  u goes to uTo (WAITING at the back, or IDLE); p goes to the front of the queue. ]]
local function end_match(u, p, mid, reason, uTo, counter)
  transition(u, 'DISCONNECTING', { reason = reason, matchId = mid, actor = A.actor })
  transition(p, 'DISCONNECTING', { reason = 'partner_' .. reason, matchId = mid })
  if reason == 'skip' or reason == 'end' then
    remember_partner(u.id, p.id)
    remember_partner(p.id, u.id)
  end
  -- u mirrors its hash (read in this call), so the counter is written with the last move.
  local uf = {}
  if counter then uf[counter] = (tonumber(u[counter]) or 0) + 1 end
  if uTo == 'WAITING' then
    uf.waitingSince = NOW
    transition(u, 'WAITING', { reason = 'requeue', matchId = mid, clear = MATCH_FIELDS, fields = uf })
  else
    transition(u, 'IDLE', { reason = reason, matchId = mid, clear = MATCH_FIELDS, fields = uf })
  end
  transition(p, 'WAITING', { reason = 'requeue_front', matchId = mid, score = front_score(), clear = MATCH_FIELDS, fields = { waitingSince = NOW } })
  redis.call('HSET', mkey(mid), 'status', 'ended', 'endedAt', NOW, 'endReason', reason, 'endedBy', u.id)
  redis.call('ZREM', P .. 'deadlines', mid)
  outbox({ kind = 'match_ended', matchId = mid, reason = reason, endedBy = u.id })
  push(p.id, 'partner_left', { matchId = mid, reason = reason })
  push(p.id, 'requeued', { front = true })
  if uTo == 'WAITING' then push(u.id, 'requeued', { front = false }) end
end

-- Load u's partner in match mid, or nil when the pair is not intact.
local function partner_in(u, mid)
  if u.matchId ~= mid or (u.state ~= 'CONNECTING' and u.state ~= 'IN_CALL') then return nil end
  local p = get_user(u.matchedWith or '')
  if not p or p.matchId ~= mid or p.matchedWith ~= u.id then return nil end
  if p.state ~= 'CONNECTING' and p.state ~= 'IN_CALL' then return nil end
  return p
end

-- Estimated wait from the recent match rate (two users leave the queue per match), or null: an
-- estimate is only as honest as its data, so it needs at least L.waitMinMatches matches within
-- the last L.waitWindowMs (matchlog holds the newest first). An empty or quiet pool says nothing.
local function estimate_wait(position)
  local since = NOW - L.waitWindowMs
  local nth = tonumber(redis.call('LINDEX', P .. 'matchlog', L.waitMinMatches - 1) or '0')
  if nth <= since then return cjson.null end
  local n, oldest = 0, NOW
  for _, t in ipairs(redis.call('LRANGE', P .. 'matchlog', 0, -1)) do
    t = tonumber(t)
    if t <= since then break end
    n, oldest = n + 1, t
  end
  local usersPerMs = 2 * n / math.max(NOW - oldest, 1)
  return math.floor(position / usersPerMs)
end

-- Tell a waiting user where they stand among the present (absent users ahead do not count), when
-- it changed since we last told them.
local function announce_queued(u)
  if u.state ~= 'WAITING' or not present(u) then return end
  local rank = redis.call('ZRANK', P .. 'lobby', u.id)
  if not rank then return end
  local pos = rank + 1
  if tonumber(u.lastPos or '0') == pos then return end
  u.lastPos = pos
  redis.call('HSET', ukey(u.id), 'lastPos', pos)
  push(u.id, 'queued', { position = pos, estimatedWaitMs = estimate_wait(pos) })
end

--[[ Undo the pair of match mid (both users CONNECTING in it, read from its hash m): both go back
  to WAITING at the places and wait times they had before it. Not a meeting. The caller says
  whether they hear of it. ]]
local function unpair(mid, a, b, m, why, endReason)
  transition(a, 'WAITING', { reason = why, matchId = mid, score = tonumber(m.scoreA) or NOW, clear = MATCH_FIELDS, fields = { waitingSince = m.waitA or NOW } })
  transition(b, 'WAITING', { reason = why, matchId = mid, score = tonumber(m.scoreB) or NOW, clear = MATCH_FIELDS, fields = { waitingSince = m.waitB or NOW } })
  redis.call('HSET', mkey(mid), 'status', 'rolled_back', 'endedAt', NOW, 'endReason', endReason)
  redis.call('ZREM', P .. 'deadlines', mid)
  outbox({ kind = 'match_ended', matchId = mid, reason = endReason, endedBy = cjson.null })
end

-- The match hash's fields unpair needs, by name.
local function pair_record(mid)
  local r = redis.call('HMGET', mkey(mid), 'a', 'b', 'scoreA', 'scoreB', 'waitA', 'waitB', 'announced')
  return { a = r[1], b = r[2], scoreA = r[3], scoreB = r[4], waitA = r[5], waitB = r[6], announced = r[7] }
end

-- Match attempts for users just put back in the queue (each may have been paired by the one before).
local function retry_all(uids, matches)
  for _, uid in ipairs(uids) do
    local u = get_user(uid)
    if u then
      local r = try_match(u)
      if r then matches[#matches + 1] = r else announce_queued(u) end
    end
  end
  return matches
end
