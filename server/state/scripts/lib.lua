--[[
  lib.lua: helpers shared by every state script. The loader puts `local ALLOWED = {...}` (the
  transition table from states.ts) before this file, and the libraries a script uses after it.

  Calling convention of every script:
    KEYS[1]  a key of the pool (the user's hash or the pool's waiting set): it pins the script
             to the pool's hash slot; every other key is built from ARGV[1], which carries the
             same hash tag, so all keys of one call live in one Redis Cluster slot.
    KEYS[2]  the pool's epoch (ARGV[1] .. 'epoch'), which exists whenever the pool's data does.
             Declared so that while a cluster moves the pool's slot, a call whose keys are not
             all on one side is answered TRYAGAIN (and retried) instead of running on half a pool.
    ARGV[1]  key prefix with the pool's hash tag, e.g. "rv:{p:global}:"
    ARGV[2]  now, in milliseconds (injected clock)
    ARGV[3]  JSON options (pool, ids; see each script)
    ARGV[4]  JSON limits (TTLs, bounds; the same on every call from one process)
  Every script validates everything before its first write, so a refused call changes nothing,
  and returns a JSON string.

  The libraries are loaded once as a Redis Functions library (or, on a Redis without functions,
  prepended to each script): either way every call starts with begin_call(ARGV), which sets the
  per-call state below. Nothing else in the libraries may keep state between calls (the decoded
  limits are a cache of ARGV[4]).
]]
local P, NOW, A, POOL, L, EPOCH, ANNOUNCED, MID_I, PAUSED, OUT, OUT_USERS, STEPS, PLAIN
-- The limits' JSON as last decoded: a process sends the same limits on every call, so as a
-- function library they are decoded once (a cache, not state: L is read-only).
local LIMITS_RAW

