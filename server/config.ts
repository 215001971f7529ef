/**
 * Configuration: every setting the server reads, in one zod schema, read once at start.
 * A bad value stops start-up with the variable's name. Tests build a Config with
 * `loadConfig({...})` and shrink the durations instead of sleeping.
 */
import { z } from 'zod';
import { ConfigError } from './config-error';
import { parseIceServers } from './rooms/options';
import { resilienceEnvShape } from './resilience/env';

const count = (min: number, max: number, def: number) => z.coerce.number().int().min(min).max(max).default(def);
const ms = (def: number) => count(1, 86_400_000, def);
/** A comma-separated list, trimmed, without empty entries. */
const items = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
const csv = z.string().default('').transform(items);

/** A JSON-valued variable, parsed (and checked) by `parse`; its message names what is wrong. */
const json = <T>(parse: (s: string) => T, def: string) =>
  z
    .string()
    .default(def)
    .transform((s, ctx) => {
      try {
        return parse(s);
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: (e as Error).message });
        return z.NEVER;
      }
    });
/** A comma-separated list of lower-case codes (languages, regions), each 2-8 letters. */
const codes = (def: string) =>
  z
    .string()
    .default(def)
    .transform((s) => items(s.toLowerCase()))
    .pipe(z.array(z.string().regex(/^[a-z]{2,8}$/, 'each code is 2-8 letters')).min(1));
/** A rate, `<points>/<window>` with the window in ms, s, m or h: "5/5s" is 5 per 5 seconds. */
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
const rate = (def: string) =>
  z
    .string()
    .default(def)
    .transform((v, ctx) => {
      const m = /^(\d{1,7})\/(\d{1,6})(ms|s|m|h)$/.exec(v.trim());
      const points = Number(m?.[1]);
      const windowMs = Number(m?.[2]) * UNIT_MS[(m?.[3] ?? 's') as keyof typeof UNIT_MS];
      // The limiter counts whole seconds.
      if (!m || points < 1 || windowMs < 1000 || windowMs > 86_400_000) {
        ctx.addIssue({ code: 'custom', message: 'a rate is <points>/<window>, e.g. 5/5s or 30/1m (window 1 s to 24 h)' });
        return z.NEVER;
      }
      return { points, windowMs };
    });