-- Sets the call's state. On a cluster (L.checkPools) it also refuses, with nothing done, a call in
-- a pool whose epoch is missing (its master lost its data, or the pool is new) or names a rebuild
-- in progress ('R' .. epoch; only the rebuild's own calls, A.rebuild, pass): the caller has the
-- pool checked (checkpoint/pool-epochs.ts) and calls again. A single Redis is checked as a whole
-- before any call runs (checkpoint/epoch.ts), so there a missing epoch is simply started.
local function begin_call(argv)
  P = argv[1]
  NOW = tonumber(argv[2])
  A = cjson.decode(argv[3])
  POOL = A.pool
  if argv[4] ~= LIMITS_RAW then
    L = cjson.decode(argv[4])
    LIMITS_RAW = argv[4]
  end
  EPOCH = nil -- read once per call, on the first event id
  if L.checkPools then
    -- A key that never exists. While the pool's slot is moving to another master, touching a
    -- missing key the script did not declare is refused ("non local key", retried by the Redis
    -- policy); touching this one first makes that refusal come before any write, never midway.
    redis.call('EXISTS', P .. 'moving')
    local e = redis.call('GET', P .. 'epoch')
    if not e or (string.sub(e, 1, 1) == 'R' and not A.rebuild) then
      return cjson.encode({ ok = false, error = 'UNCHECKED' })
    end
    EPOCH = string.gsub(e, '^R', '')
  end
  ANNOUNCED = {} -- users whose history's expiry this call has refreshed
  MID_I = 0 -- match ids (A.mids) this call has used
  PAUSED = nil -- is the pool paused (read once per call, when first needed)
  OUT = {} -- each user's notifications of this call, published when it replies (see push)
  STEPS = {} -- the connection funnel's steps this call made (see step), in the reply as `steps`
  PLAIN = nil -- this call's reply without its steps: what a resend of it answers (op_done)
  OUT_USERS = {}
end

local function ukey(uid) return P .. 'user:' .. uid end
local function skey(state) return P .. 'state:' .. string.lower(state) end
local function evkey(uid) return P .. 'ev:' .. uid end
-- The size in bytes of the events in the user's history (kept beside it, same expiry).
local function evbkey(uid) return P .. 'evb:' .. uid end
local function mkey(mid) return P .. 'match:' .. mid end

-- Event ids are "<pool>-<epoch>-<seq>". The epoch is born with the pool's keys, so a Redis
-- that comes back empty starts a new epoch and can never reuse an id already in Postgres.
local function event_id()
  if not EPOCH then
    EPOCH = redis.call('GET', P .. 'epoch')
    if not EPOCH then
      local t = redis.call('TIME')
      EPOCH = t[1] .. string.format('%06d', tonumber(t[2]))
      redis.call('SET', P .. 'epoch', EPOCH)
    end
  end
  return POOL .. '-' .. EPOCH .. '-' .. redis.call('INCR', P .. 'seq')
end

-- Audit outbox: drained to Postgres by event id (exactly once there).
-- The connection funnel (server/ops/funnel.ts): what this call did to a match, counted by the
-- process that ran it (metrics, Redis minute buckets). `n` is added (callMs: a call's length).
local function step(name, n)
  STEPS[name] = (STEPS[name] or 0) + (n or 1)
end

-- A match's record marks a funnel step: made; reached IN_CALL; ended, either after IN_CALL (a
-- call, with its length) or before it (missing; a ghost when someone never answered: the
-- CONNECTING deadline, or a drop).
local function funnel(rec)
  if rec.kind == 'match_created' then
    step('matched')
  elseif rec.kind == 'match_connected' then
    step('connected')
  elseif rec.kind == 'match_ended' then
    local connectedAt = redis.call('HGET', mkey(rec.matchId), 'connectedAt')
    if connectedAt then
      step('calls')
      step('callMs', NOW - tonumber(connectedAt))
    else
      step('missing')
      if rec.reason == 'timeout' or rec.reason == 'disconnect' then step('ghost') end
    end
  end
end

local function outbox(rec)
  rec.eventId = event_id()
  rec.pool = POOL
  rec.at = NOW
  funnel(rec)
  redis.call('XADD', P .. 'outbox', '*', 'e', cjson.encode(rec))
  return rec.eventId
end

-- A user-visible event: appended to the user's bounded history and published on their channel
-- as `<pool>|<streamId>|<json>`, so a subscriber that is caught up takes it without reading the
-- history (server/events/stream.ts); one that is not reads the history from its cursor. A call's
-- events for one user go out as one message, a line each (cjson escapes newlines in strings), when
-- the call replies: one PUBLISH, and one message for each subscribed process to decode.
-- The history is bounded in entries (L.evMax) and in bytes (L.evMaxBytes): the oldest events go
-- first, and the newest always stays (a resume needs at least the cursor it will continue from).
-- Event fields that are lists (server/events/types.ts). cjson writes an empty table as {}, so an
-- empty one is written as [] by name (a quote inside a string value is escaped: never mistaken).
local LIST_FIELDS = { 'sharedInterests' }

local function encode_event(data)
  local json = cjson.encode(data)
  for _, f in ipairs(LIST_FIELDS) do
    if type(data[f]) == 'table' and next(data[f]) == nil then
      json = string.gsub(json, '"' .. f .. '":{}', '"' .. f .. '":[]', 1)
    end
  end
  return json
end

local function push(uid, typ, data)
  data.type = typ
  data.at = NOW
  local json = encode_event(data)
  local key, bkey = evkey(uid), evbkey(uid)
  local id = redis.call('XADD', key, '*', 'e', json)
  local total = redis.call('INCRBY', bkey, #json)
  local len = redis.call('XLEN', key)
  -- A history the count does not cover (no count was kept with it, or the count expired
  -- alone) is counted once from what it holds.
  if total == #json and len > 1 then
    total = 0
    for _, e in ipairs(redis.call('XRANGE', key, '-', '+')) do total = total + #e[2][2] end
    redis.call('SET', bkey, total)
  end
  while len > 1 and (len > L.evMax or total > L.evMaxBytes) do
    local oldest = redis.call('XRANGE', key, '-', '+', 'COUNT', 1)[1]
    redis.call('XDEL', key, oldest[1])
    total = redis.call('DECRBY', bkey, #oldest[2][2])
    len = len - 1
  end
  -- The count restarts with the stream (it expired, or was dropped on a pool move, on its own).
  if len == 1 and total ~= #json then redis.call('SET', bkey, #json, 'KEEPTTL') end
  if not ANNOUNCED[uid] then
    ANNOUNCED[uid] = true
    redis.call('PEXPIRE', key, L.evTtlMs)
    redis.call('PEXPIRE', bkey, L.evTtlMs)
  end
  local lines = OUT[uid]
  if not lines then
    lines = {}
    OUT[uid] = lines
    OUT_USERS[#OUT_USERS + 1] = uid
  end
  lines[#lines + 1] = POOL .. '|' .. id .. '|' .. json
  return id
end

local function publish_all()
  for _, uid in ipairs(OUT_USERS) do
    redis.call(L.publish, P .. 'n:' .. uid, table.concat(OUT[uid], '\n'))
  end
  OUT = {}
  OUT_USERS = {}
end

local function get_user(uid)
  local flat = redis.call('HGETALL', ukey(uid))
  if #flat == 0 then return nil end
  local u = {}
  for i = 1, #flat, 2 do u[flat[i]] = flat[i + 1] end
  u.id = uid
  u.version = tonumber(u.version or '0')
  return u
end

-- A call that guessed the user's pool (A.guess: the pool this process last saw them in) is
-- refused with MISS unless their hash is here; the caller then asks Redis for the pool and calls
-- again. A user's hash lives in one pool at a time (StateStore.movePool deletes the one they leave).
local function misguessed(u) return A.guess == true and u == nil end

-- A user seen for the first time in this pool starts at rest.
local function get_or_create_user(uid, name)
  local u = get_user(uid)
  if u then return u end
  redis.call('HSET', ukey(uid), 'state', 'IDLE', 'version', 0, 'lastStateChange', NOW, 'createdAt', NOW,
    'name', name or '', 'totalMatches', 0, 'totalSkips', 0, 'totalEnds', 0, 'totalDisconnects', 0)
  redis.call('ZADD', skey('IDLE'), NOW, uid)
  return { id = uid, state = 'IDLE', version = 0, name = name or '' }
end

-- The fields that tie a user to a match; cleared when they leave it (to IDLE or WAITING).
local MATCH_FIELDS = { 'matchedWith', 'matchId', 'currentRoom', 'joined' }

local function allowed(from, to) return ALLOWED[from] ~= nil and ALLOWED[from][to] == true end

--[[ Move one user to `to`. Callers validate first; the check here is a last line of defence.
  o.reason, o.matchId (for the audit row), o.actor, o.force (admin), o.score (sorted-set score,
  default now), o.fields (extra hash fields), o.clear (hash fields to delete). ]]
local function transition(u, to, o)
  local from = u.state
  if not o.force and not allowed(from, to) then
    error('invalid transition ' .. tostring(from) .. '->' .. to .. ' for ' .. u.id)
  end
  redis.call('ZREM', skey(from), u.id)
  redis.call('ZADD', skey(to), o.score or NOW, u.id)
  -- `lobby`: the waiting users who are present (presence-lib.lua takes the absent out and puts
  -- them back), by queue score: what match attempts scan and queue positions count.
  if from == 'WAITING' then redis.call('ZREM', P .. 'lobby', u.id) end
  if to == 'WAITING' and not u.droppedAt then redis.call('ZADD', P .. 'lobby', o.score or NOW, u.id) end
  u.version = u.version + 1
  local f = { 'state', to, 'previousState', from, 'lastStateChange', NOW, 'version', u.version }
  if o.fields then
    for k, v in pairs(o.fields) do
      f[#f + 1] = k; f[#f + 1] = v; u[k] = v
    end
  end
  redis.call('HSET', ukey(u.id), unpack(f))
  if o.clear then
    -- u mirrors the hash, so only fields that exist are deleted (most often none: no call at all).
    local gone = {}
    for _, k in ipairs(o.clear) do
      if u[k] ~= nil then gone[#gone + 1] = k; u[k] = nil end
    end
    if #gone > 0 then redis.call('HDEL', ukey(u.id), unpack(gone)) end
  end
  if to == 'IDLE' then
    redis.call('PEXPIRE', ukey(u.id), L.idleTtlMs)
  elseif from == 'IDLE' then
    redis.call('PERSIST', ukey(u.id))
  end
  local eid = outbox({ kind = 'transition', userId = u.id, from = from, to = to, reason = o.reason,
    matchId = o.matchId or cjson.null, actor = o.actor or cjson.null, version = u.version })
  push(u.id, 'state', { from = from, to = to, reason = o.reason, version = u.version })
  u.previousState = from
  u.state = to
  return eid
end

-- Queue position for "back to the front": just ahead of whoever is first now.
local function front_score()
  local first = redis.call('ZRANGE', skey('WAITING'), 0, 0, 'WITHSCORES')
  if first[2] then return math.min(tonumber(first[2]) - 1, NOW) end
  return NOW
end

-- Idempotency: a retried call with the same op id gets the first call's answer.
local function op_seen()
  if A.op then return redis.call('GET', P .. 'op:' .. A.op) end
  return false
end
local function op_done(result)
  if A.op then redis.call('SET', P .. 'op:' .. A.op, PLAIN or result, 'PX', A.opTtl or L.opTtlMs) end
  return result
end

-- Every reply goes through these two, which publish the call's events first. A reply carries the
-- funnel steps the call made; its resend's answer (op_done) does not, so a step counts once.
local function reply(t)
  publish_all()
  if next(STEPS) == nil then return cjson.encode(t) end
  PLAIN = cjson.encode(t)
  t.steps = STEPS
  return cjson.encode(t)
end
local function refuse(code, extra)
  publish_all()
  extra = extra or {}
  extra.ok = false
  extra.error = code
  return cjson.encode(extra)
end

-- The refusal for a call that guessed the user's pool wrong (MISS), or that came in a state it
-- did not declare valid (A.allowed, from the tRPC inStates middleware; no user yet: at rest); else nil.
local function misplaced(u)
  if misguessed(u) then return refuse('MISS') end
  if not A.allowed then return nil end
  local state = u and u.state or 'IDLE'
  for _, s in ipairs(A.allowed) do
    if s == state then return nil end
  end
  return refuse('WRONG_STATE', { state = state })
end