const bool = (def: boolean) =>
  z
    .enum(['true', 'false', '1', '0'])
    .default(def ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1');

export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: count(0, 65535, 3000),
  HOST: z.string().default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Where embedded data (PGlite, spawned redis, dev secret) lives. */
  DATA_DIR: z.string().default('./.data'),
  /** Unset: embedded PGlite under DATA_DIR/pg. */
  DATABASE_URL: z.string().url().optional(),
  /** Unset: redis://127.0.0.1:6379 if it answers, else a spawned redis-server. */
  REDIS_URL: z.string().url().optional(),
  /**
   * A Redis Cluster instead: some of its nodes as `host:port`, comma-separated (the rest are
   * discovered). Set, it replaces REDIS_URL.
   */
  REDIS_CLUSTER_NODES: z
    .string()
    .default('')
    .transform(items)
    .pipe(z.array(z.string().regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'each node is host:port'))),
  /** Root of every Redis key, so several deployments (or tests) can share one Redis. */
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default('rv'),
  /** HMAC secret for session tokens; generated once into DATA_DIR outside production. */
  SESSION_SECRET: z.string().min(32).optional(),
  SESSION_TTL_MS: ms(24 * 3600_000),
  /** Creates the first admin operator (operators.bootstrap, `npm run operator:create`); grants nothing else. */
  ADMIN_TOKEN: z.string().min(16).optional(),
  /** How long an operator's console session lasts (a working shift). */
  OPERATOR_SESSION_TTL_MS: ms(12 * 3600_000),
  /** Comma-separated list of allowed WebSocket Origins; empty means same-origin only. */
  ALLOWED_ORIGINS: csv,
  WS_MAX_PAYLOAD: count(1024, 1_048_576, 65_536),

  /** Redis client: how long one command may take, and how fast to retry a reconnect. */
  REDIS_COMMAND_TIMEOUT_MS: ms(2000),
  REDIS_CONNECT_TIMEOUT_MS: ms(2000),
  REDIS_RECONNECT_MAX_MS: ms(2000),

  /** Idle user hashes expire after this long without activity. */
  IDLE_TTL_MS: ms(24 * 3600_000),
  /** Idempotency records for mutations (op ids) are kept this long. */
  IDEMPOTENCY_TTL_MS: ms(10 * 60_000),
  /** Per-user event history kept for resume: bounded by length and age. */
  EVENT_HISTORY_MAX: count(10, 10_000, 500),
  EVENT_HISTORY_TTL_MS: ms(3600_000),

  /** Matching rules. */
  RECENT_PARTNERS_MAX: count(0, 50, 3),
  RECENT_PARTNERS_TTL_MS: ms(10 * 60_000),
  INTEREST_RELAX_MS: ms(5000),
  MATCH_SCAN_LIMIT: count(1, 1000, 100),
  CONNECTING_TIMEOUT_MS: ms(15_000),
  MATCH_SWEEP_INTERVAL_MS: ms(1000),
  /**
   * Honest wait estimates (`queued.estimatedWaitMs`): none (null) unless the pool made at least
   * WAIT_ESTIMATE_MIN_MATCHES matches within the last WAIT_ESTIMATE_WINDOW_MS. A pool keeps its
   * last 100 match times, so the minimum is at most 100.
   */
  WAIT_ESTIMATE_WINDOW_MS: ms(10 * 60_000),
  WAIT_ESTIMATE_MIN_MATCHES: count(2, 100, 5),

  /** Audit drain. */
  OUTBOX_BATCH: count(1, 10_000, 1000),
  OUTBOX_BLOCK_MS: ms(200),
  /** After a part batch, the drain waits this long before reading again (fewer, bigger Postgres transactions). */
  OUTBOX_LINGER_MS: count(0, 10_000, 50),
  OUTBOX_CLAIM_IDLE_MS: ms(30_000),
  OUTBOX_MAX_DELIVERIES: count(1, 100, 5),
  /** Audit retention: event rows are kept at least this many days (whole months are dropped). */
  AUDIT_RETENTION_DAYS: count(1, 3650, 90),
  /**
   * Chat transcripts (what was said, for moderators reading a report) are kept this many days,
   * each message deleted once past it: shorter than the other audit rows, as they are people's words.
   */
  CHAT_RETENTION_DAYS: count(1, 3650, 30),
  /** Monthly partitions created ahead of the current month. */
  AUDIT_PARTITIONS_AHEAD: count(1, 24, 2),
  /** How often the partition/retention job runs. */
  AUDIT_MAINTENANCE_INTERVAL_MS: ms(3600_000),
  /** Audit records spooled to DATA_DIR while Redis is down: cap of the spool file. */
  AUDIT_SPOOL_MAX_BYTES: count(1024, 1024 ** 3, 64 * 1024 ** 2),
  /** How often the spool is drained back into the outbox once Redis answers. */
  AUDIT_SPOOL_RETRY_MS: ms(2000),
  /** Longest an audit XADD may take before the record is spooled instead. */
  AUDIT_APPEND_TIMEOUT_MS: ms(1000),

  /** Presence. */
  HEARTBEAT_INTERVAL_MS: ms(3000),
  HEARTBEAT_TIMEOUT_MS: ms(9000),
  /** A user whose socket dropped in a match (or in the queue) may reconnect within this long. */
  RECONNECT_GRACE_MS: ms(10_000),
  /**
   * ...or this long after a `session.leave` (the page said it is going: a closed tab, a reload):
   * long enough for a reload to reconnect, short enough that the partner is not kept waiting.
   */
  LEAVE_GRACE_MS: ms(2000),
  PRESENCE_SWEEP_INTERVAL_MS: ms(1000),
  /** Maintenance sweep (one leader across processes). */
  CLEANUP_INTERVAL_MS: ms(30_000),
  CLEANUP_LOCK_TTL_MS: ms(60_000),
  CLEANUP_BATCH: count(10, 10_000, 500),
  SHUTDOWN_TIMEOUT_MS: ms(30_000),
  /** Checkpoints of active users and matches to Postgres (leader only), and how far back a rebuild looks. */
  CHECKPOINT_INTERVAL_MS: ms(60_000),
  CHECKPOINT_LOOKBACK_MS: ms(3600_000),

  /**
   * Limits on what one client can make grow (see README, "Limits and hostile clients"). Each
   * refusal is a typed error with a sentence for a person; nothing past a bound is kept.
   * First, the languages and regions a queue may be chosen by (anything else is refused): a
   * bounded set of pools.
   */
  POOL_LANGUAGES: codes('en,es,pt,fr,de,it,nl,pl,ru,uk,tr,ar,fa,hi,bn,id,vi,th,ja,ko,zh'),
  POOL_REGIONS: codes('na,sa,eu,af,me,as,oc'),
  /** A user's event history is also capped in bytes (the oldest events go first). */
  EVENT_HISTORY_MAX_BYTES: count(16_384, 16 * 1024 ** 2, 256 * 1024),
  /** WebRTC descriptions (offers, answers) and ICE candidates one user may relay in one match. */
  SIGNAL_MAX_DESCRIPTIONS: count(1, 1000, 20),
  SIGNAL_MAX_CANDIDATES: count(1, 10_000, 200),
  /** Blocks one user may hold. */
  BLOCKS_MAX_PER_USER: count(1, 100_000, 1000),
  /** Live subscriptions on one WebSocket. */
  WS_MAX_SUBSCRIPTIONS: count(1, 1000, 8),
  /** Open WebSockets per client address and per user, on each server process. */
  // Per address: 256 leaves room for many people behind one NAT (a campus, a mobile carrier).
  WS_MAX_PER_IP: count(1, 100_000, 256),
  // Per user (a session is one tab): room for reconnects while dead sockets wait out HEARTBEAT_TIMEOUT_MS.
  WS_MAX_PER_USER: count(1, 1000, 8),
  /** A WebSocket that has not authenticated within this long is closed. */
  WS_AUTH_TIMEOUT_MS: ms(10_000),
  /**
   * HTTP requests (WebSocket upgrades included) per second from one client address, per process;
   * beyond: 429 before any work. 50 leaves room for a page load and many people behind one NAT.
   */
  HTTP_RATE_PER_IP: count(1, 1_000_000, 50),
  /** Messages per second on one WebSocket; beyond, the socket is closed (4429). Our client sends a few. */
  WS_MESSAGES_PER_SECOND: count(1, 100_000, 50),
  /**
   * Rate limits over every process (server/safety/rate-limits.ts; README, "Safety"). Per client
   * address: new sessions and WebSocket connections (room for many people behind one NAT). Per
   * person: the rest.
   */
  RATE_SESSIONS_PER_IP: rate('30/1m'),
  RATE_CONNECTS_PER_IP: rate('120/1m'),
  RATE_ENQUEUE: rate('30/1m'),
  /** Skips free within the window; past it, SKIP_COOLDOWN_BASE_MS, doubled per refusal in SKIP_STRIKE_WINDOW_MS, up to SKIP_COOLDOWN_MAX_MS. */
  RATE_SKIP: rate('10/1m'),
  SKIP_COOLDOWN_BASE_MS: ms(2000),
  SKIP_COOLDOWN_MAX_MS: ms(60_000),
  SKIP_STRIKE_WINDOW_MS: ms(600_000),
  RATE_CHAT: rate('5/5s'),
  RATE_TYPING: rate('20/10s'),
  /** Camera and microphone changes told to the partner (`signal.media`): like typing, a few per toggle. */
  RATE_MEDIA: rate('20/10s'),
  RATE_SIGNAL: rate('100/10s'),
  RATE_BLOCK: rate('20/10m'),
  RATE_REPORT: rate('5/1h'),
  RATE_APPEALS_PER_IP: rate('5/1h'),
  /** Operator sign-in attempts per address: enough for typos, too few to guess a password. */
  RATE_LOGINS_PER_IP: rate('10/15m'),
  /** `stats.online` (the landing page polls it; the answer is cached per process anyway). */
  RATE_STATS: rate('30/1m'),
  /** `stats.online` is counted at most once per this long per process (every pool's sets in one pipeline). */
  STATS_CACHE_MS: ms(5000),
  /**
   * The operator console (server/ops/): each process builds one overview snapshot this often (every
   * viewer of that process is answered from it), and flushes its funnel counts to Redis at the same time.
   */
  OVERVIEW_INTERVAL_MS: ms(2000),
  /** Each process reads the kill switches (admin.switches) from Redis this often: a switch holds everywhere within it. */
  SWITCHES_POLL_MS: ms(500),
  /** While the tightLimits switch is on, every rate-limited action costs this many points. */
  SWITCH_TIGHT_FACTOR: count(1, 1000, 4),
  /**
   * Proof-of-work challenges on suspicious behaviour (server/safety/challenges.ts; README,
   * "Challenges"): more new sessions from one address than this (below RATE_SESSIONS_PER_IP), more
   * skips by one person than this (far above normal: someone talking skips a few times a minute),
   * or this many rate-limit refusals of one person or address, and the next call asks for an
   * ALTCHA solution first. A solution clears the person (or address) for CHALLENGE_PASS_MS; a
   * challenge must be solved within CHALLENGE_TTL_MS; CHALLENGE_WORK bounds the hashes one takes
   * (about half of it on average: 50,000 SHA-256 is a second or two in a phone's browser).
   */
  CHALLENGE_SESSIONS_PER_IP: rate('10/1m'),
  CHALLENGE_SKIPS: rate('60/10m'),
  CHALLENGE_RATE_REFUSALS: rate('5/10m'),
  CHALLENGE_PASS_MS: ms(600_000),
  CHALLENGE_TTL_MS: ms(120_000),
  CHALLENGE_WORK: count(2, 10_000_000, 50_000),
  /** A person may report a partner while they talk and this long after (server/safety/reports.ts). */
  REPORT_WINDOW_MS: ms(600_000),
  /** Largest frame a report may attach, bytes (it travels in one WebSocket message: keep it under WS_MAX_PAYLOAD). */
  REPORT_SNAPSHOT_MAX_BYTES: count(1024, 4 * 1024 ** 2, 40_960),
  /** An attached frame is forgotten this long after the report (the report itself stays). */
  REPORT_SNAPSHOT_RETENTION_DAYS: count(1, 3650, 30),
  /**
   * Step-up sanctions (server/safety/sanctions.ts): reports about one person from this many
   * distinct reporters within SANCTION_WINDOW_MS put them on low trust for LOW_TRUST_MS (matched
   * only with other low-trust people), and this many ban them for BAN_FIRST_MS, or BAN_REPEAT_MS
   * if they were banned before.
   */
  SANCTION_LOW_TRUST_REPORTS: count(1, 1000, 2),
  SANCTION_BAN_REPORTS: count(1, 1000, 3),
  SANCTION_WINDOW_MS: ms(86_400_000),
  LOW_TRUST_MS: ms(7 * 86_400_000),
  BAN_FIRST_MS: ms(86_400_000),
  BAN_REPEAT_MS: count(1, 365 * 86_400_000, 30 * 86_400_000),
  /**
   * Who speaks tRPC on the WebSocket: `lean`, our handler (server/http/trpc-ws.ts, a fraction of
   * the memory per connection), or `stock`, tRPC's applyWSSHandler (no per-socket subscription bound).
   */
  WS_ADAPTER: z.enum(['lean', 'stock']).default('lean'),
  /** Largest HTTP request body, bytes. */
  HTTP_MAX_BODY_BYTES: count(1024, 16 * 1024 ** 2, 65_536),
  /** Calls in one tRPC batch (HTTP) or one WebSocket message. */
  TRPC_MAX_BATCH: count(1, 1000, 16),
  /** Take the client address (the last X-Forwarded-For entry) and scheme (X-Forwarded-Proto) from the one proxy you run in front. */
  TRUST_PROXY: bool(false),
  /**
   * Under-18s (13-17) may use the service, matched only with each other (pools of their own).
   * Off: they are refused, as under-13s always are (server/safety/age.ts).
   */
  ALLOW_MINORS: bool(false),
  /** /metrics needs `Authorization: Bearer <METRICS_TOKEN>` when set. */
  METRICS_TOKEN: z.string().min(16).optional(),
  /** Serve /metrics on this port only (not on PORT) when set; e.g. a port reachable from inside the network only. */
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),

  /** Error recovery: the Redis and Postgres policies, pool bulkheads, escalations (see server/resilience/env.ts). */
  ...resilienceEnvShape,

  /** Video rooms (LiveKit), and direct WebRTC when LiveKit is absent or its breaker is open. */

  /** LiveKit RoomService URL, http(s)://. Unset (or no key/secret): every call is direct peer-to-peer. */
  LIVEKIT_URL: z.string().url().optional(),
  /** What browsers connect to, ws(s)://; default LIVEKIT_URL with http -> ws. */
  LIVEKIT_CLIENT_URL: z.string().url().optional(),
  LIVEKIT_API_KEY: z.string().min(1).optional(),
  LIVEKIT_API_SECRET: z.string().min(1).optional(),
  /** LiveKit closes a room nobody joined after this many seconds. */
  LIVEKIT_EMPTY_TIMEOUT_S: count(1, 86_400, 30),
  /** ...and a room everyone left after this many seconds (LiveKit's own rejoin window). */
  LIVEKIT_DEPARTURE_TIMEOUT_S: count(1, 86_400, 20),
  /** Join tokens are valid this long: enough to connect, short enough that an old one is soon useless. */
  LIVEKIT_TOKEN_TTL_MS: ms(120_000),
  /** Room records live in Redis this long after their last change (never while a deletion is pending). */
  LIVEKIT_ROOM_TTL_MS: ms(24 * 3600_000),
  /** A participant who left the room may come back within this long before the match ends for disconnect. */
  LIVEKIT_REJOIN_GRACE_MS: ms(10_000),
  /** One RoomService call may take this long. (retries + 1) x this + backoff must stay under CONNECTING_TIMEOUT_MS. */
  LIVEKIT_CALL_TIMEOUT_MS: ms(2000),
  /** Retries of a failed call (3 = up to 4 calls), with exponential backoff from BASE to MAX. */
  LIVEKIT_RETRY_ATTEMPTS: count(0, 10, 3),
  LIVEKIT_RETRY_BASE_MS: ms(100),
  LIVEKIT_RETRY_MAX_MS: ms(1000),
  /** Consecutive failed calls that open the breaker (new matches then use direct mode)... */
  LIVEKIT_BREAKER_THRESHOLD: count(1, 1000, 5),
  /** ...for this long, before one test call. */
  LIVEKIT_BREAKER_HALF_OPEN_MS: ms(10_000),
  /** RoomService calls in flight per process, and how many more may wait (beyond that: direct mode). */
  LIVEKIT_BULKHEAD_LIMIT: count(1, 10_000, 32),
  LIVEKIT_BULKHEAD_QUEUE: count(0, 100_000, 256),
  /** A failed room deletion is retried after BASE, doubling up to MAX, until it succeeds. */
  LIVEKIT_DELETE_RETRY_BASE_MS: ms(1000),
  LIVEKIT_DELETE_RETRY_MAX_MS: ms(60_000),
  LIVEKIT_DELETE_MAX_ATTEMPTS: count(1, 1000, 20),
  /** Room janitor pass: ended matches, deletion retries, departure checks. */
  LIVEKIT_JANITOR_INTERVAL_MS: ms(2000),
  /** Comparison of our rooms with LiveKit's (repairs what lost webhooks left). */
  LIVEKIT_RECONCILE_INTERVAL_MS: ms(30_000),
  /** A webhook event id is remembered this long (LiveKit's signature itself expires after 5 minutes). */
  LIVEKIT_WEBHOOK_DEDUPE_TTL_MS: ms(600_000),
  /** JSON list of RTCIceServer for direct-mode calls, e.g. [{"urls":"stun:stun.l.google.com:19302"}]. */
  ICE_SERVERS: json(parseIceServers, '[]'),
  /** TURN (relay) servers for direct-mode calls, comma-separated turn:/turns: URLs; each user gets credentials of their own (TURN_SECRET). */
  TURN_URLS: csv.pipe(z.array(z.string().regex(/^turns?:[^\s]+$/i, 'each URL is turn: or turns:'))),
  /** coturn's static-auth-secret (use-auth-secret): signs each user's short-lived credentials. */
  TURN_SECRET: z.string().min(16).optional(),
  /** A TURN credential is valid this long from the match: the longest relayed call expected (coturn checks the expiry on every request, refreshes too). */
  TURN_TTL_S: count(60, 7 * 86_400, 3600),
});

export type Config = z.infer<typeof configSchema>;
export { ConfigError };

/** Parse an environment-like record; throws ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = configSchema.safeParse(cleaned);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`Invalid configuration: ${problems}`);
  }
  return parsed.data;
}
